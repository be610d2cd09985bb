"""Fuzzing the ARO front end: any text given to the compiler ends in a Program or in an
AroSyntaxError whose diagnostics point at file:line:col, never in another exception or a hang.

Inputs are token soups of the language (verbs, articles, prepositions, ``<...>`` nouns with
specifiers, strings with escapes and ``${}``, regex literals, numbers, comments, brackets in
any balance, non-ASCII, NUL), statements shaped like the real ones, and the example
applications cut and spliced at random. Runs of brackets, operators and blocks cross the
nesting limit: the parser must answer "nesting too deep", not overflow the stack
(tests/lang/test_nesting.py holds the deterministic cases).

The CI budget is a few seconds; ``ARO_FUZZ_EXAMPLES=100000 pytest tests/fuzz/test_fuzz_aro.py``
runs a long hunt with fresh randomness (tests/fuzz/budget.py).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from aro.lang.bytecode import Program
from aro.lang.compiler import compile_source
from aro.lang.diagnostics import AroSyntaxError
from aro.lang.parser import parse_expression
from aro.lang.tokens import ARTICLES, KEYWORDS, PREPOSITIONS, PUNCTUATION
from aro.lang.verbs import VERBS
from tests.fuzz.budget import fuzz_settings, no_hang

FILENAME = "fuzz.aro"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE_SOURCES = sorted(path.read_text() for path in EXAMPLES.glob("*/*.aro"))

words = st.sampled_from(
    sorted(verb.capitalize() for verb in VERBS)
    + sorted(ARTICLES | PREPOSITIONS | KEYWORDS)
    + ["Application-Start", "Application-End", "Success", "Handler", "ns.Verb", "x", "é", "日本"]
)
specifiers = st.sampled_from(["", ": uppercase", ": status", ": event", ": Int", ": a.b.c", ":"])
nouns = st.builds(
    lambda article, name, spec: f"{article}<{name}{spec}>",
    st.sampled_from(["", "the ", "a "]),
    st.sampled_from(["x", "user-name", "request: body", "OK", "", "<", "a b", "x."]),
    specifiers,
)
escapes = st.sampled_from(
    ["\\n", "\\t", '\\"', "\\\\", "\\u{1F600}", "\\u{}", "\\u{FFFFFFFF}", "\\q", "\\"]
)
string_bodies = st.lists(
    st.one_of(
        st.text(max_size=6),
        escapes,
        st.sampled_from(["${x}", "${<x> + 1}", "${", "${}", "${${x}}", "$", "}", '${"a"}']),
    ),
    max_size=5,
).map("".join)
strings = st.one_of(
    string_bodies.map(lambda body: f'"{body}"'),
    string_bodies.map(lambda body: f'"""\n{body}\n"""'),
    st.text(max_size=8).map(lambda body: f"'{body}'"),
    st.sampled_from(['"', '"""', "'", '"unterminated\n']),
)
regexes = st.builds(
    lambda body, flags: f"/{body}/{flags}",
    st.sampled_from(["a+", "[", "(", "\\d{2,}", "", "\\/", "(?P<x>.)"]),
    st.sampled_from(["", "i", "smg", "z"]),
)
numbers = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["0x", "0xFF", "0b102", "1_000", "1e", "1e999", "1.", ".5", "-", "08"]),
)
comments = st.sampled_from(["// note\n", "(* block *)", "(* unterminated", "(* (* *) *)", "//"])
oddities = st.one_of(
    st.sampled_from(["\x00", "\t", "\r", "\r\n", "\ufeff", "\u2028", "!", "#", "`", "~", "\\"]),
    st.characters(),
    st.integers(1, 5000).map(lambda n: "x" * n),  # very long lines and identifiers
)
# Runs of openers and operators deep enough to cross the parser's nesting limit, and of
# characters that are each an error.
deep_runs = st.builds(
    lambda unit, count: unit * count,
    st.sampled_from(
        ["(", "[", "{a: ", "-(", "not ", " + 1", "[1]", " exists", "while <x> {\n", "#"]
    ),
    st.integers(1, 300),
)
tokens = st.one_of(
    words,
    nouns,
    strings,
    regexes,
    numbers,
    comments,
    st.sampled_from(PUNCTUATION),
    oddities,
    deep_runs,
)
separators = st.sampled_from([" ", " ", "\n", "", "\n    "])


@st.composite
def token_soup(draw) -> str:
    parts = draw(st.lists(st.tuples(tokens, separators), max_size=40))
    return "".join(token + separator for token, separator in parts)


@st.composite
def statement_shaped(draw) -> str:
    """Feature sets whose statements have the usual shape but random parts."""
    statements = []
    for _ in range(draw(st.integers(0, 4))):
        verb = draw(words)
        parts = draw(st.lists(st.one_of(nouns, tokens), min_size=1, max_size=6))
        statements.append(f"    {verb} {' '.join(parts)}{draw(st.sampled_from(['.', '', '..']))}")
    header = draw(st.sampled_from(["Application-Start: T", "Handler: x Handler", "a:", ""]))
    return f"({header}) {{\n" + "\n".join(statements) + "\n}\n"


@st.composite
def spliced_example(draw) -> str:
    """An example application with a random range replaced by random tokens."""
    source = draw(st.sampled_from(EXAMPLE_SOURCES))
    start = draw(st.integers(0, len(source)))
    stop = draw(st.integers(start, min(len(source), start + 200)))
    return source[:start] + draw(token_soup()) + source[stop:]


def assert_diagnostics_point_into(error: AroSyntaxError, text: str) -> None:
    assert error.diagnostics
    line_count = text.count("\n") + 1
    for diagnostic in error.diagnostics:
        span = diagnostic.span
        assert span.file == FILENAME
        assert 1 <= span.line <= line_count and span.col >= 1, str(diagnostic)
        assert str(diagnostic).startswith(f"{FILENAME}:{span.line}:{span.col}: error: ")


def assert_defined_outcome(text: str) -> None:
    """Compiling ``text`` gives a Program or diagnostics that each point into the text."""
    try:
        with no_hang():
            program = compile_source(text, FILENAME)
    except AroSyntaxError as error:
        assert_diagnostics_point_into(error, text)
    else:
        assert isinstance(program, Program)


@fuzz_settings(ci=300)
@given(token_soup())
def test_token_soup(text: str) -> None:
    assert_defined_outcome(text)


@fuzz_settings(ci=200)
@given(statement_shaped())
def test_statement_shaped_feature_sets(text: str) -> None:
    assert_defined_outcome(text)


@fuzz_settings(ci=150)
@given(spliced_example())
def test_spliced_examples(text: str) -> None:
    assert_defined_outcome(text)


@fuzz_settings(ci=200)
@given(token_soup())
def test_expressions(text: str) -> None:
    """``parse_expression``, which templates use for their ``{{ }}`` parts."""
    try:
        with no_hang():
            parse_expression(text, FILENAME)
    except AroSyntaxError as error:
        assert_diagnostics_point_into(error, text)


@fuzz_settings(ci=100)
@given(st.text(max_size=300))
def test_any_text(text: str) -> None:
    assert_defined_outcome(text)


HOSTILE_FILES = {
    "nul.aro": "(Application-Start: T) {\n    Log \x00 to the <console>.\n}\n",
    "deep.aro": "(Application-Start: T) {\n    Compute the <x> from " + "(" * 100_000 + ".\n}\n",
    "long.aro": "(Application-Start: T) {\n    Log " + '"' + "x" * 1_000_000 + "\n}\n",
    "garbage.aro": "(Application-Start: T) {\n" + "x" * 100_000 + "#" * 50 + "\n}\n",
    "unbalanced.aro": '(Application-Start: T) {{{{ [[[ <<< ${ "${" /[/ (* \n',
}


def test_aro_check_prints_diagnostics_without_a_traceback(tmp_path: Path) -> None:
    for name, text in HOSTILE_FILES.items():
        (tmp_path / name).write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "aro", "check", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    for name in HOSTILE_FILES:
        assert f"{tmp_path / name}:2:" in result.stdout
    assert "error(s) found" in result.stdout
