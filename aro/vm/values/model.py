"""The value model: which Python type stands for which ARO type, and number coercion.

====================  ==========================================================================
ARO                   Python
====================  ==========================================================================
String                ``str``
Int / Double          ``int`` / ``float`` (``bool`` is never treated as a number)
Bool                  ``bool``
null                  ``None``
List / Map            ``list`` / ``dict`` with ``str`` keys (insertion ordered)
Data                  ``bytes``
Date                  ``datetime.datetime`` with ``tzinfo=UTC``; ``now()`` returns one.  Dates are
                      always UTC (the reference parses every date into GMT) and print as
                      ISO-8601 without fractional seconds: ``2026-01-01T12:00:00Z``.
====================  ==========================================================================
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

Value = Any
MISSING = object()  # "no such property": distinct from a present null
_INT_RE = re.compile(r"[+-]?[0-9]+")


_TYPE_NAMES = {
    str: "String",
    int: "Int",
    float: "Double",
    bool: "Bool",
    type(None): "Null",
    list: "List",
    dict: "Map",
    datetime: "Date",
    bytes: "Data",
}


def type_label(value: Value) -> str:
    """The name of a value's type as error messages show it (``String``, ``Int``, ``Map``…)."""
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def parse_double(text: str) -> float | None:
    """Swift's ``Double(String)``: no surrounding whitespace, no ``_`` separators."""
    if not text or not text.isascii() or text != text.strip() or "_" in text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def parse_int(text: str) -> int | None:
    """Swift's ``Int(String)``: optional sign and ASCII digits only."""
    return int(text) if _INT_RE.fullmatch(text) else None


def as_number(value: Value) -> float | None:
    """Int, Double or numeric String as a float; None for anything else (Bool included)."""
    kind = type(value)
    if kind is int or kind is float:
        return float(value)
    if kind is str:
        return parse_double(value)
    return None


def finite_int(value: Value) -> int | None:
    """An Int or finite Double as an int (Swift's ``Int(double)`` truncation), else None."""
    if type(value) is int:
        return value
    if type(value) is float and math.isfinite(value):
        return int(value)
    return None
