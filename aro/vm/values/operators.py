"""Expression semantics: truthiness, ``==``, ordering, arithmetic, ``contains``, ``matches``,
``is`` type checks, ``[i]`` and ``.name``."""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aro.vm.errors import EvaluationError
from aro.vm.values.dates import as_date, date_property
from aro.vm.values.model import MISSING, Value, as_number, finite_int, type_label
from aro.vm.values.regex import compile_regex
from aro.vm.values.text import describe, describe_sorted


def _number(value: Value) -> float:
    number = as_number(value)
    if number is None:
        raise EvaluationError(f"Type mismatch: Cannot convert {type_label(value)} to number")
    return number


def is_number(value: Value) -> bool:
    """An integer or a float (a bool is neither)."""
    kind = type(value)
    return kind is int or kind is float


def truthy(value: Value) -> bool:
    """Bool as is; Int ≠ 0; non-empty String; non-empty List; anything else (null too) true."""
    kind = type(value)
    if kind is bool:
        return value
    if kind is int:
        return value != 0
    if kind is str or kind is list:
        return len(value) > 0
    return True


def equals(a: Value, b: Value) -> bool:
    """``==``: null-aware, ISO-date strings as dates, Int/Double cross-compare, else the
    descriptions (dict keys sorted so that equal maps compare equal)."""
    if a is None or b is None:
        return a is None and b is None
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return a == b
    if ta is str and tb is str and a == b:
        return True
    date_a = as_date(a)
    if date_a is not None:
        date_b = as_date(b)
        if date_b is not None:
            return date_a == date_b
    if ta is str and tb is str:
        return False
    if ta is bool and tb is bool:
        return a == b
    return describe_sorted(a) == describe_sorted(b)


_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}


def compare(op: str, a: Value, b: Value) -> bool:
    """``< > <= >=`` on numbers (numeric strings included) or dates; else EvaluationError."""
    test = _COMPARISONS[op]
    date_a = as_date(a)
    if date_a is not None:
        date_b = as_date(b)
        if date_b is not None:
            return test(date_a, date_b)
    return test(_number(a), _number(b))


def _divide(a: Value, b: Value) -> Value:
    if type(a) is int and type(b) is int:
        if b == 0:
            raise EvaluationError("Runtime error: Division by zero")
        quotient = abs(a) // abs(b)
        return quotient if (a < 0) == (b < 0) else -quotient
    left, right = _number(a), _number(b)
    if right != 0:
        return left / right
    if left == 0 or math.isnan(left):
        return math.nan
    return math.copysign(math.inf, left) * math.copysign(1.0, right)


def _modulo(a: Value, b: Value) -> int:
    if type(a) is not int or type(b) is not int:
        raise EvaluationError("Type mismatch: Expected integers for modulo operation")
    if b == 0:
        raise EvaluationError("Runtime error: Division by zero")
    remainder = abs(a) % abs(b)
    return remainder if a >= 0 else -remainder


def _repeat(text: str, count: Value) -> str | None:
    times = finite_int(count)
    return None if times is None else text * max(0, times)


def _multiply(a: Value, b: Value) -> Value:
    if type(a) is str:
        repeated = _repeat(a, b)
        if repeated is not None:
            return repeated
    if type(b) is str:
        repeated = _repeat(b, a)
        if repeated is not None:
            return repeated
    return _arithmetic(a, b, operator.mul)


def _arithmetic(a: Value, b: Value, op: Callable[[Any, Any], Any]) -> Value:
    if type(a) is int and type(b) is int:
        return op(a, b)
    return op(_number(a), _number(b))


def _add(a: Value, b: Value) -> Value:
    if type(a) is str and type(b) is str:
        return a + b
    return _arithmetic(a, b, operator.add)


_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": _add,
    "-": lambda a, b: _arithmetic(a, b, operator.sub),
    "*": _multiply,
    "/": _divide,
    "%": _modulo,
    "++": lambda a, b: describe(a) + describe(b),
}


def binary(op: str, a: Value, b: Value) -> Value:
    """Arithmetic ``+ - * / % ++`` (docs/semantics.md, Expressions; docs/decisions.md, decision 2).

    Numbers are coerced like Swift's ``Double()`` (numeric strings too); Int op Int stays Int;
    ``+`` on two strings concatenates; ``"ab" * 3`` repeats; Int/Int truncates (error on 0);
    ``%`` takes Ints only; ``++`` joins the two descriptions.
    """
    return _BINARY[op](a, b)


def negate(value: Value) -> Value:
    """Unary minus on an Int or Double."""
    if is_number(value):
        return -value
    raise EvaluationError(f"Type mismatch: Cannot negate {type_label(value)}")


def contains(container: Value, element: Value) -> bool:
    """``a contains b``: list membership (``==``), substring, or dict key."""
    kind = type(container)
    if kind is list:
        return any(equals(item, element) for item in container)
    if (kind is str or kind is dict) and type(element) is str:
        return element in container
    return False


def matches(value: Value, pattern: Value, flags: str = "") -> bool:
    """``a matches /re/flags`` (or a pattern string, or a ``{pattern, flags}`` map); a non-string
    subject or an invalid pattern is simply no match."""
    if type(pattern) is dict:
        pattern, flags = pattern.get("pattern"), pattern.get("flags") or ""
    if type(value) is not str or type(pattern) is not str:
        return False
    try:
        return compile_regex(pattern, flags).search(value) is not None
    except re.error:
        return False


_TYPE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: type(v) is str,
    **dict.fromkeys(("number", "integer", "int"), is_number),
    **dict.fromkeys(("float", "double"), lambda v: type(v) is float),
    **dict.fromkeys(("boolean", "bool"), lambda v: type(v) is bool),
    **dict.fromkeys(("list", "array"), lambda v: type(v) is list),
    **dict.fromkeys(("map", "dictionary", "object"), lambda v: type(v) is dict),
    **dict.fromkeys(("null", "nil", "none"), lambda v: v is None),
    "true": lambda v: equals(v, True),
    "false": lambda v: equals(v, False),
}


def type_check(value: Value, type_name: str) -> bool:
    """``x is String|Number|Integer|Float|Boolean|List|Map|Object|Null`` and ``is true/false/null``
    (the latter are ``==`` comparisons, as in the reference). Integer means any number."""
    check = _TYPE_CHECKS.get(type_name.lower())
    return check is not None and check(value)


def index(value: Value, i: Value) -> Value:
    """``value[i]``: lists reverse-indexed (0 = last), dicts by string key."""
    if type(value) is list and type(i) is int:
        if not 0 <= i < len(value):
            raise EvaluationError(f"Index {i} out of bounds (count: {len(value)})")
        return value[len(value) - 1 - i]
    if type(value) is dict and type(i) is str:
        if i in value:
            return value[i]
        raise EvaluationError(f"Undefined member: {i}")
    raise EvaluationError(
        f"Type mismatch: Cannot subscript {type_label(value)} with {type_label(i)}"
    )


def member(value: Value, name: str) -> Value:
    """``value.name`` / ``<value: name>``: a dict key or a date property."""
    if type(value) is dict:
        if name in value:
            return value[name]
        raise EvaluationError(f"Undefined member: {name}")
    if type(value) is datetime:
        found = date_property(value, name)
        if found is MISSING:
            raise EvaluationError(f"Undefined member: {name}")
        return found
    raise EvaluationError(f"Type mismatch: Cannot access member '{name}' on {type_label(value)}")
