"""Extract-style paths: ``<request: body.user>``, ``<items: 0>``, ``first``/``last``, ranges,
picks, and keys looked up in text."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from urllib.parse import unquote

from aro.vm.errors import ActionError
from aro.vm.values.dates import date_property
from aro.vm.values.json import from_json
from aro.vm.values.model import MISSING, Value, parse_int, type_label
from aro.vm.values.periods import PERIODS


def _reverse_at(items: list, position: int) -> Value:
    return items[len(items) - 1 - position] if 0 <= position < len(items) else MISSING


def _list_element(items: list, specifier: str) -> Value:
    spec = specifier.lower()
    if spec in ("first", "last"):
        return (items[0] if spec == "first" else items[-1]) if items else ""
    if "-" in spec and not spec.startswith("-"):
        bounds = [parse_int(part.strip(" \t")) for part in spec.split("-") if part]
        if len(bounds) == 2 and None not in bounds and min(bounds) >= 0:
            low, high = sorted(bounds)
            found = (_reverse_at(items, i) for i in range(low, high + 1))
            return [item for item in found if item is not MISSING]
    if "," in spec:
        picks = [parse_int(part.strip(" \t")) for part in spec.split(",") if part]
        if any(pick is not None for pick in picks):
            found = (_reverse_at(items, i) for i in picks if i is not None)
            return [item for item in found if item is not MISSING]
    position = parse_int(spec)
    return MISSING if position is None else _reverse_at(items, position)


def select_element(items: list, specifier: str) -> Value:
    """A result specifier applied to a list (Extract): ``first``/``last`` (``""`` if empty),
    reverse index, range ``3-5``, picks ``0,3,7``; an unknown or out-of-range one gives the
    whole list."""
    found = _list_element(items, specifier)
    return items if found is MISSING else found


def _from_text(text: str, key: str) -> Value:
    """A key looked up in text: JSON, ``k=v&…`` form data, ``k: v`` lines, or ``cmd value``."""
    trimmed = text.strip()
    if trimmed[:1] in ("{", "["):
        try:
            parsed = from_json(trimmed)
        except ValueError:
            parsed = None
        if type(parsed) is dict and key in parsed:
            return parsed[key]
        position = parse_int(key)
        if type(parsed) is list and position is not None and 0 <= position < len(parsed):
            return parsed[position]
    if "=" in trimmed and ":" not in trimmed:
        for pair in trimmed.split("&"):
            name, _, value = pair.partition("=")
            if name and value and unquote(name.strip(" \t")) == key:
                return unquote(value.strip(" \t"))
    if ":" in trimmed:
        for line in trimmed.splitlines():
            name, _, value = line.partition(":")
            if name and value and name.strip(" \t").lower() == key.lower():
                return value.strip(" \t")
    command, _, rest = trimmed.partition(" ")
    if rest and command.lower() == key.lower():
        return rest.strip()
    return MISSING


#: The keys of Request's result; a key it lacks is looked up in its body.
HTTP_RESULT_KEYS = frozenset(("body", "headers", "status"))


def _property(value: Value, key: str) -> Value:
    kind = type(value)
    if kind is dict:
        found = value.get(key, MISSING)
        if found is MISSING and value.keys() == HTTP_RESULT_KEYS:
            return _property(value["body"], key)
        return found
    if kind is list:
        return _list_element(value, key)
    if kind is str:
        return _from_text(value, key)
    if kind is bytes:
        return _from_text(value.decode("utf-8", "replace"), key)
    if kind is datetime:
        return date_property(value, key)
    if kind in PERIODS:
        return value.property(key)
    return MISSING


def property_path(value: Value, specifiers: Sequence[str]) -> Value:
    """Walk an object's specifiers (``<request: body.user>``, ``<items: 0>``).

    Dicts by key; lists by reverse index, ``first``/``last``, range ``0-19`` or picks ``0,3,7``;
    strings are read as JSON, ``k=v&…``, ``k: v`` lines or ``cmd value``; dates, date ranges
    and recurrences by property.
    A missing step raises ActionError.
    """
    for key in specifiers:
        found = _property(value, key)
        if found is MISSING:
            raise ActionError(f"Property '{key}' not found on type '{type_label(value)}'")
        value = found
    return value
