"""The instruction loop: binding rules, scopes, control flow and the error model."""

from __future__ import annotations

import asyncio

import pytest

from aro.lang.compiler import compile_source
from aro.vm import registry
from aro.vm.frame import Frame
from aro.vm.plan import Plan
from aro.vm.registry import ActionSpec
from tests.support.inproc import run_body, run_program, start


def log_lines(source: str) -> list[str]:
    outcome = run_program(source)
    assert outcome.exit_code == 0, outcome.stdout + outcome.stderr
    prefix = "[Application-Start] "
    return [line.removeprefix(prefix) for line in outcome.lines if line.startswith(prefix)]


def test_fast_path_binds_the_expression_without_running_the_action() -> None:
    lines = log_lines(
        start("""
        Create the <price> with 4.
        Compute the <total> from <price> * 3.
        Validate the <ok> for <total> == 12.
        Log <total> to the <console>.
        Log <ok> to the <console>.
    """)
    )
    assert lines == ["12", "true"]


def test_existing_binding_wins_for_non_rebinding_verbs_at_run_time() -> None:
    lines = log_lines(
        start("""
        Create the <n> with 1.
        while <n> < 3 {
            Compute the <n> from <n> + 1.
        }
        Log <n> to the <console>.
    """)
    )
    assert lines == ["3"]


def test_loop_bindings_are_fresh_per_iteration_and_invisible_afterwards() -> None:
    source = start("""
        Create the <items> with [1, 2, 3].
        for each <item> in <items> {
            Compute the <double> from <item> * 2.
            Log <double> to the <console>.
        }
        Log <double> to the <console>.
    """)
    outcome = run_program(source)
    assert outcome.lines[:3] == [
        "[Application-Start] 2",
        "[Application-Start] 4",
        "[Application-Start] 6",
    ]
    assert outcome.exit_code == 1
    assert "double" in outcome.stdout.splitlines()[-1]


def test_loop_body_shadowing_keeps_the_outer_value() -> None:
    lines = log_lines(
        start("""
        Create the <label> with "outer".
        Create the <pair> with [1, 2].
        for each <item> in <pair> {
            Log <label> to the <console>.
            Create the <label> with "inner".
            Log <label> to the <console>.
        }
        Log <label> to the <console>.
    """)
    )
    assert lines == ["outer", "inner", "outer", "inner", "outer"]


def test_for_each_index_where_and_range() -> None:
    lines = log_lines(
        start("""
        Create the <names> with ["a", "b", "c", "d"].
        for each <name> at <i> in <names> where <i> > 1 {
            Log "${i}:${name}" to the <console>.
        }
        for <k> from 2 to 5 {
            Log <k> to the <console>.
        }
    """)
    )
    assert lines == ["2:c", "3:d", "2", "3", "4"]


def test_while_break_and_nested_match() -> None:
    lines = log_lines(
        start("""
        Create the <n> with 0.
        while true {
            Compute the <n> from <n> + 1.
            match <n> {
                case 3 { break. }
                otherwise { Log <n> to the <console>. }
            }
        }
        Log "done at ${n}" to the <console>.
    """)
    )
    assert lines == ["1", "2", "done at 3"]


def test_break_outside_a_while_is_an_error() -> None:
    outcome = run_program(start("break."))
    assert outcome.exit_code == 1
    assert "break" in outcome.stdout


def test_match_literals_compare_with_the_same_type() -> None:
    lines = log_lines(
        start("""
        Create the <code> with 200.
        match <code> {
            case 200.0 { Log "double" to the <console>. }
            case "200" { Log "string" to the <console>. }
            case 200 { Log "int" to the <console>. }
        }
        Create the <word> with "Hello".
        match <word> {
            case /^h/i where <code> == 200 { Log "regex" to the <console>. }
            otherwise { Log "none" to the <console>. }
        }
    """)
    )
    assert lines == ["int", "regex"]


def test_parallel_for_each_runs_every_item() -> None:
    lines = log_lines(
        start("""
        Create the <items> with [1, 2, 3, 4, 5, 6].
        parallel for each <item> in <items> with <concurrency: 2> {
            Compute the <square> from <item> * <item>.
            Store the <square> into the <square-repository>.
        }
        Retrieve the <squares> from the <square-repository>.
        Reduce the <total> from the <squares> with sum().
        Log <total> to the <console>.
    """)
    )
    assert lines == ["91.00"]


def test_statement_guard_skips_the_statement() -> None:
    lines = log_lines(
        start("""
        Create the <n> with 5.
        Log "big" to the <console> when <n> > 10.
        Log "small" to the <console> when <n> <= 10.
    """)
    )
    assert lines == ["small"]


def test_return_ends_the_feature_set_inside_a_loop() -> None:
    outcome = run_program(
        start("""
        Create the <numbers> with [1, 2, 3].
        for each <n> in <numbers> {
            Log <n> to the <console>.
            Return an <OK: status> for the <early> when <n> == 2.
        }
        Log "unreachable" to the <console>.
    """)
    )
    assert outcome.lines == ["[Application-Start] 1", "[Application-Start] 2", "[OK] early"]


def test_failed_statement_reads_back_as_the_error_message() -> None:
    outcome = run_program(
        start("""
        Create the <user> with { name: "Ada" }.
        Extract the <email> from the <user: email>.
    """)
    )
    assert outcome.exit_code == 1
    assert outcome.lines[0] == (
        "Runtime error: Runtime Error: Cannot extract the email from the user: email."
    )
    assert outcome.lines[1:4] == [
        "  Feature: Application-Start",
        "  Business Activity: Test",
        "  Statement: <Extract> the <email> from the <user: email>.",
    ]
    assert "Traceback" not in outcome.stdout + outcome.stderr


def test_expression_errors_are_not_wrapped() -> None:
    outcome = run_program(start("Compute the <x> from <missing> + 1."))
    assert outcome.exit_code == 1
    assert outcome.lines == ["Error: Undefined variable: missing"]


def test_application_end_error_sees_the_shutdown_reason() -> None:
    outcome = run_program(
        start("Throw the <Broken> for the <demo>.")
        + """
(Application-End: Error) {
    Extract the <code> from the <shutdown: code>.
    Log "ended with ${code}" to the <console>.
}
"""
    )
    assert outcome.lines[0] == "[Application-End] ended with 1"
    assert outcome.lines[1] == "Runtime error: Runtime Error: Cannot throw the Broken for the demo."


def test_final_line_prints_the_payload_and_hides_the_application_reason() -> None:
    assert run_program(start("Return an <OK: status> for the <application>.")).stdout == ""
    outcome = run_program(start('Return an <OK: status> with { b: 2, a: "x" }.'))
    assert outcome.lines == ["[OK] _expression_", "  a: x", "  b: 2"]


def test_emit_waits_for_handlers_which_see_the_start_frame() -> None:
    outcome = run_program(
        start("""
        Create the <shop> with "Crumb".
        Emit a <Baked: event> with { loaves: 3 }.
        Log "after emit" to the <console>.
    """)
        + """
(Announce: Baked Handler) when <event: loaves> > 2 {
    Log "${shop} baked ${<event: loaves>}" to the <console>.
}
"""
    )
    assert outcome.lines == [
        "[Announce] Crumb baked 3",
        "[Application-Start] after emit",
        "[OK] success",
    ]


def test_publish_reaches_later_feature_sets_of_the_same_activity() -> None:
    outcome = run_program("""
(Application-Start: Shop) {
    Create the <owner> with "Ada".
    Publish as <shop-owner> <owner>.
    Emit a <Opened: event> with "now".
}
(Greeter: Opened Handler) {
    Log "handler sees published? ${<shop-owner> exists}" to the <console>.
}
(Application-End: Success) {
    Log "bye" to the <console>.
}
""")
    assert outcome.lines[0] == "[Greeter] handler sees published? false"


class _WaitingRepositories:
    """Repositories whose backend waits: every prefetch yields to the loop and is recorded."""

    suspends = True

    def __init__(self) -> None:
        self.prefetched: list[tuple[str, ...]] = []
        self.events = self  # the frame asks for what was published

    async def prefetch(self, names: tuple[str, ...]) -> None:
        await asyncio.sleep(0)
        self.prefetched.append(names)

    def get(self, name: str) -> _WaitingRepositories:
        return self

    def count_now(self) -> int:
        return 10

    published: dict[str, dict] = {}  # nothing published (never written)

    @property
    def repositories(self) -> _WaitingRepositories:
        return self


def test_a_statement_in_a_loop_prefetches_its_reads_on_every_iteration() -> None:
    services = _WaitingRepositories()
    run = run_body(
        """
        Create the <numbers> with [1, 2, 3].
        for each <n> in <numbers> {
            Compute the <total> from <n> + <item-repository: count>.
        }
        """,
        services,
    )
    assert services.prefetched == [("item-repository",)] * 3  # not only the first time
    assert run.response.status == "OK"


def test_a_plain_action_that_may_wait_is_awaited_only_when_it_answers_a_coroutine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def later(value: int) -> int:
        await asyncio.sleep(0)
        return value * 10

    def sometimes(plan: Plan, frame: Frame) -> object:
        value = plan.object_value(frame)
        return later(value) if value > 1 else value

    spec = ActionSpec("transform", sometimes, None, is_async=False, may_wait=True)
    monkeypatch.setitem(registry.ACTIONS, "transform", spec)
    source = start("""
        Create the <one> with 1.
        Create the <two> with 2.
        Transform the <a> from the <one>.
        Transform the <b> from the <two>.
        Log <a> ++ " " ++ <b> to the <console>.
    """)
    code = compile_source(source, "main.aro").find("Application-Start")
    transforms = [Plan(info, code.name, code.activity) for info in code.statements[2:4]]
    assert [(plan.is_async, plan.may_wait) for plan in transforms] == [(False, True)] * 2
    assert log_lines(source) == ["1 20"]
