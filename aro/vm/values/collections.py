"""Collection actions: Filter's ``where``, Sort, Reduce, Group, Split, Join and Merge."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any

from aro.vm.errors import ActionError
from aro.vm.values.model import Value, as_number
from aro.vm.values.regex import compile_regex
from aro.vm.values.sets import strict_equal
from aro.vm.values.text import describe


def _in(actual: Value, expected: Value) -> bool:
    if type(expected) is list:
        return any(strict_equal(actual, item) for item in expected)
    return describe(actual) in [part.strip(" \t") for part in describe(expected).split(",") if part]


def _ordered(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def predicate(actual: Value, expected: Value) -> bool:
        left, right = as_number(actual), as_number(expected)
        if left is not None and right is not None:
            return test(left, right)
        return test(describe(actual), describe(expected))

    return predicate


def _regex_search(actual: Value, expected: Value) -> bool:
    """``where <field> matches /re/flags`` (a compiled literal) or ``matches "re"``."""
    try:
        regex = expected if type(expected) is re.Pattern else compile_regex(describe(expected))
    except re.error:
        return False
    return regex.search(describe(actual)) is not None


def _described(test: Callable[[str, str], bool]) -> Callable[[Any, Any], bool]:
    return lambda actual, expected: test(describe(actual), describe(expected))


_WHERE_OPS: dict[str, Callable[[Any, Any], bool]] = {
    **dict.fromkeys(("is", "==", "equals"), _described(str.__eq__)),
    **dict.fromkeys(("is not", "is-not", "!=", "not-equals"), _described(str.__ne__)),
    **dict.fromkeys((">", "gt"), _ordered(operator.gt)),
    **dict.fromkeys((">=", "gte"), _ordered(operator.ge)),
    **dict.fromkeys(("<", "lt"), _ordered(operator.lt)),
    **dict.fromkeys(("<=", "lte"), _ordered(operator.le)),
    "contains": _described(lambda actual, expected: bool(expected) and expected in actual),
    "starts-with": _described(str.startswith),
    "ends-with": _described(str.endswith),
    "matches": _regex_search,
    "in": _in,
    **dict.fromkeys(("not in", "not-in", "notin"), lambda a, e: not _in(a, e)),
}


def where_match(item: Value, field: str, op: str, expected: Value) -> bool:
    """Filter's ``where <field> op value`` on one item (False when the field is missing).

    Equality compares descriptions; ordering is numeric when both sides are numeric, else it
    compares descriptions; ``in``/``not in`` take a list or a comma-separated string.
    """
    if type(item) is not dict or field not in item:
        return False
    test = _WHERE_OPS.get(op.lower(), _WHERE_OPS["is"])
    return test(item[field], expected)


def sort_values(items: Value, descending: bool = False) -> Value:
    """Sort a list of only Strings, only Ints or only Doubles; anything else is returned as is."""
    if type(items) is not list:
        return items
    kinds = {type(item) for item in items}
    if len(kinds) > 1 or not kinds <= {str, int, float}:
        return items
    return sorted(items, reverse=descending)


def reduce_values(items: Value, func: str, field: str | None = None) -> Value:
    """Reduce's ``sum/avg/min/max`` (always Double), ``count`` (Int), ``first``/``last``.

    Values are taken from ``field`` of dict items (or the items themselves); non-numeric ones
    are skipped. A non-list counts as one item and is otherwise returned unchanged.
    """
    func = func.lower()
    if type(items) is not list:
        return 1 if func == "count" else items
    numbers = [
        number
        for number in (
            as_number(item.get(field) if field and type(item) is dict else item) for item in items
        )
        if number is not None
    ]
    if func == "sum":
        return float(sum(numbers))
    if func in ("avg", "average"):
        return sum(numbers) / len(numbers) if numbers else 0.0
    if func == "min":
        return min(numbers, default=0.0)
    if func == "max":
        return max(numbers, default=0.0)
    if func in ("first", "last"):
        return (items[0] if func == "first" else items[-1]) if items else []
    return len(items)


def group_by(items: Value, field: str) -> dict[str, list]:
    """Group dict items by the description of ``field`` (``(nil)`` when missing)."""
    groups: dict[str, list] = {}
    for item in items if type(items) is list else [items]:
        if type(item) is dict:
            key = describe(item[field]) if field in item else "(nil)"
            groups.setdefault(key, []).append(item)
    return groups


def split_text(text: str, pattern: str | re.Pattern[str], flags: str = "") -> list[str]:
    """Split on a regex: the pieces between matches, empty ones kept; no match → ``[text]``.

    ``pattern`` is a pattern string or a compiled ``/re/flags`` literal (``by /re/``); an
    invalid pattern string raises ActionError.
    """
    if type(pattern) is re.Pattern:
        return _split(text, pattern)
    try:
        regex = compile_regex(pattern, flags)
    except re.error as exc:
        raise ActionError(f"Invalid regular expression '{pattern}': {exc}") from None
    return _split(text, regex)


def _split(text: str, regex: re.Pattern[str]) -> list[str]:
    parts: list[str] = []
    start = 0
    for match in regex.finditer(text):
        parts.append(text[start : match.start()])
        start = match.end()
    if not parts:
        return [text]
    parts.append(text[start:])
    return parts


def join_values(items: Value, separator: str = "") -> str:
    """Join the descriptions of a list's items; a non-list is just described."""
    if type(items) is list:
        return separator.join(describe(item) for item in items)
    return describe(items)


def merge_values(base: Value, source: Value) -> Value:
    """Merge: maps shallow-merged (source wins), lists and strings concatenated, else base."""
    kind = type(base)
    if kind is dict and type(source) is dict:
        return {**base, **source}
    if (kind is list or kind is str) and type(source) is kind:
        return base + source
    return base
