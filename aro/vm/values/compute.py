"""``Compute``: the table of built-in operations and date offsets."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aro.vm.errors import ActionError
from aro.vm.values.dates import (
    DATE_OFFSET,
    as_date,
    format_date,
    offset_date,
    parse_date,
    required_date,
)
from aro.vm.values.json import to_json
from aro.vm.values.markdown import markdown_to_html
from aro.vm.values.model import Value, finite_int, type_label
from aro.vm.values.sets import difference, intersect, union
from aro.vm.values.text import character_count, describe, first_characters


def _hash(value: Value, _: Value) -> str:
    if type(value) is str:
        text = value
    elif type(value) in (dict, list):
        text = to_json(value).decode()
    else:
        text = describe(value)
    return hashlib.sha256(text.encode()).hexdigest()


def _length(value: Value, _: Value) -> Value:
    if type(value) is str:
        return character_count(value)
    if type(value) in (list, dict):
        return len(value)
    return value


def _count_argument(argument: Value, default: int) -> int:
    count = finite_int(argument)
    return default if count is None else count


def _clip(value: Value, argument: Value) -> str:
    return first_characters(describe(value), _count_argument(argument, 80))


def _take(value: Value, argument: Value) -> Value:
    count = _count_argument(argument, 0)
    if type(value) is list:
        return value[: max(count, 0)]
    if type(value) is str:
        return first_characters(value, count)
    return value


def _to_date(value: Value, _: Value) -> datetime:
    if type(value) is datetime:
        return value
    if type(value) is str:
        parsed = parse_date(value)
        if parsed is None:
            raise ActionError(f"Invalid date format: '{value}'")
        return parsed
    raise ActionError(f"Type mismatch: expected 'String (ISO 8601)', got '{type_label(value)}'")


def _format(value: Value, argument: Value) -> str:
    pattern = argument if type(argument) is str else "MMMM dd, yyyy"
    return format_date(required_date(value), pattern)


def _distance(value: Value, argument: Value) -> dict[str, int]:
    start = required_date(value)
    end = as_date(argument)
    if end is None:
        raise ActionError("'Compute distance' requires a 'to' clause")
    seconds = (end - start).total_seconds()
    units = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400, "weeks": 604800}
    return {name: int(seconds / size) for name, size in units.items()}


_COMPUTE_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "hash": _hash,
    "length": _length,
    "count": _length,
    "uppercase": lambda value, _: describe(value).upper(),
    "lowercase": lambda value, _: describe(value).lower(),
    "trim": lambda value, _: describe(value).strip(),
    "identity": lambda value, _: value,
    "clip": _clip,
    "take": _take,
    "date": _to_date,
    "format": _format,
    "distance": _distance,
    "intersect": intersect,
    "difference": difference,
    "union": union,
    "markdown": lambda value, _: markdown_to_html(describe(value)),
}


def is_compute_op(name: str) -> bool:
    """Whether a result base names a built-in computation (``Compute the <length> from …``)."""
    return name.lower() in _COMPUTE_OPS


def compute(op: str, value: Value, argument: Value = None) -> Value:
    """Run a Compute operation on ``value``; ``argument`` is the ``with``/``to`` operand.

    ``length``/``count`` ``uppercase`` ``lowercase`` ``trim`` ``hash`` ``identity`` ``clip`` (N,
    default 80) ``take`` (N) ``date`` ``format`` (LDML pattern) ``distance`` (to a date:
    ``{seconds, minutes, hours, days, weeks}``) ``intersect`` ``difference`` ``union``
    ``markdown`` and date offsets (``+7d``, ``-3h``). An unknown operation returns the value
    unchanged, as the reference does.
    """
    if DATE_OFFSET.fullmatch(op):
        return offset_date(value, op)
    operation = _COMPUTE_OPS.get(op.lower())
    return value if operation is None else operation(value, argument)
