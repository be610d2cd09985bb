"""Date ranges and recurrences (aro.vm.values.periods)."""

from datetime import UTC, datetime

import pytest

from aro.vm.errors import ActionError
from aro.vm.values.periods import DateRange, Recurrence, recurrence


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


MONDAY_NOON = at("2025-03-03T12:00:00")  # a Monday


def test_a_range_prints_both_ends_and_measures_whole_units_either_way():
    span = DateRange(at("2025-01-01T00:00:00"), at("2025-01-15T00:00:00"))
    assert str(span) == "2025-01-01T00:00:00Z to 2025-01-15T00:00:00Z"
    assert [span.property(u) for u in ("seconds", "minutes", "hours", "days", "weeks")] == [
        1209600, 20160, 336, 14, 2,
    ]  # fmt: skip
    backwards = DateRange(span.end, span.start)
    assert backwards.property("days") == 14
    assert span.property("start") == span.start and span.property("END") == span.end
    quarter = DateRange(at("2025-01-01T00:00:00"), at("2025-03-31T23:59:59"))
    assert quarter.property("days") == 89  # truncated, not rounded
    assert span.contains(at("2025-01-10T12:00:00")) and not span.contains(at("2025-02-01T00:00:00"))


@pytest.mark.parametrize(
    ("pattern", "following", "preceding"),
    [
        ("every day", "2025-03-04T12:00:00", "2025-03-02T12:00:00"),
        ("every 2 weeks", "2025-03-17T12:00:00", "2025-02-17T12:00:00"),
        ("every 3rd day", "2025-03-06T12:00:00", "2025-02-28T12:00:00"),
        ("every month", "2025-04-03T12:00:00", "2025-02-03T12:00:00"),
        ("every monday", "2025-03-10T12:00:00", "2025-02-24T12:00:00"),
        ("Every Fri", "2025-03-07T12:00:00", "2025-02-28T12:00:00"),
        ("every last friday", "2025-03-28T12:00:00", "2025-02-28T12:00:00"),
        ("every second monday", "2025-03-10T12:00:00", "2025-02-10T12:00:00"),
        ("every 1st monday", "2025-04-07T12:00:00", "2025-02-03T12:00:00"),
    ],
)
def test_next_and_previous_occurrences(pattern, following, preceding):
    rule = recurrence(pattern, MONDAY_NOON)
    assert rule.next(MONDAY_NOON) == at(following)
    assert rule.previous(MONDAY_NOON) == at(preceding)


def test_intervals_repeat_from_the_start_and_clamp_short_months():
    monthly = recurrence("every month", at("2025-01-31T08:00:00"))
    assert monthly.upcoming(3, at("2025-01-31T08:00:00")) == [
        at("2025-02-28T08:00:00"), at("2025-03-31T08:00:00"), at("2025-04-30T08:00:00"),
    ]  # fmt: skip
    hourly = recurrence("every 6 hours", at("2025-01-01T00:00:00"))
    assert hourly.next(at("2025-01-03T07:00:00")) == at("2025-01-03T12:00:00")


def test_a_future_start_is_the_first_occurrence():
    rule = recurrence("every day", at("2030-01-01T09:00:00"))
    assert rule.next() == at("2030-01-01T09:00:00")


def test_occurrences_within_a_range():
    rule = recurrence("every friday", MONDAY_NOON)
    march = DateRange(at("2025-03-01T00:00:00"), at("2025-03-31T23:59:59"))
    assert [d.day for d in rule.within(march)] == [7, 14, 21, 28]


def test_properties_of_a_recurrence_are_read_now():
    rule = recurrence("every week")
    assert isinstance(rule, Recurrence) and str(rule) == "every week"
    assert rule.property("pattern") == "every week"
    upcoming = rule.property("occurrences")
    assert len(upcoming) == 10 and upcoming == sorted(upcoming)
    assert rule.property("previous") < rule.property("next")


@pytest.mark.parametrize(
    "pattern", ["daily", "every", "every blue moon", "every 6th monday", "every 0 days"]
)
def test_an_unknown_pattern_is_refused_by_name(pattern):
    with pytest.raises(ActionError, match=f"Invalid recurrence pattern: '{pattern}'"):
        recurrence(pattern)
