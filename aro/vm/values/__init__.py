"""ARO values and the pure functions over them.

The value model is plain Python:

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

Everything here mirrors what the reference runtime does (ARO-LANGUAGE.md §1, §3.3, §5, §8.3,
§10): ``describe`` is Swift's ``String(describing:)``, ``format_log`` the human Log format,
``to_json`` Foundation's ``JSONSerialization`` with ``.sortedKeys``.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import json
import math
import operator
import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

import orjson

from aro._speedups import JsonShaper
from aro.vm.errors import ActionError, EvaluationError

Value = Any
_MISSING = object()
_INT_RE = re.compile(r"[+-]?[0-9]+")

# ---------------------------------------------------------------------------------------------
# Type names and number coercion


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


def _parse_double(text: str) -> float | None:
    """Swift's ``Double(String)``: no surrounding whitespace, no ``_`` separators."""
    if not text or not text.isascii() or text != text.strip() or "_" in text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _parse_int(text: str) -> int | None:
    """Swift's ``Int(String)``: optional sign and ASCII digits only."""
    return int(text) if _INT_RE.fullmatch(text) else None


def as_number(value: Value) -> float | None:
    """Int, Double or numeric String as a float; None for anything else (Bool included)."""
    kind = type(value)
    if kind is int or kind is float:
        return float(value)
    if kind is str:
        return _parse_double(value)
    return None


def _number(value: Value) -> float:
    number = as_number(value)
    if number is None:
        raise EvaluationError(f"Type mismatch: Cannot convert {type_label(value)} to number")
    return number


def _is_number(value: Value) -> bool:
    kind = type(value)
    return kind is int or kind is float


# ---------------------------------------------------------------------------------------------
# Dates


_DATE_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?(Z|[+-][0-9]{2}:?[0-9]{2})?)?"
)
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def now() -> datetime:
    """The current instant as an ARO date (UTC)."""
    return datetime.now(UTC)


@lru_cache(maxsize=1024)
def parse_date(text: str) -> datetime | None:
    """An ISO-8601 string as a UTC date, or None.

    Accepts what the reference accepts: ``2026-01-01T12:00:00Z`` (optionally with fractional
    seconds or a ``±HH:MM`` offset), ``2026-01-01T12:00:00`` (UTC) and ``2026-01-01``.
    """
    match = _DATE_RE.fullmatch(text.strip(" \t"))
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        parsed = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0")[:6].ljust(6, "0")),
            UTC,
        )
    except ValueError:
        return None
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        parsed -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return parsed


def _as_date(value: Value) -> datetime | None:
    """A Date, or a String that looks like and parses as one (cheap reject first)."""
    kind = type(value)
    if kind is datetime:
        return value
    if kind is str and len(value) >= 10 and value[4:5] == "-" and value[:4].isdigit():
        return parse_date(value)
    return None


def _iso(date: datetime) -> str:
    return date.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _week_of_year(date: datetime) -> int:
    """Gregorian week number as Foundation counts it (weeks start Sunday, week 1 holds Jan 1)."""
    sunday_based = (date.weekday() + 1) % 7
    if (date + timedelta(days=6 - sunday_based)).year > date.year:
        return 1
    jan1 = (datetime(date.year, 1, 1).weekday() + 1) % 7
    return (date.timetuple().tm_yday - 1 + jan1) // 7 + 1


_DATE_PROPERTIES: dict[str, Callable[[datetime], Value]] = {
    "year": lambda d: d.year,
    "month": lambda d: d.month,
    "day": lambda d: d.day,
    "hour": lambda d: d.hour,
    "minute": lambda d: d.minute,
    "second": lambda d: d.second,
    "dayofweek": lambda d: _WEEKDAYS[d.weekday()],
    "dayofyear": lambda d: d.timetuple().tm_yday,
    "weekofyear": _week_of_year,
    "timestamp": lambda d: int(d.timestamp()),
    "iso": _iso,
    "timezone": lambda d: "GMT",
}


def _date_property(date: datetime, name: str) -> Value:
    getter = _DATE_PROPERTIES.get(name.lower())
    return _MISSING if getter is None else getter(date)


_OFFSET_RE = re.compile(
    r"([+-]?[0-9]+)(?:[smhdwMy]|seconds?|minutes?|min|hours?|days?|weeks?|months?|years?)"
)
_OFFSET_UNITS = {
    **dict.fromkeys(("s", "second", "seconds"), "seconds"),
    **dict.fromkeys(("m", "min", "minute", "minutes"), "minutes"),
    **dict.fromkeys(("h", "hour", "hours"), "hours"),
    **dict.fromkeys(("d", "day", "days"), "days"),
    **dict.fromkeys(("w", "week", "weeks"), "weeks"),
    **dict.fromkeys(("month", "months"), "months"),
    **dict.fromkeys(("y", "year", "years"), "years"),
}


def _required_date(value: Value) -> datetime:
    date = _as_date(value)
    if date is None:
        raise ActionError(
            f"Type mismatch: expected 'Date or ISO 8601 String', got '{type_label(value)}'"
        )
    return date


def _add_months(date: datetime, months: int) -> datetime:
    index = date.year * 12 + date.month - 1 + months
    year, month = divmod(index, 12)
    day = min(date.day, calendar.monthrange(year, month + 1)[1])
    return date.replace(year=year, month=month + 1, day=day)


def _offset_date(value: Value, pattern: str) -> datetime:
    """Apply ``+7d``/``-3h``… The unit is matched lower-cased, so ``M`` means minutes, as in
    the reference (its own tests say so)."""
    date = _required_date(value)
    digits = _OFFSET_RE.fullmatch(pattern).group(1)
    amount, unit = int(digits), _OFFSET_UNITS[pattern[len(digits) :].lower()]
    if unit == "months":
        return _add_months(date, amount)
    if unit == "years":
        return _add_months(date, 12 * amount)
    return date + timedelta(**{unit: amount})


# LDML (Unicode date pattern) fields → formatter given the date and the run length.
_LDML_FIELDS: dict[str, Callable[[datetime, int], str]] = {
    "G": lambda d, n: "AD",
    "y": lambda d, n: f"{d.year % 100:02d}" if n == 2 else f"{d.year:0{n}d}",
    "M": lambda d, n: (
        f"{d.month:0{n}d}" if n <= 2 else _MONTHS[d.month - 1][: (3, None, 1)[min(n, 5) - 3]]
    ),
    "d": lambda d, n: f"{d.day:0{n}d}",
    "D": lambda d, n: f"{d.timetuple().tm_yday:0{n}d}",
    "E": lambda d, n: _WEEKDAYS[d.weekday()][: (3, 3, 3, None, 1, 2)[min(n, 6) - 1]],
    "a": lambda d, n: "AM" if d.hour < 12 else "PM",
    "h": lambda d, n: f"{(d.hour % 12) or 12:0{n}d}",
    "H": lambda d, n: f"{d.hour:0{n}d}",
    "k": lambda d, n: f"{d.hour or 24:0{n}d}",
    "K": lambda d, n: f"{d.hour % 12:0{n}d}",
    "m": lambda d, n: f"{d.minute:0{n}d}",
    "s": lambda d, n: f"{d.second:0{n}d}",
    "S": lambda d, n: f"{d.microsecond:06d}"[:n].ljust(n, "0"),
    "Z": lambda d, n: "GMT" if n == 4 else ("Z" if n == 5 else "+0000"),
    "X": lambda d, n: "Z",
    "x": lambda d, n: "+00" if n == 1 else ("+00:00" if n in (3, 5) else "+0000"),
    "z": lambda d, n: "Greenwich Mean Time" if n >= 4 else "GMT",
    "w": lambda d, n: f"{_week_of_year(d):0{n}d}",
    "Q": lambda d, n: f"{(d.month - 1) // 3 + 1:0{n}d}" if n <= 2 else f"Q{(d.month - 1) // 3 + 1}",
}
_LDML_TOKEN = re.compile(r"'((?:[^']|'')*)'|([A-Za-z])\2*|[^A-Za-z']+")


def format_date(date: datetime, pattern: str) -> str:
    """Format a date with a Unicode (LDML) pattern such as ``MMMM dd, yyyy`` (English names)."""
    out = []
    for match in _LDML_TOKEN.finditer(pattern):
        quoted, letter = match.group(1), match.group(2)
        if quoted is not None:
            out.append(quoted.replace("''", "'") if quoted else "'")
        elif letter and letter in _LDML_FIELDS:
            out.append(_LDML_FIELDS[letter](date, len(match.group())))
        else:
            out.append(match.group())
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# Descriptions (interpolation, ++, Transform string) — ARO-LANGUAGE.md §1, §10.3


_QUOTE_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\0"}
_QUOTE_RE = re.compile(r'["\\\x00-\x1f\x7f]')


def _quote_char(match: re.Match[str]) -> str:
    char = match.group()
    return _QUOTE_ESCAPES.get(char) or f"\\u{{{ord(char):x}}}"


def _quote(text: str) -> str:
    """A string as Swift's debugDescription writes it inside a container."""
    return '"' + _QUOTE_RE.sub(_quote_char, text) + '"'


def _describe(value: Value, nested: bool, sort_keys: bool = False) -> str:
    kind = type(value)
    if kind is str:
        return _quote(value) if nested else value
    if kind is bool:
        return "true" if value else "false"
    if kind is int or kind is float:
        return repr(value)
    if value is None:
        return "null"
    if kind is list or kind is tuple:
        return "[" + ", ".join(_describe(item, True, sort_keys) for item in value) + "]"
    if kind is dict:
        if not value:
            return "[:]"
        keys = sorted(value) if sort_keys else value
        return (
            "["
            + ", ".join(f"{_quote(k)}: {_describe(value[k], True, sort_keys)}" for k in keys)
            + "]"
        )
    if kind is datetime:
        return _iso(value)
    if kind is bytes:
        return f"{len(value)} bytes"
    return str(value)


def describe(value: Value) -> str:
    """Swift's ``String(describing:)``: ``80.0``, ``["a", "b"]``, ``["k": 1]``, ``null``, ISO dates.

    Used by ``${}`` interpolation, ``++`` and ``Transform … <s: string>``.
    """
    return value if type(value) is str else _describe(value, False)


# ---------------------------------------------------------------------------------------------
# Human output (Log and the final response line) — ARO-LANGUAGE.md §10


def _log_scalar(value: Value) -> str:
    kind = type(value)
    if kind is str:
        return value
    if kind is float:
        return f"{value:.2f}"
    return describe(value)


def _flatten(data: dict, prefix: str, out: list[tuple[str, str]]) -> None:
    for key, value in data.items():
        full = f"{prefix}.{key}" if prefix else key
        kind = type(value)
        if kind is dict:
            _flatten(value, full, out)
        elif kind is list:
            out.append((full, ", ".join(sorted(_log_scalar(item) for item in value))))
        else:
            out.append((full, _log_scalar(value)))


def _log_lines(data: dict) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    _flatten(data, "", pairs)
    pairs.sort(key=lambda pair: pair[0])
    return pairs


def format_log(value: Value) -> str:
    """A value as ``Log`` prints it in the human context (ARO-LANGUAGE.md §10.1).

    Doubles ``%.2f``; a dict is one ``key: value`` line per leaf (sorted keys, dotted nesting,
    lists sorted and ``, ``-joined); a list of scalars ``[a, b]``; a list holding a dict is its
    elements separated by a blank line.
    """
    kind = type(value)
    if kind is str:
        return value
    if kind is dict:
        return "\n".join(f"{key}: {text}" for key, text in _log_lines(value))
    if kind is list:
        if any(type(item) is dict for item in value):
            return "\n\n".join(format_log(item) for item in value)
        return "[" + ", ".join(format_log(item) for item in value) + "]"
    return _log_scalar(value)


def format_payload_lines(payload: dict) -> list[str]:
    """The ``  key: value`` lines printed under ``[Status] reason`` (ARO-LANGUAGE.md §10.2)."""
    return [f"  {key}: {text}" for key, text in _log_lines(payload)]


# ---------------------------------------------------------------------------------------------
# JSON — ARO-LANGUAGE.md §8.3, ARO-RUNTIME.md §1.6
#
# Key order.  Foundation sorts keys with NSString.compare(options: [.numeric, .caseInsensitive,
# .forcedOrdering], locale: NSLocale.system).  Because a locale is given, the first difference
# is decided by ICU's root collation (CFStringCompareWithOptionsAndLocale hands over to
# _CFCompareStringsWithLocale), with numeric collation on.  So the rule is the root collation:
#   primary:   spaces < punctuation ``_-,;:!?.'"()[]{}@*/\&#%`^+<=>|~$`` < other symbols
#              < digit runs (by numeric value) < letters (case-insensitive, accents folded)
#   tie-break: lowercase before uppercase, then shorter digit runs, then code points.
# E.g. ``user_id`` < ``userId``, ``item2`` < ``item10``, ``alpha`` < ``Zeta``, ``a`` < ``A``.

_PUNCTUATION_RANK = {
    char: rank for rank, char in enumerate("\t\n\x0b\x0c\r _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$")
}
_DIGIT_RUN = re.compile(r"[0-9]+|[^0-9]")


def _collation_key(key: str) -> tuple:
    primary: list[tuple[int, Any]] = []
    case: list[int] = []
    widths: list[int] = []
    for token in _DIGIT_RUN.findall(key):
        if "0" <= token[0] <= "9":
            primary.append((3, int(token)))
            widths.append(len(token))
            continue
        rank = _PUNCTUATION_RANK.get(token)
        if rank is not None:
            primary.append((1, rank))
            continue
        base = unicodedata.normalize("NFD", token)[0]
        if base.isalpha():
            primary.append((4, base.lower()))
            case.append(1 if base.isupper() else 0)
        elif unicodedata.category(token)[0] != "C":
            primary.append((2, ord(token)))
    return (primary, case, widths, key)


def _foundation_order(keys: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(keys, key=_collation_key))


def _json_leaf(value: Value) -> Value:
    """Dates as ISO strings, bytes as base64, anything else as its description."""
    if type(value) is datetime:
        return _iso(value)
    if type(value) is bytes:
        return base64.b64encode(value).decode("ascii")
    return describe(value)


# The value itself when orjson's sorted keys give Foundation order, else a copy in that order
# with integral floats as ints and non-finite floats as null (compiled: it walks every row of
# a repository listing).
_jsonable = JsonShaper(_foundation_order, _json_leaf)


def to_json(value: Value) -> bytes:
    """The one JSON serializer for HTTP bodies and WebSocket broadcasts.

    Compact, keys sorted as Foundation sorts them (see the rule above), ``/`` written ``\\/``,
    integral floats as integers, dates as ISO strings, non-ASCII as raw UTF-8, non-finite
    floats as ``null``.
    """
    data = _jsonable(value)
    presorted = data is value  # code-point order is Foundation order here
    try:
        out = orjson.dumps(data, option=orjson.OPT_SORT_KEYS if presorted else 0)
    except orjson.JSONEncodeError:  # ints beyond 64 bits, lone surrogates
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=presorted)
        out = text.encode("utf-8", "surrogatepass")
    return out.replace(b"/", b"\\/") if b"/" in out else out


def from_json(data: bytes | str) -> Value:
    """Parse JSON text: integer literals become ``int`` (``1.0`` stays a float, as in Foundation),
    ``null`` becomes None. Raises ``ValueError`` when the text is not JSON."""
    return orjson.loads(data)


# ---------------------------------------------------------------------------------------------
# Expression semantics — ARO-LANGUAGE.md §3.3


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
    date_a = _as_date(a)
    if date_a is not None:
        date_b = _as_date(b)
        if date_b is not None:
            return date_a == date_b
    if ta is str and tb is str:
        return False
    if ta is bool and tb is bool:
        return a == b
    return _describe(a, False, True) == _describe(b, False, True)


_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}


def compare(op: str, a: Value, b: Value) -> bool:
    """``< > <= >=`` on numbers (numeric strings included) or dates; else EvaluationError."""
    test = _COMPARISONS[op]
    date_a = _as_date(a)
    if date_a is not None:
        date_b = _as_date(b)
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


def _finite_int(value: Value) -> int | None:
    """An Int or finite Double as an int (Swift's ``Int(double)`` truncation), else None."""
    if type(value) is int:
        return value
    if type(value) is float and math.isfinite(value):
        return int(value)
    return None


def _repeat(text: str, count: Value) -> str | None:
    times = _finite_int(count)
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
    """Arithmetic ``+ - * / % ++`` (ARO-LANGUAGE.md §3.3 with decision 2).

    Numbers are coerced like Swift's ``Double()`` (numeric strings too); Int op Int stays Int;
    ``+`` on two strings concatenates; ``"ab" * 3`` repeats; Int/Int truncates (error on 0);
    ``%`` takes Ints only; ``++`` joins the two descriptions.
    """
    return _BINARY[op](a, b)


def negate(value: Value) -> Value:
    """Unary minus on an Int or Double."""
    if _is_number(value):
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


@lru_cache(maxsize=512)
def _regex(pattern: str, flags: str = "") -> re.Pattern[str]:
    options = 0
    if "i" in flags:
        options |= re.IGNORECASE
    if "s" in flags:
        options |= re.DOTALL
    if "m" in flags:
        options |= re.MULTILINE
    return re.compile(pattern, options)


def matches(value: Value, pattern: Value, flags: str = "") -> bool:
    """``a matches /re/flags`` (or a pattern string, or a ``{pattern, flags}`` map); a non-string
    subject or an invalid pattern is simply no match."""
    if type(pattern) is dict:
        pattern, flags = pattern.get("pattern"), pattern.get("flags") or ""
    if type(value) is not str or type(pattern) is not str:
        return False
    try:
        return _regex(pattern, flags).search(value) is not None
    except re.error:
        return False


_TYPE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: type(v) is str,
    **dict.fromkeys(("number", "integer", "int"), _is_number),
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
        found = _date_property(value, name)
        if found is _MISSING:
            raise EvaluationError(f"Undefined member: {name}")
        return found
    raise EvaluationError(f"Type mismatch: Cannot access member '{name}' on {type_label(value)}")


# ---------------------------------------------------------------------------------------------
# Characters (Swift counts grapheme clusters, not code points)


def _joins(previous: str, char: str, run: int) -> bool:
    """Whether ``char`` continues the grapheme cluster that ends with ``previous``."""
    if previous == "\r" and char == "\n":
        return True
    if unicodedata.category(previous) == "Cc" or unicodedata.category(char) == "Cc":
        return False
    if previous == "\u200d" or char == "\u200d":
        return True
    if "\U0001f1e6" <= char <= "\U0001f1ff":
        return "\U0001f1e6" <= previous <= "\U0001f1ff" and run == 1
    return (
        unicodedata.category(char) in ("Mn", "Me", "Mc")
        or "\ufe00" <= char <= "\ufe0f"
        or "\U0001f3fb" <= char <= "\U0001f3ff"
        or "\U000e0020" <= char <= "\U000e007f"
    )


def _one_code_point_each(text: str) -> bool:
    return text.isascii() and "\r\n" not in text


def characters(text: str) -> list[str]:
    """The text's user-perceived characters (an approximation of Swift's ``Character``)."""
    if _one_code_point_each(text):
        return list(text)
    clusters: list[str] = []
    for char in text:
        if clusters and _joins(clusters[-1][-1], char, len(clusters[-1])):
            clusters[-1] += char
        else:
            clusters.append(char)
    return clusters


def _char_count(text: str) -> int:
    return len(text) if _one_code_point_each(text) else len(characters(text))


def _prefix(text: str, count: int) -> str:
    count = max(count, 0)
    return text[:count] if _one_code_point_each(text) else "".join(characters(text)[:count])


# ---------------------------------------------------------------------------------------------
# Markdown (the built-in subset behind Compute <x: markdown> and the template filter)


def _escape_html(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


_INLINE_MARKDOWN = (
    (re.compile(r"`([^`]+)`"), r"<code>\1</code>"),
    (re.compile(r"\[([^\]]+)\]\(([^)]+)\)"), r'<a href="\2">\1</a>'),
    (re.compile(r"\*\*([^*]+)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"\*([^*]+)\*"), r"<em>\1</em>"),
    (re.compile(r"_([^_]+)_"), r"<em>\1</em>"),
)
_HEADING = re.compile(r"(#{1,6})\s+(.*)$")


def _markdown_inline(text: str) -> str:
    text = _escape_html(text)
    for pattern, replacement in _INLINE_MARKDOWN:
        text = pattern.sub(replacement, text)
    return text


def _markdown_block(block: str) -> str:
    trimmed = block.strip(" \t")
    if trimmed.startswith("```"):
        inner = block.split("\n")[1:]
        if inner and inner[-1].strip(" \t").startswith("```"):
            inner.pop()
        code = _escape_html("\n".join(inner))
        return f"<pre><code>{code}</code></pre>"
    if _HEADING.match(trimmed):
        level = len(trimmed) - len(trimmed.lstrip("#"))
        title = _markdown_inline(trimmed.lstrip("#").strip(" \t"))
        return f"<h{level}>{title}</h{level}>"
    text = _markdown_inline(block.replace("\n", " ").strip(" \t"))
    return f"<p>{text}</p>"


def markdown_to_html(source: str) -> str:
    """Headings, paragraphs, fenced code, **bold**, *italic*, _italic_, `code`, [text](url)."""
    blocks: list[str] = []
    lines: list[str] = []
    fenced = False
    for line in source.split("\n"):
        if line.strip(" \t").startswith("```"):
            lines.append(line)
            fenced = not fenced
        elif not fenced and not line.strip(" \t"):
            if lines:
                blocks.append("\n".join(lines))
                lines = []
        else:
            lines.append(line)
    if lines:
        blocks.append("\n".join(lines))
    return "\n".join(_markdown_block(block) for block in blocks)


# ---------------------------------------------------------------------------------------------
# Compute — ARO-LANGUAGE.md §5.1


def _set_key(value: Value) -> str:
    """Identity of an element for the multiset operations (the description; maps by key)."""
    kind = type(value)
    if kind is dict:
        return "{" + ",".join(f"{k}:{_set_key(value[k])}" for k in sorted(value)) + "}"
    if kind is list:
        return "[" + ",".join(_set_key(item) for item in value) + "]"
    return describe(value)


def _strict_equal(a: Value, b: Value) -> bool:
    """Same-typed scalars by value, maps and lists element-wise, anything else by description
    (so Int 3 is not Double 3.0)."""
    ta, tb = type(a), type(b)
    if ta is tb and ta in (int, float, str, bool):
        return a == b
    if ta is dict and tb is dict:
        return a.keys() == b.keys() and all(_strict_equal(a[k], b[k]) for k in a)
    if ta is list and tb is list:
        return len(a) == len(b) and all(_strict_equal(x, y) for x, y in zip(a, b, strict=True))
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
            if _strict_equal(value, other) == keep_common:
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


def _union(a: Value, b: Value) -> Value:
    kind = _set_operands(a, b, "union")
    if kind == "dict":
        return {**b, **a}
    if kind == "str":
        return a + "".join(_new_items(characters(a), characters(b), str))
    return a + _new_items(a, b, _set_key)


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
        return _char_count(value)
    if type(value) in (list, dict):
        return len(value)
    return value


def _count_argument(argument: Value, default: int) -> int:
    count = _finite_int(argument)
    return default if count is None else count


def _clip(value: Value, argument: Value) -> str:
    return _prefix(describe(value), _count_argument(argument, 80))


def _take(value: Value, argument: Value) -> Value:
    count = _count_argument(argument, 0)
    if type(value) is list:
        return value[: max(count, 0)]
    if type(value) is str:
        return _prefix(value, count)
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
    return format_date(_required_date(value), pattern)


def _distance(value: Value, argument: Value) -> dict[str, int]:
    start = _required_date(value)
    end = _as_date(argument)
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
    "intersect": lambda a, b: _set_common(a, b, True, "intersect"),
    "difference": lambda a, b: _set_common(a, b, False, "difference"),
    "union": _union,
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
    if _OFFSET_RE.fullmatch(op):
        return _offset_date(value, op)
    operation = _COMPUTE_OPS.get(op.lower())
    return value if operation is None else operation(value, argument)


# ---------------------------------------------------------------------------------------------
# Transform — ARO-LANGUAGE.md §5.1


def _to_int(value: Value) -> int:
    parsed = _parse_int(value) if type(value) is str else _finite_int(value)
    if parsed is not None:
        return parsed
    raise ActionError(f"Type mismatch: expected 'Int', got '{type_label(value)}'")


def _to_double(value: Value) -> float:
    kind = type(value)
    if kind is int or kind is float:
        return float(value)
    if kind is str:
        parsed = _parse_double(value)
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


# ---------------------------------------------------------------------------------------------
# Collections — Filter, Sort, Reduce, Group, Split, Join, Merge (ARO-LANGUAGE.md §5.2)


def _in(actual: Value, expected: Value) -> bool:
    if type(expected) is list:
        return any(_strict_equal(actual, item) for item in expected)
    return describe(actual) in [part.strip(" \t") for part in describe(expected).split(",") if part]


def _ordered(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def predicate(actual: Value, expected: Value) -> bool:
        left, right = as_number(actual), as_number(expected)
        if left is not None and right is not None:
            return test(left, right)
        return test(describe(actual), describe(expected))

    return predicate


def _regex_search(actual: Value, expected: Value) -> bool:
    try:
        return _regex(describe(expected)).search(describe(actual)) is not None
    except re.error:
        return False


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


def split_text(text: str, pattern: str, flags: str = "") -> list[str]:
    """Split on a regex: the pieces between matches, empty ones kept; no match → ``[text]``.

    An invalid pattern raises ActionError.
    """
    try:
        regex = _regex(pattern, flags)
    except re.error as exc:
        raise ActionError(f"Invalid regular expression '{pattern}': {exc}") from None
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


# ---------------------------------------------------------------------------------------------
# Extract-style paths — ARO-LANGUAGE.md §3.2 and §5.1 (Extract)


def _reverse_at(items: list, position: int) -> Value:
    return items[len(items) - 1 - position] if 0 <= position < len(items) else _MISSING


def _list_element(items: list, specifier: str) -> Value:
    spec = specifier.lower()
    if spec in ("first", "last"):
        return (items[0] if spec == "first" else items[-1]) if items else ""
    if "-" in spec and not spec.startswith("-"):
        bounds = [_parse_int(part.strip(" \t")) for part in spec.split("-") if part]
        if len(bounds) == 2 and None not in bounds and min(bounds) >= 0:
            low, high = sorted(bounds)
            found = (_reverse_at(items, i) for i in range(low, high + 1))
            return [item for item in found if item is not _MISSING]
    if "," in spec:
        picks = [_parse_int(part.strip(" \t")) for part in spec.split(",") if part]
        if any(pick is not None for pick in picks):
            found = (_reverse_at(items, i) for i in picks if i is not None)
            return [item for item in found if item is not _MISSING]
    position = _parse_int(spec)
    return _MISSING if position is None else _reverse_at(items, position)


def select_element(items: list, specifier: str) -> Value:
    """A result specifier applied to a list (Extract): ``first``/``last`` (``""`` if empty),
    reverse index, range ``3-5``, picks ``0,3,7``; an unknown or out-of-range one gives the
    whole list."""
    found = _list_element(items, specifier)
    return items if found is _MISSING else found


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
        position = _parse_int(key)
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
    return _MISSING


def _property(value: Value, key: str) -> Value:
    kind = type(value)
    if kind is dict:
        return value.get(key, _MISSING)
    if kind is list:
        return _list_element(value, key)
    if kind is str:
        return _from_text(value, key)
    if kind is bytes:
        return _from_text(value.decode("utf-8", "replace"), key)
    if kind is datetime:
        return _date_property(value, key)
    return _MISSING


def property_path(value: Value, specifiers: Sequence[str]) -> Value:
    """Walk an object's specifiers (``<request: body.user>``, ``<items: 0>``).

    Dicts by key; lists by reverse index, ``first``/``last``, range ``0-19`` or picks ``0,3,7``;
    strings are read as JSON, ``k=v&…``, ``k: v`` lines or ``cmd value``; dates by property.
    A missing step raises ActionError.
    """
    for key in specifiers:
        found = _property(value, key)
        if found is _MISSING:
            raise ActionError(f"Property '{key}' not found on type '{type_label(value)}'")
        value = found
    return value
