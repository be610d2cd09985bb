"""Nesting beyond MAX_NESTING is a diagnostic, not a RecursionError (docs/decisions.md,
decision 22); found by tests/fuzz/test_fuzz_aro.py."""

from __future__ import annotations

import pytest

from aro.lang import format_source, parse_source
from aro.lang.compiler import compile_source
from aro.lang.diagnostics import AroSyntaxError
from aro.lang.parser import MAX_NESTING


def program(expression: str) -> str:
    return f"(Application-Start: T) {{\n    Compute the <x> from {expression}.\n}}\n"


def nested_loops(depth: int) -> str:
    body = "while <x> > 0 {\n" * depth + "Log <x> to the <console>.\n" + "}\n" * depth
    return f"(Application-Start: T) {{\n{body}}}\n"


# Sources nested (or chained) ``depth`` deep, one per construct that nests the tree.
DEEP = {
    "parentheses": lambda depth: program("(" * depth + "1" + ")" * depth),
    "lists": lambda depth: program("[" * depth + "1" + "]" * depth),
    "maps": lambda depth: program("{a: " * depth + "1" + "}" * depth),
    "negations": lambda depth: program("-" * depth + "1"),
    "operator chain": lambda depth: program("<x>" + " + 1" * depth),
    "index chain": lambda depth: program("<x>" + "[1]" * depth),
    "interpolation": lambda depth: program('"${' + "(" * depth + "1" + ")" * depth + '}"'),
    "blocks": nested_loops,
}


@pytest.mark.parametrize("construct", DEEP)
def test_nesting_too_deep_is_reported_where_it_crosses_the_limit(construct: str) -> None:
    with pytest.raises(AroSyntaxError) as raised:
        compile_source(DEEP[construct](MAX_NESTING * 10), "deep.aro")
    (diagnostic,) = raised.value.diagnostics
    assert diagnostic.message.startswith("nesting too deep: more than 100 levels")
    assert diagnostic.span.file == "deep.aro" and diagnostic.span.line >= 2


@pytest.mark.parametrize("construct", DEEP)
def test_nesting_within_the_limit_compiles_and_prints(construct: str) -> None:
    source = DEEP[construct](MAX_NESTING - 5)
    compile_source(source)
    assert format_source(parse_source(source))
