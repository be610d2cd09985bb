"""Create date ranges and recurrences, and Extract their properties."""

from datetime import UTC, datetime

import pytest

from aro.vm.errors import StatementError


def test_create_and_extract_date_ranges_and_recurrences(run):
    result = run(
        'Compute the <start: date> from "2025-01-01T00:00:00Z".\n'
        "Create the <trip: date-range> from <start> to \"2025-01-08T06:00:00Z\".\n"
        "Extract the <days: days> from <trip>.\n"
        "Extract the <hours> from the <trip: hours>.\n"
        'Create the <standup: recurrence> with "every monday".\n'
        "Extract the <next: next> from <standup>.\n"
        'Create the <sprint: recurrence> from <start> with "every 2 weeks".\n'
        "Extract the <pattern: pattern> from <sprint>.\n"
        'Log <trip> to the <console>.'
    )
    assert (result["days"], result["hours"], result["pattern"]) == (7, 174, "every 2 weeks")
    assert result["next"].weekday() == 0
    assert result["sprint"].start == datetime(2025, 1, 1, tzinfo=UTC)
    assert result.services.messages == ["2025-01-01T00:00:00Z to 2025-01-08T06:00:00Z"]


@pytest.mark.parametrize(
    ("statement", "cause"),
    [
        ("Create the <r: date-range> from <now>.", "'Create date-range' requires a 'to' clause"),
        (
            "Create the <r: date-range> from <now> to 5.",
            "Type mismatch: expected 'Date or ISO 8601 String', got 'Int'",
        ),
        ('Create the <r: recurrence> with "sometimes".', "Invalid recurrence pattern: 'sometimes'"),
    ],
)
def test_bad_periods_fail_with_the_reason(run, statement, cause):
    with pytest.raises(StatementError) as error:
        run(statement)
    assert str(error.value.cause) == cause


def test_now_is_the_clock_unless_something_in_reach_binds_it(run):
    before = datetime.now(UTC)
    clock = run("Create the <stamp> with <now>.")["stamp"]
    assert type(clock) is datetime and before <= clock <= datetime.now(UTC)
    assert run("Create the <stamp> with <now>.", bindings={"now": "bound"})["stamp"] == "bound"
    bound_here = run('Create the <now> with "mine".\nCreate the <stamp> with <now>.')
    assert bound_here["stamp"] == "mine"
    in_a_loop = run(
        'Create the <now> with "outer".\nCreate the <items> with [1].\n'
        "for each <n> in <items> {\n"
        "    Create the <stamp> with <now>.\n"
        "    Log <stamp> to the <console>.\n"
        "}"
    )
    assert in_a_loop.services.messages == ["outer"]
