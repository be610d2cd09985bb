"""One compiler for user regular expressions: a ``/pattern/flags`` literal (``matches``, ``case``,
Split's ``by``) and a pattern given as a value (``matches`` with a ``{pattern, flags}`` map,
Filter's ``where … matches``, Split) read the flags the same way."""

from __future__ import annotations

import re

import pytest

from aro.vm import expressions, values
from aro.vm.errors import ActionError, EvaluationError

FLAG_SETS = ["", "i", "s", "m", "g", "ismg", "gi", "x", "ix"]

# (pattern, subject, the flag that makes it match; None = matches without any flag)
CASES = [
    ("hello", "HELLO", "i"),
    ("a.b", "a\nb", "s"),
    ("^b", "a\nb", "m"),
    ("b$", "b\na", "m"),
    ("o", "foo", None),
    ("x", "foo", "never"),
]


def expected(needs: str | None, flags: str) -> bool:
    return needs is None or needs in flags


def literal_matches(pattern: str, flags: str, subject: str) -> bool:
    """``<subject> matches /pattern/flags`` as the linker builds it."""
    tree = ("binary", "matches", ("const", subject), ("regex", pattern, flags))
    return expressions.link(tree)(None)


@pytest.mark.parametrize("flags", FLAG_SETS)
@pytest.mark.parametrize(("pattern", "subject", "needs"), CASES)
def test_literal_and_value_patterns_read_flags_alike(pattern, subject, needs, flags) -> None:
    want = expected(needs, flags)
    assert literal_matches(pattern, flags, subject) is want
    assert values.matches(subject, {"pattern": pattern, "flags": flags}) is want
    assert values.matches(subject, pattern, flags) is want
    linked = expressions.link(("regex", pattern, flags))(None)
    assert (linked.search(subject) is not None) is want


@pytest.mark.parametrize("flags", FLAG_SETS)
def test_a_literal_is_the_cached_compiled_pattern(flags: str) -> None:
    literal = expressions.regex_literal("^a+b", flags)
    assert literal is values.compile_regex("^a+b", flags)
    assert literal is expressions.link(("regex", "^a+b", flags))(None)


def test_flag_letters_map_to_re_options() -> None:
    assert values.compile_regex("a", "ismg").flags & (re.I | re.S | re.M) == re.I | re.S | re.M
    assert values.compile_regex("a", "g").flags == values.compile_regex("a", "").flags
    assert values.compile_regex("a", "xyz").flags == values.compile_regex("a", "").flags


def test_an_invalid_pattern_is_each_caller_s_own_outcome() -> None:
    with pytest.raises(re.error):
        values.compile_regex("(", "")
    with pytest.raises(EvaluationError, match=r"Invalid regular expression /\(/"):
        expressions.regex_literal("(", "i")
    assert values.matches("(", "(") is False
    assert values.where_match({"name": "("}, "name", "matches", "(") is False
    with pytest.raises(ActionError, match="Invalid regular expression '\\('"):
        values.split_text("a(b", "(")


def test_split_by_a_literal_keeps_its_flags() -> None:
    literal = expressions.regex_literal("x", "i")
    assert values.split_text("aXbxc", literal) == ["a", "b", "c"]


def test_filter_where_matches_a_literal_keeps_its_flags() -> None:
    literal = expressions.regex_literal("^a", "i")
    names = ["Alice", "bob", "alan"]
    kept = [
        name for name in names if values.where_match({"name": name}, "name", "matches", literal)
    ]
    assert kept == ["Alice", "alan"]
    assert values.where_match({"name": "Alice"}, "name", "matches", "^a") is False
