"""Which feature set does what: the program classified once per process.

Every service reads its handlers from the one :class:`HandlerTable` that :func:`classify`
builds when the application is created; nothing scans the feature sets again.  The rules,
stated as the data below (they are not mutually exclusive: ``log-repository Evicted Handler``
hears evictions and is also the domain handler of ``log-repository Evicted``):

By feature-set name:

* ``Application-Start`` is the entry point (the application checks there is exactly one);
* ``Application-End`` runs at shutdown, its activity (``Success`` or ``Error``) saying when;
  the first of each activity counts;
* any name may be a contract operationId: the feature set handles that HTTP operation (the
  last feature set of a name counts).

By activity:

* starts with ``Action``: a user-defined action, called as ``Application.<name>``;
* contains ``WebSocket Event Handler``: WebSocket events, the event chosen by name
  (:data:`WEBSOCKET_EVENTS`, docs/decisions.md, decision 10);
* contains ``Socket Event Handler`` but not ``WebSocket``: TCP events, chosen by name
  (:data:`SOCKET_EVENTS`);
* contains ``File Event Handler``: file-monitor events, chosen by name (:data:`FILE_EVENTS`);
* contains `` Observer`` and ``-repository``: observes the repository named before
  `` Observer``;
* ends with `` Evicted Handler`` and contains ``-repository``: hears that repository's maxSize
  evictions;
* contains ``StateTransition Handler``, else ``StateObserver``: hears Accept's transitions;
* any other activity containing `` Handler`` (see :data:`NOT_DOMAIN_HANDLERS`) handles the
  domain event named by the text before it.

How a handler filters what it hears (``<…>`` suffixes, ``when`` guards) is the event bus's
business; this module only says who hears what.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aro.lang.bytecode import CodeObject, Program
from aro.lang.names import REPOSITORY_SUFFIX

ENTRY_POINT = "Application-Start"
END = "Application-End"
USER_ACTION = "Action"

WEBSOCKET_HANDLER = "WebSocket Event Handler"
SOCKET_HANDLER = "Socket Event Handler"
CONNECT, MESSAGE, DATA, DISCONNECT = "connect", "message", "data", "disconnect"
#: Connection events by feature-set name, case-insensitive: the first word found decides.
#: Names without any of the words handle nothing.
WEBSOCKET_EVENTS = (("message", MESSAGE), ("disconnect", DISCONNECT), ("connect", CONNECT))
SOCKET_EVENTS = (
    ("disconnect", DISCONNECT),
    ("connect", CONNECT),
    ("data", DATA),
    ("message", DATA),
    ("received", DATA),
)

FILE_HANDLER = "File Event Handler"
CREATED, MODIFIED, DELETED = "created", "modified", "deleted"
#: File events by feature-set name, case-insensitive, as for connection events.
FILE_EVENTS = ((CREATED, CREATED), (MODIFIED, MODIFIED), (DELETED, DELETED))

OBSERVER = " Observer"
EVICTED_HANDLER = " Evicted Handler"
STATE_TRANSITION_HANDLER = "StateTransition Handler"
STATE_OBSERVER = "StateObserver"
HANDLER = " Handler"
#: The domain event of a key typed on the terminal (aro/runtime/keyboard.py), heard by
#: ``KeyPress Handler`` feature sets (``KeyPress Handler<key:enter>`` for one key).
KEY_PRESS = "KeyPress"
#: Activities that contain " Handler" but are not domain event handlers.
NOT_DOMAIN_HANDLERS = (
    SOCKET_HANDLER,  # WebSocket Event Handler too
    FILE_HANDLER,
    STATE_TRANSITION_HANDLER,
    STATE_OBSERVER,
    END,
)

Handlers = tuple[CodeObject, ...]


@dataclass(frozen=True, slots=True)
class HandlerTable:
    """Every role of every feature set, in program order within each role.  Read-only by
    contract; plain dicts because services look handlers up per request and per message."""

    entry_points: Handlers
    end: Mapping[str, CodeObject]  # "Success" / "Error" -> its Application-End
    by_name: Mapping[str, CodeObject]  # HTTP operations look their operationId up here
    user_actions: Mapping[str, CodeObject]
    domain: Mapping[str, Handlers]  # event type -> handlers
    observers: Mapping[str, Handlers]  # repository name -> observers
    evicted: Mapping[str, Handlers]  # repository name -> Evicted handlers
    transition_handlers: Handlers
    state_observers: Handlers
    websocket: Mapping[str, Handlers]  # connect / message / disconnect
    socket: Mapping[str, Handlers]  # connect / data / disconnect
    files: Mapping[str, Handlers]  # created / modified / deleted


def classify(program: Program) -> HandlerTable:
    """The program's handler table; build it once and share it."""
    builder = _Builder()
    for code in program.code_objects:
        builder.add(code)
    return builder.table()


def connection_event(name: str, words: tuple[tuple[str, str], ...]) -> str | None:
    """The connection event a handler named ``name`` hears, by the first word it contains."""
    lowered = name.lower()
    return next((event for word, event in words if word in lowered), None)


class _Builder:
    def __init__(self) -> None:
        self.entry_points: list[CodeObject] = []
        self.end: dict[str, CodeObject] = {}
        self.by_name: dict[str, CodeObject] = {}
        self.user_actions: dict[str, CodeObject] = {}
        self.domain: dict[str, list[CodeObject]] = {}
        self.observers: dict[str, list[CodeObject]] = {}
        self.evicted: dict[str, list[CodeObject]] = {}
        self.transition_handlers: list[CodeObject] = []
        self.state_observers: list[CodeObject] = []
        self.websocket: dict[str, list[CodeObject]] = {CONNECT: [], MESSAGE: [], DISCONNECT: []}
        self.socket: dict[str, list[CodeObject]] = {CONNECT: [], DATA: [], DISCONNECT: []}
        self.files: dict[str, list[CodeObject]] = {CREATED: [], MODIFIED: [], DELETED: []}

    def add(self, code: CodeObject) -> None:
        name, activity = code.name, code.activity
        self.by_name[name] = code
        if name == ENTRY_POINT:
            self.entry_points.append(code)
        elif name == END:
            self.end.setdefault(activity, code)
        if activity.startswith(USER_ACTION):
            self.user_actions[name] = code
        self._add_handler_chosen_by_name(code)
        self._add_event_handler(code)

    def _add_handler_chosen_by_name(self, code: CodeObject) -> None:
        if WEBSOCKET_HANDLER in code.activity:
            kinds, words = self.websocket, WEBSOCKET_EVENTS
        elif SOCKET_HANDLER in code.activity:
            kinds, words = self.socket, SOCKET_EVENTS
        elif FILE_HANDLER in code.activity:
            kinds, words = self.files, FILE_EVENTS
        else:
            return
        event = connection_event(code.name, words)
        if event is not None:
            kinds[event].append(code)

    def _add_event_handler(self, code: CodeObject) -> None:
        activity = code.activity
        if STATE_TRANSITION_HANDLER in activity:
            self.transition_handlers.append(code)
        elif STATE_OBSERVER in activity:
            self.state_observers.append(code)
        if OBSERVER in activity and REPOSITORY_SUFFIX in activity:
            repository = activity.split(OBSERVER, 1)[0].strip()
            self.observers.setdefault(repository, []).append(code)
        if activity.endswith(EVICTED_HANDLER) and REPOSITORY_SUFFIX in activity:
            repository = activity[: -len(EVICTED_HANDLER)].strip()
            self.evicted.setdefault(repository, []).append(code)
        if HANDLER in activity and not any(mark in activity for mark in NOT_DOMAIN_HANDLERS):
            event_type = activity.split(HANDLER, 1)[0].strip()
            self.domain.setdefault(event_type, []).append(code)

    def table(self) -> HandlerTable:
        return HandlerTable(
            entry_points=tuple(self.entry_points),
            end=self.end,
            by_name=self.by_name,
            user_actions=self.user_actions,
            domain=_grouped(self.domain),
            observers=_grouped(self.observers),
            evicted=_grouped(self.evicted),
            transition_handlers=tuple(self.transition_handlers),
            state_observers=tuple(self.state_observers),
            websocket=_grouped(self.websocket),
            socket=_grouped(self.socket),
            files=_grouped(self.files),
        )


def _grouped(groups: dict[str, list[CodeObject]]) -> dict[str, Handlers]:
    return {key: tuple(codes) for key, codes in groups.items()}
