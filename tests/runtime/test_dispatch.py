"""Running handlers: the per-connection dispatcher and the one-line failure text.

Dispatcher tests replace handler bodies with Python coroutines (the metrics' ``run`` and
``run_eagerly`` are patched: every body waits) to see order, concurrency and the frames it
builds; the last test runs real handlers that never wait.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from aro.lang.bytecode import CodeObject
from aro.runtime.dispatch import ConnectionDispatcher, error_text, run_handler
from aro.runtime.execution_metrics import ExecutionMetrics
from aro.runtime.repositories import RepositoryRegistry
from aro.vm.errors import ActionError, StatementError
from aro.vm.frame import Frame, Response

# -- the failure text ----------------------------------------------------------------------


def test_a_failed_statement_reads_as_its_headline_either_way() -> None:
    error = StatementError("Cannot extract the x from\n  the event.", "F", "A", "S")
    expected = "Runtime Error: Cannot extract the x from\n  the event."
    assert error_text(error) == expected
    assert error_text(error, one_line=False) == expected


def test_other_failures_fold_onto_one_line_for_the_log_and_stay_whole_for_shutdown() -> None:
    error = ActionError("first line\n  second\tline ")
    assert error_text(error) == "first line second line"
    assert error_text(error, one_line=False) == "first line\n  second\tline "


# -- the dispatcher ----------------------------------------------------------------------------


class Services:
    def __init__(self) -> None:
        self.logs: list[tuple[str, str, str]] = []
        self.running = self.most_running = 0  # handlers in flight, now and at most
        self.console = self.events = self.executions = self  # `run` is the fixture's
        self.repositories = RepositoryRegistry()

    def log(self, feature: str, message: str, stream: str = "stdout") -> None:
        self.logs.append((feature, message, stream))

    published: dict[str, dict[str, Any]] = {}  # nothing published (never written)


def _code(name: str) -> CodeObject:
    return CodeObject(name, "Socket Event Handler", "t.aro", slot_names=[], fallback=[])


@pytest.fixture
def handled(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any, Frame]]:
    """Every handler run as (feature name, the ``event`` binding, its frame); each run sleeps
    a random little while so that unordered dispatch would show."""
    runs: list[tuple[str, Any, Frame]] = []
    rng = random.Random(7)

    async def fake_execute(frame: Frame) -> Response:
        services = frame.services
        services.running += 1
        services.most_running = max(services.most_running, services.running)
        await asyncio.sleep(rng.random() / 500)
        services.running -= 1
        if frame.named["event"] == "boom":
            raise StatementError("Cannot fail the test for the\n  fun.", "F", "A", "S")
        runs.append((frame.code.name, frame.named["event"], frame))
        return Response()

    monkeypatch.setattr(Services, "run", staticmethod(fake_execute), raising=False)
    monkeypatch.setattr(Services, "run_eagerly", staticmethod(fake_execute), raising=False)
    return runs


def test_events_of_one_connection_run_in_order_connections_concurrently(handled: list) -> None:
    services = Services()
    root = Frame(_code("Application-Start"), services)
    on_event = (_code("Handle Message"),)

    async def scenario() -> ConnectionDispatcher:
        dispatcher = ConnectionDispatcher(services, root)
        for number in range(30):
            for connection in ("a", "b", "c"):
                dispatcher.deliver(connection, on_event, "event", (connection, number))
            if number % 7 == 0:
                await asyncio.sleep(0.001)
        await dispatcher.idle()
        return dispatcher

    dispatcher = asyncio.run(scenario())
    for connection in ("a", "b", "c"):
        mine = [number for _, (who, number), _ in handled if who == connection]
        assert mine == list(range(30))
    assert services.most_running == 3
    assert all(frame.parent is root for _, _, frame in handled)
    assert dispatcher.pending() == 0


def test_every_handler_of_an_event_runs_and_none_is_queued_without_handlers(
    handled: list,
) -> None:
    services = Services()
    both = (_code("First Data"), _code("Second Data"))

    async def scenario() -> int:
        dispatcher = ConnectionDispatcher(services, None)
        dispatcher.deliver("a", (), "event", "ignored")
        idle_without_handlers = dispatcher.pending()
        dispatcher.deliver("a", both, "event", "x")
        await dispatcher.idle()
        return idle_without_handlers

    assert asyncio.run(scenario()) == 0
    assert [(name, event) for name, event, _ in handled] == [
        ("First Data", "x"),
        ("Second Data", "x"),
    ]


def test_a_failing_handler_is_one_stderr_line_and_later_events_still_run(handled: list) -> None:
    services = Services()
    on_event = (_code("Handle Data"),)

    async def scenario() -> None:
        dispatcher = ConnectionDispatcher(services, None)
        for event in ("one", "boom", "two"):
            dispatcher.deliver("a", on_event, "event", event)
        await dispatcher.idle()

    asyncio.run(scenario())
    assert [event for _, event, _ in handled] == ["one", "two"]
    assert services.logs == [
        (
            "Handle Data",
            "Handler error: Runtime Error: Cannot fail the test for the\n  fun.",
            "stderr",
        )
    ]


def test_run_handler_skips_on_a_false_or_failing_guard_and_logs_a_failure(handled: list) -> None:
    services = Services()
    code = _code("Guarded")

    def failing_guard(frame: Frame) -> bool:
        raise KeyError("unbound")

    async def scenario() -> None:
        await run_handler(services, None, code, {"event": "skipped"}, lambda frame: False)
        await run_handler(services, None, code, {"event": "skipped"}, failing_guard)
        await run_handler(services, None, code, {"event": "ran"}, lambda frame: True)
        await run_handler(services, None, code, {"event": "boom"})

    asyncio.run(scenario())
    assert [event for _, event, _ in handled] == ["ran"]
    assert [message for _, message, _ in services.logs] == [
        "Handler error: Runtime Error: Cannot fail the test for the\n  fun."
    ]


def test_handlers_that_never_wait_run_within_deliver_without_a_task_or_queue() -> None:
    services = Services()
    services.executions = ExecutionMetrics()
    both = (_code("First Data"), _code("Second Data"))

    async def scenario() -> tuple[int, int]:
        dispatcher = ConnectionDispatcher(services, None)
        dispatcher.deliver("a", both, "event", "x")
        return dispatcher.pending(), len(dispatcher._tasks)

    assert asyncio.run(scenario()) == (0, 0)
    ran = {stats.name: stats.executions for stats in services.executions.snapshot().feature_sets}
    assert ran == {"First Data": 1, "Second Data": 1}
