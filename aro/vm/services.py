"""What actions may ask of the application, as interfaces.

The VM and the actions know only these protocols; ``aro.runtime`` implements them.  This keeps
the layer order (actions never import runtime or net).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from aro.vm.streams import ItemStream


class Repository(Protocol):
    """An application-wide, insertion-ordered store named ``*-repository``.

    Its backend may suspend (a server, a file shared between processes).  When ``suspends`` is
    false, ``retrieve``, ``count`` and ``delete`` answer their values; when true, awaitables
    of them.  ``rows_now``/``count_now`` never suspend: a synchronous reader (an expression,
    the Retrieve action) uses them, and on a backend that suspends the VM first awaits
    ``Repositories.prefetch`` for its statement (``Plan.reads``).
    """

    name: str
    suspends: bool

    async def store(self, value: Any) -> tuple[Any, bool]:
        """Upsert per the Store rules; returns (stored value with id, is_new).  Waits for
        observers.  A list is stored element-wise and returns the list of stored values."""

    #: Whether nothing in a Store waits (a backend in this process's memory, no observer):
    #: ``store_now`` then answers what ``store`` would, with plain calls.
    stores_now: bool

    def store_now(self, value: Any) -> tuple[Any, bool]: ...

    def retrieve(self, where: tuple[str, str, Any] | None = None) -> Any:
        """All visible rows (ttl applied) in insertion order, or those matching ``where``."""

    def delete(self, where: tuple[str, str, Any] | None = None) -> Any:
        """Delete matching rows (all rows when ``where`` is None); fires observers without
        waiting; returns what was deleted."""

    def count(self) -> Any:
        """Every row, expired ones included."""

    def rows_now(self, where: tuple[str, str, Any] | None = None) -> list[Any]: ...

    def count_now(self) -> int: ...

    def configure(self, option: str, value: Any) -> None:
        """``maxSize`` or ``ttl`` (seconds)."""


class Repositories(Protocol):
    """The application's repositories by name; ``suspends`` when their backend does."""

    suspends: bool

    def get(self, name: str) -> Repository: ...

    async def prefetch(self, names: tuple[str, ...]) -> None:
        """Snapshot the named repositories for ``rows_now``/``count_now`` in one statement."""


class Console(Protocol):
    def log(self, feature: str, message: str, stream: str = "stdout") -> None:
        """Write one Log message (multi-line allowed) with the ``[feature] `` prefix."""


class Events(Protocol):
    async def emit(self, event_type: str, payload: dict, wait: bool = True) -> None:
        """Deliver a domain event to its handlers; with ``wait`` return when all finished."""

    def publish(self, alias: str, value: Any, activity: str) -> None:
        """``Publish as``: make a value visible to later runs of the same business activity."""

    #: What ``Publish as`` made visible so far, by business activity: alias to value. An
    #: attribute, not a method, as every new frame reads it.
    published: Mapping[str, Mapping[str, Any]]


class Connections(Protocol):
    def broadcast(self, channel: str, value: Any) -> int:
        """Send ``value`` (a string as text, bytes as binary, else JSON) to every client of
        ``channel`` (``websocket`` or ``socket``); answer how many.  No server running means
        no clients, not an error."""

    def send(self, connection: str, value: Any, websocket_only: bool = False) -> None:
        """Send ``value`` (as for ``broadcast``) to one open WebSocket (or, unless
        ``websocket_only``, TCP) connection by id; ActionError when no open connection has
        that id."""

    def close(self, connection: str) -> None:
        """Close one WebSocket or TCP connection by id; ActionError when it is not open."""


class Servers(Protocol):
    async def start(self, service: str, with_value: Any) -> Any:
        """Start ``http-server``, ``socket-server``, … ; returns the service's description."""

    async def stop(self, service: str, with_value: Any) -> None: ...

    async def keepalive(self) -> None:
        """Block until SIGINT/SIGTERM (a server is running) or the event bus is idle."""


class Templates(Protocol):
    async def render(self, path: str, frame: Any, extra: Mapping[str, Any] | None = None) -> str:
        """Render ``templates/<path>`` in an isolated child of ``frame`` (a ``Frame``) that
        also sees ``extra``; raises the ``TemplateError``s of ``aro.runtime.templates``."""


@dataclass(frozen=True, slots=True)
class ActionCall:
    """A ``Namespace.Verb`` statement as its callee sees it: ``Application.Double the <d>
    from 5 with {…}`` has namespace ``Application``, verb ``Double``, result ``d``, the
    object's value (``object_value``, None when there is none) and name, and the ``with``
    value (None when absent)."""

    namespace: str
    verb: str
    result: str
    preposition: str | None
    object_name: str | None
    object_value: Any
    with_value: Any
    caller: Any  # the calling Frame: a user-defined action's frame is its child


class Actions(Protocol):
    async def call_action(self, call: ActionCall) -> Any:
        """Run a ``Namespace.Verb`` action: a user-defined action (``Application.Name``) or
        a plugin's; ActionError when nothing provides it."""


class Qualifiers(Protocol):
    def qualifier(self, name: str) -> Callable[[Any, Any], Any] | None:
        """The plugin qualifier ``handler.name`` as ``(value, with-params) -> value``
        (raising ActionError when it fails), or None when no plugin provides it."""


class Testing(Protocol):
    """Present only under ``aro test``: what the When step needs."""

    async def run_feature_set(self, name: str, caller: Any) -> Any:
        """Run the feature set called ``name`` (exact, ``-`` as space, any case) in a fresh
        frame holding the variables ``caller`` (a ``Frame``) sees; answer that frame once it
        finished.  ActionError when no feature set has that name."""


class Files(Protocol):
    """The file system.  Relative paths resolve against the process's working directory.
    Every method does its I/O (and the ``decode``/``encode`` it is given) off the event loop,
    and fails with an ``ActionError`` in the reference runtime's words ("File not found: …")."""

    async def read(self, path: str, decode: Callable[[str | bytes], Any]) -> Any:
        """``decode`` of the file's text (bytes when it is not UTF-8)."""

    async def write(self, path: str, encode: Callable[[], str | bytes]) -> None:
        """Replace the file with what ``encode`` answers, creating missing directories."""

    async def append(self, path: str, text: str) -> None: ...

    async def list(self, directory: str, pattern: str | None, recursive: bool) -> list[dict]:
        """Entries ``{name, path, size, isFile, isDirectory, modified, created}`` sorted by
        path; ``pattern`` is a case-insensitive glob on the name."""

    async def stat(self, path: str) -> dict:
        """An entry plus ``accessed``, ``permissions``, ``owner`` and ``group``."""

    async def kind(self, path: str) -> str | None:
        """``"file"``, ``"directory"`` or None when nothing is there."""

    async def make_directory(self, path: str) -> None:
        """With its parents; an existing directory is fine."""

    async def touch(self, path: str) -> None: ...

    async def copy(self, source: str, destination: str) -> None: ...

    async def move(self, source: str, destination: str) -> None: ...

    async def open_lines(self, path: str) -> ItemStream:
        """The file's lines without their line breaks, read a batch at a time."""


class HttpReply(NamedTuple):
    """An HTTP response as the client read it: any status is a reply, not an error."""

    status: int
    headers: dict[str, str]
    body: bytes


class HttpClient(Protocol):
    """Outbound HTTP: one connection pool per application, closed when it ends."""

    async def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: float | None,
    ) -> HttpReply:
        """Send one request; ActionError when no reply comes (refused, timed out, bad URL)."""

    def subscribe(
        self, url: str, event_name: str, headers: Mapping[str, str], retry: float | None
    ) -> None:
        """Read the server-sent events at ``url`` in the background, emitting the domain event
        ``event_name`` once per message; reconnect with a growing delay starting at ``retry``
        seconds.  Keepalive waits while it runs."""


class SocketClients(Protocol):
    """Outbound TCP connections: their data runs the Socket Event Handlers."""

    async def connect(self, host: str, port: int) -> str:
        """Open a connection and answer its id, which Send and Close then take."""


class System(Protocol):
    """The machine the application runs on."""

    async def execute(
        self, command: str, cwd: str | None, env: Mapping[str, str] | None, timeout: float
    ) -> dict[str, Any]:
        """Run ``command`` with ``/bin/sh -c``: ``{command, error, exitCode, message, output}``.
        A command that fails or times out is a result with ``error: true``, not an error."""

    def metrics(self) -> dict[str, Any]:
        """``{cpu, memory: {used, total, percent}, disk: {used, total, percent}}``."""


class Timers(Protocol):
    def schedule(self, event_name: str, interval: float) -> None:
        """Emit the domain event ``event_name`` every ``interval`` seconds until the
        application ends.  Keepalive waits while a timer runs."""


class Terminal(Protocol):
    """The standard output as a screen: control sequences only when it is a terminal."""

    is_tty: bool

    def control(self, command: str) -> None:
        """``clear-screen``, ``clear-line``, ``hide-cursor``, ``show-cursor``: ANSI sequences on
        a terminal, nothing otherwise."""

    def render(self, section: str, text: str) -> None:
        """Show ``text`` as the named section: redrawn in place on a terminal, printed as is
        otherwise."""

    def describe(self) -> dict[str, Any]:
        """``<terminal>`` in templates: rows, columns, colour support, whether it is a TTY."""


class Keyboard(Protocol):
    """Keys typed on the terminal, each delivered as the domain event ``KeyPress`` with the
    payload ``{key}``."""

    def listen(self) -> None:
        """Start reading keys when stdin is a terminal (Keepalive then waits for them); do
        nothing otherwise, or when already listening."""

    def stop(self) -> None:
        """Stop reading keys and give the terminal its mode back; nothing when not listening."""


class Executions(Protocol):
    async def run(self, frame: Any) -> Any:
        """Run a feature set's ``Frame`` to its end (``aro.vm.machine.execute``), counted for
        ``<metrics>``; answers its ``Response``."""


class Services(Protocol):
    """``frame.services``: one object holding the capabilities.  A new family of actions adds
    a capability here instead of widening one interface; an implementation may hold small
    objects or be several capabilities itself."""

    console: Console
    events: Events
    connections: Connections
    servers: Servers
    templates: Templates
    actions: Actions
    repositories: Repositories
    qualifiers: Qualifiers
    testing: Testing | None  # None outside ``aro test``
    files: Files
    http: HttpClient
    sockets: SocketClients
    system: System
    timers: Timers
    terminal: Terminal
    keyboard: Keyboard
    executions: Executions
    environ: Mapping[str, str]
    parameters: Mapping[str, Any]  # application arguments: <parameter: name>

    def magic(self, name: str, specifiers: tuple[str, ...]) -> Any:
        """Resolve a magic name that no frame binds (``contract``, ``metrics``, …); raise
        KeyError when unknown."""
