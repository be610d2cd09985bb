"""EventBus: the handler index, dispatch, guards, concurrency and idleness.

Handler bodies are replaced by Python coroutines (``execute`` is patched), so these tests see
exactly which frames the bus creates and with what bindings.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from aro.lang.bytecode import CodeObject, Program
from aro.runtime.events import (
    STATE_TRANSITION,
    EventBus,
    FieldGuard,
    parse_field_guards,
)
from aro.runtime.handlers import classify
from aro.runtime.repositories import REPOSITORY_CHANGED, REPOSITORY_EVICTED, RepositoryRegistry
from aro.vm.errors import StatementError
from aro.vm.frame import UNBOUND, Frame, Response

NAMES = ("event", "changeType", "transition", "start-value")
Body = Callable[[Frame], Awaitable[None]]


def var(name: str, *specifiers: str) -> tuple:
    return ("var", NAMES.index(name), name, specifiers)


def code(name: str, activity: str, guard: tuple | None = None) -> CodeObject:
    return CodeObject(
        name,
        activity,
        "test.aro",
        slot_names=list(NAMES),
        fallback=[-1] * len(NAMES),
        slot_index={n: i for i, n in enumerate(NAMES)},
        guard=guard,
    )


class Services:
    def __init__(self) -> None:
        self.logs: list[tuple[str, str, str]] = []
        self.environ: dict[str, str] = {}
        self.console = self.events = self

    def log(self, feature: str, message: str, stream: str = "stdout") -> None:
        self.logs.append((feature, message, stream))

    published: dict[str, dict[str, Any]] = {}  # nothing published (never written)

    def magic(self, name: str, specifiers: tuple[str, ...]) -> Any:
        raise KeyError(name)


class Harness:
    """A bus over the given code objects whose handlers run ``bodies[name]`` and record the
    frame they got."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *codes: CodeObject) -> None:
        self.bus = EventBus(classify(Program(list(codes))))
        self.services = Services()
        self.root = Frame(code("Application-Start", "Demo"), self.services)
        self.root.bind_name("start-value", 42)
        self.bus.bind(self.services, self.root)
        self.ran: list[str] = []
        self.frames: dict[str, Frame] = {}
        self.bodies: dict[str, Body] = {}
        self.services.executions = self  # handler frames run through `run`

    async def run(self, frame: Frame) -> Response:
        self.frames[frame.code.name] = frame
        body = self.bodies.get(frame.code.name)
        if body is not None:
            await body(frame)
        self.ran.append(frame.code.name)
        return Response()

    def bound(self, name: str, variable: str) -> Any:
        return self.frames[name].find(variable)


def run(coroutine: Awaitable[Any]) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, timeout=5))


def deliver(harness: Harness, event_type: str, payload: dict[str, Any]) -> None:
    """Emit from inside a running loop and wait for the handlers."""

    async def emit() -> None:
        await harness.bus.emit(event_type, payload)

    run(emit())


# -- the handler index --------------------------------------------------------------------------


def test_domain_handlers_are_found_by_the_text_before_handler():
    bus = EventBus(
        classify(
            Program(
                [
                    code("A", "UserCreated Handler"),
                    code("B", "UserCreated Handler<status:paid>"),
                    code("C", "Order Placed Handler"),
                    code("D", "NotificationSent Handler"),
                    code("E", "log-repository Evicted Handler"),
                    code("Socket", "Socket Event Handler"),
                    code("Ws", "WebSocket Event Handler"),
                    code("File", "File Event Handler"),
                    code("Key", "KeyPress Handler"),
                    code("State", "StateTransition Handler<toState:x>"),
                    code("Observer", "status StateObserver"),
                    code("Other", "Demo"),
                ]
            )
        )
    )
    assert [h.code.name for h in bus.handlers("UserCreated")] == ["A", "B"]
    assert [h.code.name for h in bus.handlers("Order Placed")] == ["C"]
    assert [h.code.name for h in bus.handlers("NotificationSent")] == ["D"]
    assert [h.code.name for h in bus.handlers("log-repository Evicted")] == ["E"]
    assert [h.code.name for h in bus.handlers("KeyPress")] == ["Key"]
    for event_type in ("Socket Event", "WebSocket Event", "File Event", "Demo"):
        assert bus.handlers(event_type) == []


def test_field_guards_parse_and_or_and_dotted_paths():
    guards = parse_field_guards("Evt Handler<order.status:Paid, shipped;tier:gold>")
    assert guards == (
        FieldGuard(("order", "status"), frozenset({"paid", "shipped"})),
        FieldGuard(("tier",), frozenset({"gold"})),
    )
    assert parse_field_guards("status StateObserver<draft_to_placed>") == ()
    assert parse_field_guards("Evt Handler") == ()
    assert parse_field_guards("Evt Handler<:x;field:>") == ()


def test_field_guard_compares_descriptions_case_insensitively():
    assert FieldGuard(("n",), frozenset({"5"})).matches({"n": 5})
    assert FieldGuard(("n",), frozenset({"5.0"})).matches({"n": 5.0})
    assert FieldGuard(("ok",), frozenset({"true"})).matches({"ok": True})
    assert FieldGuard(("s",), frozenset({"paid"})).matches({"s": "PAID"})
    assert not FieldGuard(("a", "b"), frozenset({"x"})).matches({"a": "x"})
    assert not FieldGuard(("s",), frozenset({"paid"})).matches({})


# -- domain events ------------------------------------------------------------------------------


def test_emit_runs_handlers_concurrently_and_waits_for_all(monkeypatch):
    harness = Harness(monkeypatch, code("One", "Ping Handler"), code("Two", "Ping Handler"))
    started = asyncio.Event()

    async def scenario() -> None:
        count = [0]

        async def meet(frame: Frame) -> None:
            count[0] += 1
            if count[0] == 2:
                started.set()
            await started.wait()  # deadlocks unless both run at the same time

        harness.bodies = {"One": meet, "Two": meet}
        await harness.bus.emit("Ping", {"data": 1})
        assert sorted(harness.ran) == ["One", "Two"]
        assert harness.bus.is_idle()

    run(scenario())


def test_handler_frames_are_children_of_the_start_frame_with_the_event_bound(monkeypatch):
    harness = Harness(monkeypatch, code("H", "UserCreated Handler"))
    payload = {"user": {"name": "Ann"}}
    deliver(harness, "UserCreated", payload)
    frame = harness.frames["H"]
    assert frame.parent is harness.root
    assert frame.find("event") is payload
    assert frame.find("start-value") == 42
    assert frame.find("changeType") is UNBOUND


def test_emit_without_wait_returns_at_once_and_idle_waits_for_chains(monkeypatch):
    harness = Harness(monkeypatch, code("First", "A Handler"), code("Second", "B Handler"))

    async def first(frame: Frame) -> None:
        await asyncio.sleep(0.01)
        harness.bus.emit("B", {}, wait=False)

    async def second(frame: Frame) -> None:
        await asyncio.sleep(0.01)

    harness.bodies = {"First": first, "Second": second}

    async def scenario() -> None:
        await harness.bus.emit("A", {}, wait=False)
        assert harness.ran == []
        assert not harness.bus.is_idle()
        await harness.bus.idle()
        assert harness.ran == ["First", "Second"]
        assert harness.bus.is_idle()

    run(scenario())


def test_emit_with_no_handlers_needs_no_loop(monkeypatch):
    harness = Harness(monkeypatch)
    deliver(harness, "Nobody", {})
    assert harness.ran == []


def test_field_value_guards_filter_on_the_top_level_payload(monkeypatch):
    harness = Harness(
        monkeypatch,
        code("Paid", "Order Handler<status:paid,shipped>"),
        code("Nested", "Order Handler<order.status:paid>"),
        code("Both", "Order Handler<status:paid;tier:gold>"),
    )
    deliver(harness, "Order", {"status": "PAID", "tier": "silver"})
    assert harness.ran == ["Paid"]
    harness.ran.clear()
    deliver(harness, "Order", {"order": {"status": "paid"}})
    assert harness.ran == ["Nested"]
    harness.ran.clear()
    deliver(harness, "Order", {"status": "shipped", "tier": "Gold"})
    assert harness.ran == ["Paid"]


def test_when_guard_false_or_failing_skips_silently(monkeypatch):
    over_100 = ("binary", ">", var("event", "amount"), ("const", 100))
    bare_field = ("binary", ">", var("changeType"), ("const", 1))
    harness = Harness(
        monkeypatch,
        code("Big", "Pay Handler", guard=over_100),
        code("Broken", "Pay Handler", guard=bare_field),
        code("Always", "Pay Handler", guard=("const", True)),
    )
    deliver(harness, "Pay", {"amount": 50})
    assert harness.ran == ["Always"]
    harness.ran.clear()
    deliver(harness, "Pay", {"amount": 500})
    assert sorted(harness.ran) == ["Always", "Big"]
    assert harness.services.logs == []


def test_handler_errors_are_reported_on_one_stderr_line_and_never_reach_the_emitter(
    monkeypatch,
):
    harness = Harness(monkeypatch, code("Bad", "Boom Handler"), code("Good", "Boom Handler"))

    async def fail(frame: Frame) -> None:
        raise StatementError("Cannot extract the x from the event.", "Bad", "Boom Handler", "")

    async def crash(frame: Frame) -> None:
        raise KeyError("line one\nline two")

    harness.bodies = {"Bad": fail}
    deliver(harness, "Boom", {})
    assert harness.ran == ["Good"]
    assert harness.services.logs == [
        ("Bad", "Handler error: Runtime Error: Cannot extract the x from the event.", "stderr")
    ]
    harness.bodies = {"Bad": crash}
    deliver(harness, "Boom", {})
    feature, message, stream = harness.services.logs[-1]
    assert (feature, stream) == ("Bad", "stderr")
    assert "\n" not in message and "line one" in message and "line two" in message


def test_idle_inside_a_handler_does_not_wait_for_itself(monkeypatch):
    harness = Harness(monkeypatch, code("Waiter", "W Handler"))

    async def waiter(frame: Frame) -> None:
        await harness.bus.idle()

    harness.bodies = {"Waiter": waiter}
    deliver(harness, "W", {})
    assert harness.ran == ["Waiter"]


# -- repository observers and evictions ---------------------------------------------------------


def change(repository: str, change_type: str, **extra: Any) -> dict[str, Any]:
    return {"repositoryName": repository, "changeType": change_type, "timestamp": 0, **extra}


def test_observers_see_their_repository_with_change_type_bound(monkeypatch):
    harness = Harness(
        monkeypatch,
        code("Audit", "user-repository Observer"),
        code("Other", "order-repository Observer"),
    )
    event = change("user-repository", "created", newValue={"id": "1"}, entityId="1")
    deliver(harness, REPOSITORY_CHANGED, event)
    assert harness.ran == ["Audit"]
    assert harness.bound("Audit", "event") is event
    assert harness.bound("Audit", "changeType") == "created"
    assert harness.bus.observes_repository("order-repository")
    assert not harness.bus.observes_repository("message-repository")


def test_observer_guards_test_the_new_value_else_the_old_value(monkeypatch):
    harness = Harness(monkeypatch, code("Active", "user-repository Observer<status:active>"))
    deliver(harness, REPOSITORY_CHANGED, change("user-repository", "created", newValue={}))
    deliver(
        harness,
        REPOSITORY_CHANGED,
        change("user-repository", "deleted", oldValue={"status": "Active"}),
    )
    deliver(harness, REPOSITORY_CHANGED, change("user-repository", "deleted"))
    assert harness.ran == ["Active"]
    assert harness.bound("Active", "changeType") == "deleted"


def test_observer_when_guard_can_use_change_type(monkeypatch):
    created = ("binary", "==", var("changeType"), ("const", "created"))
    via_event = ("binary", "==", var("event", "changeType"), ("const", "deleted"))
    harness = Harness(
        monkeypatch,
        code("OnCreate", "user-repository Observer", guard=created),
        code("OnDelete", "user-repository Observer", guard=via_event),
    )
    deliver(harness, REPOSITORY_CHANGED, change("user-repository", "created"))
    assert harness.ran == ["OnCreate"]


def test_evicted_handlers_hear_their_repository_only(monkeypatch):
    harness = Harness(
        monkeypatch,
        code("Track", "log-repository Evicted Handler"),
        code("Elsewhere", "cache-repository Evicted Handler"),
        code("Observer", "log-repository Observer"),
    )
    event = {"evictedItem": {"label": "first"}, "repositoryName": "log-repository"}
    deliver(harness, REPOSITORY_EVICTED, event)
    assert harness.ran == ["Track"]
    assert harness.bound("Track", "event") is event


def test_repository_store_waits_for_observers_and_delete_does_not(monkeypatch):
    harness = Harness(monkeypatch, code("Slow", "user-repository Observer"))
    gate = asyncio.Event()

    async def scenario() -> None:

        async def slow(frame: Frame) -> None:
            await gate.wait()

        harness.bodies = {"Slow": slow}
        repository = RepositoryRegistry(harness.bus.emit).get("user-repository")
        storing = asyncio.create_task(repository.store({"id": "u1"}))
        await asyncio.sleep(0.01)
        assert not storing.done()
        gate.set()
        await storing
        assert harness.ran == ["Slow"]
        gate.clear()
        assert repository.delete(("id", "is", "u1")) == [{"id": "u1"}]
        assert not harness.bus.is_idle()
        gate.set()
        await harness.bus.idle()
        assert harness.ran == ["Slow", "Slow"]
        assert harness.bound("Slow", "changeType") == "deleted"

    run(scenario())


# -- state transitions --------------------------------------------------------------------------


def transition(from_state: str, to_state: str, field: str = "status") -> dict[str, Any]:
    return {
        "fieldName": field,
        "objectName": "document",
        "fromState": from_state,
        "toState": to_state,
        "entityId": "DOC-1",
        "entity": {"id": "DOC-1", field: to_state},
    }


def test_state_transition_handlers_filter_by_one_named_value(monkeypatch):
    harness = Harness(
        monkeypatch,
        code("Submitted", "StateTransition Handler<toState:Submitted>"),
        code("FromDraft", "StateTransition Handler<fromState:draft>"),
        code("Unknown", "StateTransition Handler<colour:red>"),
        code("All", "StateTransition Handler"),
    )
    payload = transition("draft", "submitted")
    deliver(harness, STATE_TRANSITION, payload)
    assert sorted(harness.ran) == ["All", "FromDraft", "Submitted", "Unknown"]
    assert harness.bound("Submitted", "event") is payload
    harness.ran.clear()
    deliver(harness, STATE_TRANSITION, transition("submitted", "approved"))
    assert sorted(harness.ran) == ["All", "Unknown"]


def test_state_observers_filter_by_field_and_transition_and_bind_transition(monkeypatch):
    harness = Harness(
        monkeypatch,
        code("Placed", "status StateObserver<draft_to_placed>"),
        code("AnyStatus", "status StateObserver"),
        code("Anything", "StateObserver"),
        code("Phase", "phase StateObserver"),
    )
    payload = transition("Draft", "Placed")
    deliver(harness, STATE_TRANSITION, payload)
    assert sorted(harness.ran) == ["AnyStatus", "Anything", "Placed"]
    assert harness.bound("Placed", "transition") is payload
    assert harness.bound("Placed", "event") is UNBOUND


def test_internal_channels_never_reach_domain_handlers(monkeypatch):
    harness = Harness(monkeypatch, code("Domain", "repository.changed Handler"))
    deliver(harness, REPOSITORY_CHANGED, change("x-repository", "created"))
    assert harness.ran == []


def test_the_actions_use_the_bus_channel_names():
    from aro.actions import repository

    assert repository.STATE_TRANSITION == STATE_TRANSITION


# -- end to end: ARO programs -------------------------------------------------------------------


def test_program_emit_waits_for_all_handlers(run_app):
    code, lines = run_app(
        """
        (Application-Start: Event Example) {
            Log "Starting" to the <console>.
            Emit a <NumberTriggered: event> with "Event triggered!".
            Log "Emitted" to the <console>.
            Return an <OK: status> for the <startup>.
        }

        (Handler One: NumberTriggered Handler) {
            Extract the <text> from the <event: data>.
            Log "1 " ++ <text> to the <console>.
        }

        (Handler Two: NumberTriggered Handler) {
            Log "2" to the <console>.
        }

        (Handler Three: NumberTriggered Handler) {
            Log "3" to the <console>.
        }
        """
    )
    assert code == 0
    assert lines[0] == "[Application-Start] Starting"
    assert sorted(lines[1:4]) == [
        "[Handler One] 1 Event triggered!",
        "[Handler Three] 3",
        "[Handler Two] 2",
    ]
    assert lines[4:] == ["[Application-Start] Emitted", "[OK] startup"]


def test_program_payload_forms_and_guards(run_app):
    code, lines = run_app(
        """
        (Application-Start: Demo) {
            Create the <user> with { name: "Ann", tier: "gold" }.
            Create the <order> with { status: "paid", amount: 250 }.
            Emit a <UserSeen: event> with <user>.
            Emit a <UserSeen: event> with the <user>.
            Emit a <OrderPaid: event> with { status: "Shipped", amount: 50 }.
            Emit a <OrderPaid: event> with <order>.
            Return an <OK: status> for the <demo>.
        }

        (Greet: UserSeen Handler) {
            Extract the <name> from the <event: user.name>.
            Log <name> to the <console>.
        }

        (Gold: UserSeen Handler<user.tier:GOLD>) {
            Log "gold" to the <console>.
        }

        (Big: OrderPaid Handler) when <event: order.amount> > 100 {
            Log "big" to the <console>.
        }

        (Shipped: OrderPaid Handler<status:shipped,delivered>) {
            Log "shipped" to the <console>.
        }

        (Bare Field: OrderPaid Handler) when <amount> > 1 {
            Log "never: only event is bound" to the <console>.
        }

        (Nested: OrderPaid Handler<order.status:paid>) {
            Log "nested" to the <console>.
        }
        """
    )
    assert code == 0
    assert sorted(lines[:-1]) == [
        "[Big] big",
        "[Gold] gold",
        "[Gold] gold",
        "[Greet] Ann",
        "[Greet] Ann",
        "[Nested] nested",
        "[Shipped] shipped",
    ]


def test_program_handlers_read_start_variables_and_failures_stay_inside(run_app):
    code, lines = run_app(
        """
        (Application-Start: Demo) {
            Create the <greeting-word> with "Hello".
            Emit a <Ping: event> with "x".
            Log "still running" to the <console>.
            Return an <OK: status> for the <demo>.
        }

        (Uses Start: Ping Handler) {
            Log <greeting-word> to the <console>.
        }

        (Fails: Ping Handler) {
            Extract the <missing> from the <event: nothing>.
            Log "not reached" to the <console>.
        }
        """
    )
    assert code == 0
    assert lines == [
        "[Uses Start] Hello",
        "[Application-Start] still running",
        "[OK] demo",
    ]


def test_program_state_machine(run_app):
    code, lines = run_app(
        """
        (Application-Start: State Machine Demo) {
            Create the <document> with { id: "DOC-001", status: "draft" }.
            Accept the <transition: draft_to_submitted> on <document: status>.
            Log <document: status> to the <console>.
            Accept the <transition: submitted_to_approved> on <document: status>.
            Log <document: status> to the <console>.
            Accept the <transition: draft_to_approved> on <document: status>.
            Log "not reached" to the <console>.
            Return an <OK: status> for the <demo>.
        }

        (Document Submitted: StateTransition Handler<toState:submitted>) {
            Extract the <id> from the <event: entityId>.
            Log "submitted " ++ <id> to the <console>.
        }

        (Audit: status StateObserver) {
            Extract the <before> from the <transition: fromState>.
            Extract the <after> from the <transition: toState>.
            Log <before> ++ "->" ++ <after> to the <console>.
        }

        (Approved Only: status StateObserver<submitted_to_approved>) {
            Log "approved" to the <console>.
        }
        """
    )
    assert code == 1
    assert sorted(lines[:2]) == [
        "[Audit] draft->submitted",
        "[Document Submitted] submitted DOC-001",
    ]
    assert lines[2] == "[Application-Start] submitted"
    assert sorted(lines[3:5]) == ["[Approved Only] approved", "[Audit] submitted->approved"]
    assert lines[5] == "[Application-Start] approved"
    assert lines[6].startswith("Runtime error: ")
    assert "Cannot accept the transition: draft_to_approved on the document: status." in lines[6]
