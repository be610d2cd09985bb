"""Multiset operations behind ``Compute`` intersect, difference and union (lists, strings
by character, maps deeply)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from aro.vm.errors import ActionError
from aro.vm.values.model import Value, type_label
from aro.vm.values.text import characters, describe


def _set_key(value: Value) -> str:
    """Identity of an element for the multiset operations (the description; maps by key)."""
    kind = type(value)
    if kind is dict:
        return "{" + ",".join(f"{k}:{_set_key(value[k])}" for k in sorted(value)) + "}"
    if kind is list:
        return "[" + ",".join(_set_key(item) for item in value) + "]"
    return describe(value)


def strict_equal(a: Value, b: Value) -> bool:
    """Same-typed scalars by value, maps and lists element-wise, anything else by description
    (so Int 3 is not Double 3.0)."""
    ta, tb = type(a), type(b)
    if ta is tb and ta in (int, float, str, bool):
        return a == b
    if ta is dict and tb is dict:
        return a.keys() == b.keys() and all(strict_equal(a[k], b[k]) for k in a)
    if ta is list and tb is list:
        return len(a) == len(b) and all(strict_equal(x, y) for x, y in zip(a, b, strict=True))
    return describe(a) == describe(b)


def _multiset(a: Sequence[Value], b: Sequence[Value], key: Callable, keep_common: bool) -> list:
    """Elements of ``a`` that (keep_common) or that do not (else) consume a count from ``b``."""
    counts: dict[Any, int] = {}
    for item in b:
        k = key(item)
        counts[k] = counts.get(k, 0) + 1
    kept = []
    for item in a:
        k = key(item)
        if counts.get(k, 0) > 0:
            counts[k] -= 1
            if keep_common:
                kept.append(item)
        elif not keep_common:
            kept.append(item)
    return kept


def _nested_set_op(a: dict, b: dict, keep_common: bool) -> dict:
    """Deep intersection (keep_common) or difference of two maps."""
    result = {}
    for key, value in a.items():
        if key not in b:
            if not keep_common:
                result[key] = value
            continue
        other = b[key]
        if type(value) is dict and type(other) is dict:
            nested = _nested_set_op(value, other, keep_common)
        elif type(value) is list and type(other) is list:
            nested = _multiset(value, other, _set_key, keep_common)
        else:
            if strict_equal(value, other) == keep_common:
                result[key] = value
            continue
        if nested:
            result[key] = nested
    return result


def _set_operands(a: Value, b: Value, op: str) -> str:
    if b is None:
        raise ActionError(f"'Compute {op}' requires a 'with' clause")
    for kind in (list, str, dict):
        if type(a) is kind and type(b) is kind:
            return kind.__name__
    raise ActionError(f"Type mismatch: expected 'Array, String, or Object', got '{type_label(a)}'")


def _set_common(a: Value, b: Value, keep_common: bool, op: str) -> Value:
    kind = _set_operands(a, b, op)
    if kind == "list":
        return _multiset(a, b, _set_key, keep_common)
    if kind == "str":
        return "".join(_multiset(characters(a), characters(b), str, keep_common))
    return _nested_set_op(a, b, keep_common)


def _new_items(a: Sequence[Value], b: Sequence[Value], key: Callable) -> list:
    """The items of ``b`` not already in ``a`` (by key), each once, in order."""
    seen = {key(item) for item in a}
    extra = []
    for item in b:
        k = key(item)
        if k not in seen:
            seen.add(k)
            extra.append(item)
    return extra


def intersect(a: Value, b: Value) -> Value:
    """The elements of ``a`` that ``b`` also has, as often as both have them."""
    return _set_common(a, b, True, "intersect")


def difference(a: Value, b: Value) -> Value:
    """The elements of ``a`` left after each one ``b`` has is taken away once."""
    return _set_common(a, b, False, "difference")


def union(a: Value, b: Value) -> Value:
    """``a`` followed by the elements of ``b`` it lacks (maps: ``a`` wins on shared keys)."""
    kind = _set_operands(a, b, "union")
    if kind == "dict":
        return {**b, **a}
    if kind == "str":
        return a + "".join(_new_items(characters(a), characters(b), str))
    return a + _new_items(a, b, _set_key)
