"""Dates: parsing ISO-8601, properties (``<d: year>``), offsets (``+7d``) and LDML formatting."""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache

from aro.vm.errors import ActionError
from aro.vm.values.model import MISSING, Value, type_label

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


def as_date(value: Value) -> datetime | None:
    """A Date, or a String that looks like and parses as one (cheap reject first)."""
    kind = type(value)
    if kind is datetime:
        return value
    if kind is str and len(value) >= 10 and value[4:5] == "-" and value[:4].isdigit():
        return parse_date(value)
    return None


def iso(date: datetime) -> str:
    """A date as ARO prints it: ISO-8601 in UTC, whole seconds (``2026-01-01T12:00:00Z``).

    Answers are remembered for dates with a fixed offset (every ``<now>`` and parsed date):
    a stored row's date is written again on every listing that holds it, and ``strftime``
    costs about fifty times a lookup.  Equal such dates are the same instant, so they share
    a text; a naive or zone-ruled date (whose instant depends on ``fold``, which equality
    ignores) is formatted each time."""
    text = _iso_texts.get(date) if type(date.tzinfo) is timezone else None
    if text is None:
        text = date.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if type(date.tzinfo) is timezone:
            if len(_iso_texts) >= _ISO_TEXTS_KEPT:
                _iso_texts.clear()
            _iso_texts[date] = text
    return text


_ISO_TEXTS_KEPT = 4096  # enough for every date of a busy listing; cleared whole when full
_iso_texts: dict[datetime, str] = {}


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
    "iso": iso,
    "timezone": lambda d: "GMT",
}


def date_property(date: datetime, name: str) -> Value:
    """``<d: year>``, ``<d: dayOfWeek>``… (case-insensitive); ``MISSING`` for an unknown name."""
    getter = _DATE_PROPERTIES.get(name.lower())
    return MISSING if getter is None else getter(date)


DATE_OFFSET = re.compile(
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


def required_date(value: Value) -> datetime:
    """A Date or ISO-8601 String as a date; ActionError for anything else."""
    date = as_date(value)
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


def offset_date(value: Value, pattern: str) -> datetime:
    """Apply ``+7d``/``-3h``… The unit is matched lower-cased, so ``M`` means minutes, as in
    the reference (its own tests say so)."""
    date = required_date(value)
    digits = DATE_OFFSET.fullmatch(pattern).group(1)
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
