"""The lexer's common-token kernel: the compiled scanner and its pure twin give the same tokens.

Every ``.aro`` file of this repository (and of the reference's repository, when its mirror is
on this machine), seeded mutations of them and generated strings of the characters the kernel
must tell apart are lexed with each build, both by the kernel alone (from many offsets, to
many stops) and by the whole lexer; the token lists, the stopping offsets and the diagnostics
must be equal.  Then each case the kernel hands over, or must not, is checked on its own.
"""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import pytest

from aro.lang import lexer
from aro.lang.diagnostics import DiagnosticSink
from aro.lang.tokens import PUNCTUATION, TokenKind
from tests.support.codec import LEXER_BUILDS, load_build

ROOT = Path(__file__).resolve().parents[2]
REFERENCE_MIRROR = Path("/work/.mirror/arolang+aro/repo")
# What the kernel must tell apart: every ASCII character, whitespace beyond ASCII, letters and
# digits beyond ASCII that '\w' admits (and 'İ', which lower-cases to two characters), and
# characters neither a word nor a space.
ALPHABET = (
    [chr(code) for code in range(128)]
    + list("\u00a0\u2028\u3000\x85")
    + list("éßİǅ²٣ⅻ漢")
    + list("€·\u200b😀")
)
WEIGHTED = "aZ_09 \n\"$\\/*(-.eExXbB" * 4  # the characters of the subtle cases, more often


def scanners() -> dict[str, object]:
    """Each build's scanner, set up as the lexer sets up its own."""
    arguments = (
        lexer._RESERVED_WORDS, PUNCTUATION, TokenKind.IDENT, TokenKind.PUNCT, TokenKind.INT,
        TokenKind.STRING,
    )
    return {
        build: load_build(build, LEXER_BUILDS).CommonScanner(*arguments)
        for build in LEXER_BUILDS
    }


def repository_sources() -> list[str]:
    paths = sorted((ROOT / "examples").rglob("*.aro")) + sorted((ROOT / "tests").rglob("*.aro"))
    assert paths, "the repository's own .aro files"
    return [path.read_text(encoding="utf-8") for path in paths]


def reference_sources() -> list[str]:
    """The reference's ``.aro`` files, read from its bare mirror ([] where it is absent)."""
    if not REFERENCE_MIRROR.is_dir() or shutil.which("git") is None:
        return []
    git = ["git", "-C", str(REFERENCE_MIRROR)]
    names = subprocess.run(
        [*git, "ls-tree", "-r", "-z", "--name-only", "HEAD"],
        capture_output=True, check=True, timeout=60,
    ).stdout.decode().split("\0")
    requests = "".join(f"HEAD:{name}\n" for name in names if name.endswith(".aro"))
    output = subprocess.run(
        [*git, "cat-file", "--batch"], input=requests.encode(),
        capture_output=True, check=True, timeout=60,
    ).stdout
    texts, offset = [], 0
    while offset < len(output):  # "<object> blob <size>\n<content>\n" per file
        header_end = output.index(b"\n", offset)
        size = int(output[offset:header_end].split()[2])
        content = output[header_end + 1 : header_end + 1 + size]
        texts.append(content.decode("utf-8", errors="replace"))
        offset = header_end + 1 + size + 1
    return texts


def mutations(text: str, rng: random.Random, count: int) -> list[str]:
    """``count`` copies of ``text``, each with a few characters inserted, deleted or replaced."""
    mutated = []
    for _ in range(count):
        characters = list(text)
        for _ in range(rng.randint(1, 4)):
            where = rng.randrange(len(characters) + 1)
            inserted = rng.choice(ALPHABET if rng.random() < 0.5 else WEIGHTED)
            operation = rng.randrange(3)
            if operation == 0 or where == len(characters):
                characters.insert(where, inserted)
            elif operation == 1:
                del characters[where]
            else:
                characters[where] = inserted
        mutated.append("".join(characters))
    return mutated


def generated(rng: random.Random, count: int) -> list[str]:
    pools = (ALPHABET, WEIGHTED)
    return [
        "".join(rng.choice(pools[rng.randrange(2)]) for _ in range(rng.randint(1, 40)))
        for _ in range(count)
    ]


def kernel_runs(scanner, text: str, rng: random.Random) -> list[tuple[int, list]]:
    """The kernel's (stopping offset, tokens) from the start and from seeded offsets, to the
    end and to seeded stops."""
    line_starts = lexer._line_starts(text)
    runs = []
    bounds = [(0, len(text))] + [
        sorted((rng.randint(0, len(text)), rng.randint(0, len(text)))) for _ in range(3)
    ]
    for start, stop in bounds:
        tokens: list = []
        runs.append((scanner.scan(text, start, stop, tokens, line_starts), tokens))
    return runs


def lexed(scanner, text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[list, list]:
    """The whole lexer's tokens and diagnostics with ``scanner`` as its kernel."""
    monkeypatch.setattr(lexer, "_COMMON_TOKENS", scanner)
    sink = DiagnosticSink(text, "t.aro")
    return lexer.tokenize(text, sink), sink.diagnostics


def assert_builds_agree(texts: list[str], seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    compiled, pure = scanners().values()
    for index, text in enumerate(texts):
        rng = random.Random(seed + index)
        state = rng.getstate()
        expected = kernel_runs(pure, text, rng)
        rng.setstate(state)
        assert kernel_runs(compiled, text, rng) == expected, text
        assert lexed(compiled, text, monkeypatch) == lexed(pure, text, monkeypatch), text


@pytest.fixture(autouse=True)
def compiled_build() -> None:
    load_build("compiled", LEXER_BUILDS)  # skips every test of this module without it


def test_the_repositorys_files_and_their_mutations(monkeypatch):
    sources = repository_sources()
    rng = random.Random(14)
    texts = sources + [m for text in sources for m in mutations(text, rng, 8)]
    assert_builds_agree(texts, 1, monkeypatch)


def test_the_references_files_and_their_mutations(monkeypatch):
    sources = reference_sources()
    if not sources:
        pytest.skip("the reference's mirror is not on this machine")
    rng = random.Random(18)
    texts = sources + [m for text in sources for m in mutations(text, rng, 4)]
    assert_builds_agree(texts, 2, monkeypatch)


def test_generated_strings(monkeypatch):
    assert_builds_agree(generated(random.Random(4), 3000), 3, monkeypatch)


# -- each subtle case, with both builds -----------------------------------------------------


@pytest.fixture(params=list(LEXER_BUILDS))
def scan(request):
    scanner = scanners()[request.param]

    def scan(text: str, start: int = 0, stop: int | None = None) -> tuple[int, list]:
        tokens: list = []
        stop = len(text) if stop is None else stop
        return scanner.scan(text, start, stop, tokens, lexer._line_starts(text)), tokens

    return scan


def texts_of(tokens: list) -> list[str]:
    return [token[2] for token in tokens]


@pytest.mark.parametrize(
    ("text", "stops_at", "lexemes"),
    [
        ("a (* note *)", 1, ["a"]),  # a block comment is the lexer's
        ("a (b", 4, ["a", "(", "b"]),
        ("(", 1, ["("]),  # '(' at the end: nothing follows to open a comment
        ("x -5", 1, ["x"]),  # a negative number is the lexer's
        ("x -y", 4, ["x", "-", "y"]),
        ("x->y", 4, ["x", "->", "y"]),
        ("a / b", 1, ["a"]),  # a slash or a regex: the lexer decides
        ("12e3", 0, []),
        ("12_000", 0, []),
        ("0x1F", 0, []),
        ("0b1", 0, []),
        ("1.5", 0, []),
        ("12.", 3, ["12", "."]),
        ("12.x", 4, ["12", ".", "x"]),
        ("12a", 3, ["12", "a"]),
        ('"""\nblock\n"""', 0, []),
        ('""', 2, ['""']),
        ('"" x', 4, ['""', "x"]),
        ('"a$b"', 0, []),
        ('"a\\n"', 0, []),
        ('"open', 0, []),
        ('"two\nlines"', 0, []),
        ('"é ok"', 6, ['"é ok"']),
        ("café²_9 x", 9, ["café²_9", "x"]),  # '\w' goes on past ASCII
        ("é", 0, []),  # a word starting beyond ASCII is the lexer's
        ("a\u00a0\u2028b", 4, ["a", "b"]),  # whitespace beyond ASCII
        ("a\x1cb", 3, ["a", "b"]),
        ("a €", 1, ["a"]),
        ("a // note\n  b // end", 13, ["a", "b"]),
        ("a //", 1, ["a"]),  # only whitespace left: stops after the last token
        ("!", 0, []),
        ("!=", 2, ["!="]),
    ],
)
def test_where_the_kernel_stops(scan, text, stops_at, lexemes):
    stop, tokens = scan(text)
    assert (stop, texts_of(tokens)) == (stops_at, lexemes)


def test_every_symbol_is_a_token_but_those_that_need_context(scan):
    for symbol in PUNCTUATION:
        stop, tokens = scan(symbol + " ")
        if symbol == "/":
            assert (stop, tokens) == (0, [])
        else:
            assert [(t[0], t[1]) for t in tokens] == [(TokenKind.PUNCT, symbol)], symbol


def test_words_values_and_positions(scan):
    stop, tokens = scan('The  Value\n  to "x" 42')
    assert stop == 22
    assert tokens == [
        (TokenKind.ARTICLE, "the", "The", 0, 3, 1, 1),
        (TokenKind.IDENT, "Value", "Value", 5, 10, 1, 6),
        (TokenKind.PREPOSITION, "to", "to", 13, 15, 2, 3),
        (TokenKind.STRING, "x", '"x"', 16, 19, 2, 6),
        (TokenKind.INT, 42, "42", 20, 22, 2, 10),
    ]


def test_long_integers_and_words(scan):
    digits = "9" * 40
    word = "precondition" * 3
    _, tokens = scan(f"{digits} {word} PRECONDITION")
    assert [t[1] for t in tokens] == [int(digits), word, "precondition"]


def test_the_kernel_respects_the_stop(scan):
    assert scan("abcd", 0, 2) == (2, [(TokenKind.IDENT, "ab", "ab", 0, 2, 1, 1)])
    assert scan("12.5", 0, 3)[1][0][1] == 12  # the '.5' beyond the stop is not seen
    assert scan("(*", 0, 1)[1][0][1] == "("
    assert scan('"ab"', 0, 3) == (0, [])
    assert scan("x\ny z", 2, 5)[1] == [
        (TokenKind.IDENT, "y", "y", 2, 3, 2, 1),
        (TokenKind.IDENT, "z", "z", 4, 5, 2, 3),
    ]
