"""``Transform``: conversions between value types (``<n: int>``, ``<s: string>``, ``<j: json>``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aro.vm.errors import ActionError
from aro.vm.values.json import to_json
from aro.vm.values.model import Value, finite_int, parse_double, parse_int, type_label
from aro.vm.values.text import describe


def _to_int(value: Value) -> int:
    parsed = parse_int(value) if type(value) is str else finite_int(value)
    if parsed is not None:
        return parsed
    raise ActionError(f"Type mismatch: expected 'Int', got '{type_label(value)}'")


def _to_double(value: Value) -> float:
    kind = type(value)
    if kind is int or kind is float:
        return float(value)
    if kind is str:
        parsed = parse_double(value)
        if parsed is not None:
            return parsed
    raise ActionError(f"Type mismatch: expected 'Double', got '{type_label(value)}'")


def _to_bool(value: Value) -> bool:
    kind = type(value)
    if kind is bool:
        return value
    if kind is str:
        return value.lower() == "true" or value == "1"
    if kind is int:
        return value != 0
    return False


_CONVERSIONS: dict[str, Callable[[Any], Any]] = {
    "string": describe,
    **dict.fromkeys(("int", "integer"), _to_int),
    **dict.fromkeys(("double", "float"), _to_double),
    **dict.fromkeys(("bool", "boolean"), _to_bool),
    "json": lambda value: to_json(value).decode() if type(value) is dict else "{}",
}


def convert(type_name: str, value: Value) -> Value:
    """Transform conversions: string int integer double float bool boolean json identity.

    Unknown names (``identity`` included) return the value unchanged; a String that is not an
    Int/Double raises ActionError. ``json`` writes a map (anything else gives ``{}``).
    """
    conversion = _CONVERSIONS.get(type_name.lower())
    return value if conversion is None else conversion(value)
