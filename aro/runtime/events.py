"""The event bus: delivers events to the feature sets that handle them (docs/semantics.md, Events).

Which feature set handles what is decided once, by ``aro.runtime.handlers``; this module adds
how each handler filters what it hears: the field-value filter of a domain handler
(``Evt Handler<field:v1,v2;other:v3>``) or an observer, the ``<toState:x>`` of a
StateTransition Handler, the ``<from_to_to>`` of a StateObserver, and ``when`` guards.

Besides domain events, ``emit`` carries four internal channels named like the reference's
runtime events (a dot cannot occur in an ARO event name): ``repository.changed`` and
``repository.evicted`` (payloads built by ``aro.runtime.repositories``) and
``state.transition`` (from Accept) and ``notification.sent`` (from Notify).  The domain event
``KeyPress`` has a route of its own too: its handlers also bind the key as ``key``.

Every matching handler runs as its own task, through ``aro.runtime.dispatch.run_handler``: a
child of the Application-Start frame whose ``when`` guard is evaluated in that frame, its
failure one stderr line that never reaches the emitter.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aro.lang.bytecode import CodeObject
from aro.runtime.dispatch import run_handler
from aro.runtime.handlers import KEY_PRESS, STATE_OBSERVER, HandlerTable
from aro.runtime.repositories import COMPLETED, REPOSITORY_CHANGED, REPOSITORY_EVICTED
from aro.vm import values
from aro.vm.expressions import Evaluator, link
from aro.vm.frame import Frame
from aro.vm.services import Services

STATE_TRANSITION = "state.transition"
# Notify's channel (``aro.actions.events.NOTIFICATION_SENT``): delivered to the handlers of
# the domain event below, with the recipient's fields bound for their guards.
NOTIFICATION_SENT = "notification.sent"
NOTIFICATION_EVENT = "NotificationSent"
TRANSITION_FIELDS = frozenset(("toState", "fromState", "fieldName", "objectName"))

Payload = dict[str, Any]
Delivery = tuple["Handler", dict[str, Any]]  # a handler and what its frame binds
Filter = Callable[[str], Callable[[Payload], bool]]  # an activity's filter of what it hears


def _accept_all(payload: Payload) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class Handler:
    """A feature set that handles events: its activity filter and its ``when`` guard."""

    code: CodeObject
    accepts: Callable[[Payload], bool] = _accept_all
    guard: Evaluator | None = None


@dataclass(frozen=True, slots=True)
class FieldGuard:
    """One ``field:v1,v2`` term of an activity's ``<…>`` suffix: the field (a dotted path) must
    equal one of the values, compared case-insensitively as text."""

    path: tuple[str, ...]
    accepted: frozenset[str]

    def matches(self, payload: Any) -> bool:
        value = payload
        for key in self.path:
            if type(value) is not dict or key not in value:
                return False
            value = value[key]
        return values.describe(value).lower() in self.accepted


def angle_suffix(activity: str) -> str | None:
    """The text between the first ``<`` and the first ``>`` after it, if any."""
    start = activity.find("<")
    end = activity.find(">", start + 1)
    if start < 0 or end < 0:
        return None
    return activity[start + 1 : end]


def parse_field_guards(activity: str) -> tuple[FieldGuard, ...]:
    """``Handler<status:paid,shipped;tier:gold>``: ``;`` is AND, ``,`` is OR.  A suffix
    without ``:`` (StateObserver's ``<from_to_to>``) is no field guard."""
    content = angle_suffix(activity)
    if content is None or ":" not in content:
        return ()
    guards = []
    for term in filter(None, content.split(";")):
        field, colon, accepted = term.strip().partition(":")
        path = tuple(filter(None, field.strip().split(".")))
        options = frozenset(v.strip().lower() for v in accepted.split(",") if v)
        if colon and path and options:
            guards.append(FieldGuard(path, options))
    return tuple(guards)


def _all_match(guards: tuple[FieldGuard, ...]) -> Callable[[Payload], bool]:
    if not guards:
        return _accept_all
    return lambda payload: all(guard.matches(payload) for guard in guards)


def _entity_matches(guards: tuple[FieldGuard, ...]) -> Callable[[Payload], bool]:
    """Observer filters test the stored entity: the new value, else the old one."""
    if not guards:
        return _accept_all

    def accepts(event: Payload) -> bool:
        entity = event.get("newValue")
        if type(entity) is not dict:
            entity = event.get("oldValue")
        return type(entity) is dict and all(guard.matches(entity) for guard in guards)

    return accepts


def _transition_filter(activity: str) -> Callable[[Payload], bool]:
    """``StateTransition Handler<toState:approved>``: one of the transition's four names
    compared case-insensitively; an unknown key filters nothing."""
    key, colon, expected = (angle_suffix(activity) or "").partition(":")
    key, expected = key.strip(), expected.strip().lower()
    if not colon or key not in TRANSITION_FIELDS:
        return _accept_all
    return lambda transition: str(transition[key]).lower() == expected


def _state_observer_filter(activity: str) -> Callable[[Payload], bool]:
    """``status StateObserver<draft_to_placed>``: the field (when named) and the transition."""
    suffix = angle_suffix(activity)
    before = activity[: activity.find("<")] if suffix is not None else activity
    field = before.replace(" " + STATE_OBSERVER, "").replace(STATE_OBSERVER, "").strip().lower()
    wanted = None if suffix is None else suffix.lower()

    def accepts(transition: Payload) -> bool:
        if field and str(transition["fieldName"]).lower() != field:
            return False
        moved = f"{transition['fromState']}_to_{transition['toState']}".lower()
        return wanted is None or moved == wanted

    return accepts


class EventBus:
    """Routes events to handler feature sets and runs them; tracks them for ``idle``."""

    def __init__(self, table: HandlerTable) -> None:
        def handlers(codes: tuple[CodeObject, ...], accepts: Filter) -> list[Handler]:
            return [Handler(code, accepts(code.activity), _guard(code)) for code in codes]

        def by_key(groups: dict[str, tuple[CodeObject, ...]], accepts: Filter) -> dict:
            return {key: handlers(codes, accepts) for key, codes in groups.items()}

        self._domain = by_key(table.domain, lambda a: _all_match(parse_field_guards(a)))
        self._observers = by_key(table.observers, lambda a: _entity_matches(parse_field_guards(a)))
        self._evicted = by_key(table.evicted, lambda a: _accept_all)
        # StateTransition Handlers bind the transition as `event`, StateObservers as `transition`
        self._transition_handlers = handlers(table.transition_handlers, _transition_filter)
        self._state_observers = handlers(table.state_observers, _state_observer_filter)
        self._channels: dict[str, Callable[[Payload], list[Delivery]]] = {
            REPOSITORY_CHANGED: self._observer_deliveries,
            REPOSITORY_EVICTED: self._eviction_deliveries,
            STATE_TRANSITION: self._transition_deliveries,
            NOTIFICATION_SENT: self._notification_deliveries,
            KEY_PRESS: self._key_press_deliveries,
        }
        self._services: Services | None = None
        self._root: Frame | None = None
        self._running: set[asyncio.Task] = set()

    def bind(self, services: Services, root_frame: Frame | None) -> None:
        """Give the bus what handler frames need: the services and the Start frame."""
        self._services = services
        self._root = root_frame

    # -- the handler index --------------------------------------------------------------------

    def observes_repository(self, name: str) -> bool:
        """Whether an Observer feature set watches the repository called ``name``."""
        return name in self._observers

    def handlers(self, event_type: str) -> list[Handler]:
        """The domain event handlers of ``event_type`` (for tools and tests)."""
        return list(self._domain.get(event_type, ()))

    # -- delivering ---------------------------------------------------------------------------

    def emit(self, event_type: str, payload: Payload, wait: bool = True) -> Awaitable[None]:
        """Start every matching handler now, each as its own task.

        Not a coroutine on purpose: delivery has started when this returns, so callers that
        cannot await (Delete, evictions) may drop the result, and ``idle`` already sees the
        work.  Awaiting the result waits for the handlers when ``wait`` is true.
        """
        route = self._channels.get(event_type)
        deliveries = route(payload) if route else self._domain_deliveries(event_type, payload)
        if not deliveries:
            return COMPLETED
        loop = asyncio.get_running_loop()
        services, root = self._services, self._root
        tasks = [
            loop.create_task(run_handler(services, root, handler.code, bindings, handler.guard))
            for handler, bindings in deliveries
        ]
        self._running.update(tasks)
        for task in tasks:
            task.add_done_callback(self._running.discard)
        return asyncio.gather(*tasks) if wait else COMPLETED

    async def idle(self) -> None:
        """Return once no handler runs, chains included (the caller's own task excepted)."""
        current = asyncio.current_task()
        while others := self._running - {current}:
            await asyncio.wait(others)

    def is_idle(self) -> bool:
        return not self._running

    def _domain_deliveries(self, event_type: str, payload: Payload) -> list[Delivery]:
        bindings = {"event": payload}
        return [
            (handler, bindings)
            for handler in self._domain.get(event_type, ())
            if handler.accepts(payload)
        ]

    def _notification_deliveries(self, notification: Payload) -> list[Delivery]:
        """The reference binds the recipient's fields as plain variables of the handler, so a
        declaration guard such as ``when <age> >= 16`` reads them; ``event`` wins a clash."""
        recipient = notification[notification["target"]]
        fields = dict(recipient) if type(recipient) is dict else {}
        bindings = {**fields, "event": notification}
        handlers = self._domain.get(NOTIFICATION_EVENT, ())
        return [(handler, bindings) for handler in handlers if handler.accepts(notification)]

    def _key_press_deliveries(self, key_press: Payload) -> list[Delivery]:
        """As the reference runtime does, a KeyPress handler sees the key also as ``key``, so
        that ``when <key> = "down"`` reads it."""
        bindings = {"key": key_press.get("key"), "event": key_press}
        handlers = self._domain.get(KEY_PRESS, ())
        return [(handler, bindings) for handler in handlers if handler.accepts(key_press)]

    def _observer_deliveries(self, event: Payload) -> list[Delivery]:
        """Observers see the change as ``event`` and its kind also as ``changeType``."""
        bindings = {"event": event, "changeType": event["changeType"]}
        observers = self._observers.get(event["repositoryName"], ())
        return [(handler, bindings) for handler in observers if handler.accepts(event)]

    def _eviction_deliveries(self, event: Payload) -> list[Delivery]:
        bindings = {"event": event}
        return [(handler, bindings) for handler in self._evicted.get(event["repositoryName"], ())]

    def _transition_deliveries(self, transition: Payload) -> list[Delivery]:
        as_event, as_transition = {"event": transition}, {"transition": transition}
        deliveries = [
            (handler, as_event)
            for handler in self._transition_handlers
            if handler.accepts(transition)
        ]
        deliveries.extend(
            (handler, as_transition)
            for handler in self._state_observers
            if handler.accepts(transition)
        )
        return deliveries


def _guard(code: CodeObject) -> Evaluator | None:
    return None if code.guard is None else link(code.guard)
