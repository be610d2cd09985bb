"""Date ranges and recurrences: ``Create the <r: date-range> from <a> to <b>`` and
``Create the <s: recurrence> with "every second monday"``.

A range is two dates; its spans (``seconds`` … ``weeks``) are whole units of the absolute
distance, truncated.  A recurrence is a pattern and a start date (the creation time unless a
``from`` date is given).  Interval patterns (``every 2 weeks``) repeat from the start date in
steps of the interval; weekday patterns (``every monday``, ``every last friday``, ``every
second monday``) are dateutil ``rrule`` rules at the start's time of day.  ``next`` and
``previous`` are the occurrences nearest to the moment they are read.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta
from dateutil.rrule import FR, MO, MONTHLY, SA, SU, TH, TU, WE, WEEKLY, rrule, weekday

from aro.vm.errors import ActionError
from aro.vm.values.dates import iso, now
from aro.vm.values.model import MISSING, Value

UPCOMING_COUNT = 10  # how many dates the ``occurrences`` property lists

# -- ranges ------------------------------------------------------------------------------------

_SPAN_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400, "weeks": 604800}


@dataclass(frozen=True, slots=True)
class DateRange:
    start: datetime
    end: datetime

    def __str__(self) -> str:
        return f"{iso(self.start)} to {iso(self.end)}"

    def span(self, unit: str) -> int:
        """Whole ``unit``s (seconds … weeks) between the two dates, in either order."""
        return int(abs((self.end - self.start).total_seconds()) // _SPAN_SECONDS[unit])

    def contains(self, date: datetime) -> bool:
        low, high = sorted((self.start, self.end))
        return low <= date <= high

    def property(self, name: str) -> Value:
        key = name.lower()
        if key in ("start", "end"):
            return self.start if key == "start" else self.end
        return self.span(key) if key in _SPAN_SECONDS else MISSING


# -- recurrences -------------------------------------------------------------------------------

# Unit words of an interval → the relativedelta field one unit adds.
_UNITS = {
    **dict.fromkeys(("s", "sec", "second", "seconds"), "seconds"),
    **dict.fromkeys(("m", "min", "minute", "minutes"), "minutes"),
    **dict.fromkeys(("h", "hr", "hour", "hours"), "hours"),
    **dict.fromkeys(("d", "day", "days"), "days"),
    **dict.fromkeys(("w", "wk", "week", "weeks"), "weeks"),
    **dict.fromkeys(("mo", "month", "months"), "months"),
    **dict.fromkeys(("y", "yr", "year", "years"), "years"),
}
_WEEKDAYS: dict[str, weekday] = {
    **dict.fromkeys(("monday", "mon"), MO),
    **dict.fromkeys(("tuesday", "tue", "tues"), TU),
    **dict.fromkeys(("wednesday", "wed"), WE),
    **dict.fromkeys(("thursday", "thu", "thur", "thurs"), TH),
    **dict.fromkeys(("friday", "fri"), FR),
    **dict.fromkeys(("saturday", "sat"), SA),
    **dict.fromkeys(("sunday", "sun"), SU),
}
_ORDINAL_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "last": -1}
_NUMBERED = re.compile(r"([0-9]+)(?:st|nd|rd|th)")
# A weekday rule is anchored this far before its start, so ``previous`` finds a date.
_WEEKDAY_LOOKBACK = relativedelta(years=1)


def _ordinal(word: str) -> int | None:
    """``second``/``2nd`` → 2, ``last`` → -1; None for anything else."""
    if word in _ORDINAL_WORDS:
        return _ORDINAL_WORDS[word]
    numbered = _NUMBERED.fullmatch(word)
    return int(numbered.group(1)) if numbered else None


def _count(word: str) -> int | None:
    """``2`` or ``2nd`` as an interval count."""
    if word.isascii() and word.isdigit():
        return int(word)
    numbered = _NUMBERED.fullmatch(word)
    return int(numbered.group(1)) if numbered else None


@dataclass(frozen=True, slots=True)
class _Interval:
    """Every ``count`` ``unit``s from the start date (months and years clamp the day)."""

    count: int
    unit: str

    def step(self, steps: int) -> relativedelta:
        return relativedelta(**{self.unit: self.count * steps})

    def after(self, start: datetime, moment: datetime) -> datetime:
        steps = self._steps_until(start, moment)
        while start + self.step(steps) <= moment:
            steps += 1
        while steps > 0 and start + self.step(steps - 1) > moment:
            steps -= 1
        return start + self.step(steps)

    def before(self, start: datetime, moment: datetime) -> datetime:
        steps = self._steps_until(start, moment)
        while start + self.step(steps) >= moment:
            steps -= 1
        while start + self.step(steps + 1) < moment:
            steps += 1
        return start + self.step(steps)

    def _steps_until(self, start: datetime, moment: datetime) -> int:
        """A close first guess of how many steps lead from ``start`` to ``moment``."""
        if self.unit in ("months", "years"):
            months = (moment.year - start.year) * 12 + moment.month - start.month
            per_step = self.count * (12 if self.unit == "years" else 1)
            return months // per_step
        one_step = timedelta(**{self.unit: self.count})
        return (moment - start) // one_step


@dataclass(frozen=True, slots=True)
class _WeekdayRule:
    """A weekday every week, or its n-th (or last) one in each month, as an rrule."""

    day: weekday
    nth: int | None  # None: every week

    def rule(self, start: datetime) -> rrule:
        anchor = start - _WEEKDAY_LOOKBACK
        if self.nth is None:
            return rrule(WEEKLY, byweekday=self.day, dtstart=anchor)
        return rrule(MONTHLY, byweekday=self.day(self.nth), dtstart=anchor)

    def after(self, start: datetime, moment: datetime) -> datetime:
        return self.rule(start).after(moment)

    def before(self, start: datetime, moment: datetime) -> datetime:
        return self.rule(start).before(moment)


def _parse_pattern(pattern: str) -> _Interval | _WeekdayRule:
    words = pattern.lower().split()
    if len(words) < 2 or words[0] != "every":
        raise ActionError(f"Invalid recurrence pattern: '{pattern}'")
    rest = words[1:]
    if len(rest) == 1 and rest[0] in _WEEKDAYS:
        return _WeekdayRule(_WEEKDAYS[rest[0]], None)
    if len(rest) == 1 and rest[0] in _UNITS:
        return _Interval(1, _UNITS[rest[0]])
    if len(rest) == 2 and rest[1] in _WEEKDAYS:
        nth = _ordinal(rest[0])
        if nth is not None and (nth == -1 or 1 <= nth <= 5):
            return _WeekdayRule(_WEEKDAYS[rest[1]], nth)
    if len(rest) == 2 and rest[1] in _UNITS:
        count = _count(rest[0])
        if count:
            return _Interval(count, _UNITS[rest[1]])
    raise ActionError(f"Invalid recurrence pattern: '{pattern}'")


@dataclass(frozen=True, slots=True)
class Recurrence:
    pattern: str
    start: datetime
    _rule: _Interval | _WeekdayRule = field(repr=False, compare=False)

    def __str__(self) -> str:
        return self.pattern

    def next(self, moment: datetime | None = None) -> datetime:
        """The first occurrence after ``moment`` (default: now), never before the start."""
        moment = now() if moment is None else moment
        return self._rule.after(self.start, max(moment, self.start - _TICK))

    def previous(self, moment: datetime | None = None) -> datetime:
        """The last occurrence before ``moment`` (default: now)."""
        return self._rule.before(self.start, now() if moment is None else moment)

    def upcoming(self, count: int, moment: datetime | None = None) -> list[datetime]:
        dates, current = [], now() if moment is None else moment
        for _ in range(count):
            current = self.next(current)
            dates.append(current)
        return dates

    def within(self, period: DateRange, limit: int = 100) -> list[datetime]:
        """The occurrences inside a range, at most ``limit``."""
        low, high = sorted((period.start, period.end))
        dates, current = [], self.next(low - _TICK)
        while current <= high and len(dates) < limit:
            dates.append(current)
            current = self.next(current)
        return dates

    def property(self, name: str) -> Value:
        getter = _RECURRENCE_PROPERTIES.get(name.lower())
        return MISSING if getter is None else getter(self)


_TICK = timedelta(microseconds=1)
_RECURRENCE_PROPERTIES: dict[str, Callable[[Recurrence], Value]] = {
    "next": lambda r: r.next(),
    "previous": lambda r: r.previous(),
    "pattern": lambda r: r.pattern,
    "occurrences": lambda r: r.upcoming(UPCOMING_COUNT),
    "start": lambda r: r.start,
}


def recurrence(pattern: str, start: datetime | None = None) -> Recurrence:
    """Parse ``every day|week|2 weeks|monday|last friday|second monday`` …; ActionError with
    the pattern when it is not one of these forms."""
    return Recurrence(pattern, now() if start is None else start, _parse_pattern(pattern))


PERIODS = (DateRange, Recurrence)
