"""The `<socket-server>` service and the dispatch machinery shared with WebSockets.

Connection events (TCP here, WebSocket in ``websocket_service``) differ from domain events in
one way that matters: the events of one connection must reach the handlers in the order they
happened (connect, each piece of data, disconnect), while different connections run
concurrently.  :class:`ConnectionDispatcher` gives that with a small queue per connection that
has pending events, drained by one task that ends when the queue is empty — an idle
connection costs no task and no queue.

Socket Event Handlers are chosen by feature-set name (ARO-RUNTIME.md §3): ``disconnect``,
else ``connect``, else ``data``/``message``/``received``.  Unlike the reference, WebSocket
Event Handlers (whose activity contains "Socket Event Handler" too) are not TCP handlers.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Mapping
from typing import Any

from aro.lang.bytecode import CodeObject, Program
from aro.net.server import start_eagerly
from aro.net.tcp import TcpConnection, TcpServer
from aro.vm.errors import ActionError, StatementError
from aro.vm.frame import Frame
from aro.vm.machine import execute
from aro.vm.services import Services

SOCKET_HANDLER = "Socket Event Handler"
WEBSOCKET_HANDLER = "WebSocket Event Handler"
DEFAULT_SOCKET_PORT = 9000
CLOSED_REASON = "connection closed"
DATA_WORDS = ("data", "message", "received")

Handlers = tuple[CodeObject, ...]


class ConnectionDispatcher:
    """Runs handler feature sets for connection events, in order per connection.

    Handler frames are children of the Application-Start frame (its variables are visible);
    a failing handler is reported in one line on stderr and never reaches the connection.
    """

    __slots__ = ("_loop", "_queues", "_root", "_services", "_tasks")

    def __init__(self, services: Services, root: Frame | None) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._services = services
        self._root = root
        self._queues: dict[str, collections.deque[tuple[Handlers, dict[str, Any]]]] = {}
        self._tasks: set[asyncio.Task] = set()

    def deliver(self, connection_id: str, handlers: Handlers, bindings: dict[str, Any]) -> None:
        """Queue one event of a connection; drain it now, and in a task only if a handler
        suspends (so a queue exists only while a handler of that connection is running)."""
        if not handlers:
            return
        queue = self._queues.get(connection_id)
        if queue is not None:
            queue.append((handlers, bindings))
            return
        queue = self._queues[connection_id] = collections.deque(((handlers, bindings),))
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        task = start_eagerly(self._loop, self._drain(connection_id, queue))
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _drain(self, connection_id: str, queue: collections.deque) -> None:
        while queue:
            handlers, bindings = queue.popleft()
            for code in handlers:
                await self._run(code, bindings)
        del self._queues[connection_id]  # no await since the last check: nothing was missed

    async def _run(self, code: CodeObject, bindings: dict[str, Any]) -> None:
        frame = Frame(code, self._services, parent=self._root, bindings=bindings)
        try:
            await execute(frame)
        except Exception as error:  # a failing handler never reaches the connection
            self._services.log(code.name, f"Handler error: {one_line(error)}", "stderr")

    def pending(self) -> int:
        """Connections with events still queued or running (for tests and metrics)."""
        return len(self._queues)

    async def idle(self) -> None:
        """Return once every queued event has been handled."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))


def one_line(error: Exception) -> str:
    """A handler failure as one stderr line: the statement headline, or the message."""
    if isinstance(error, StatementError):
        return f"Runtime Error: {error.headline}"
    return " ".join(str(error).split())


def socket_handlers(program: Program) -> dict[str, Handlers]:
    """The Socket Event Handlers by event (``connect``, ``data``, ``disconnect``)."""
    found: dict[str, list[CodeObject]] = {"connect": [], "data": [], "disconnect": []}
    for code in program.code_objects:
        if SOCKET_HANDLER not in code.activity or WEBSOCKET_HANDLER in code.activity:
            continue
        name = code.name.lower()
        if "disconnect" in name:
            found["disconnect"].append(code)
        elif "connect" in name:
            found["connect"].append(code)
        elif any(word in name for word in DATA_WORDS):
            found["data"].append(code)
    return {kind: tuple(codes) for kind, codes in found.items()}


def resolve_socket_port(settings: Mapping[str, Any], config: Any) -> int:
    """``--socket-port``, then ``ARO_SOCKET_PORT``, then ``with {port: N}`` or ``with N``,
    then 9000."""
    for candidate in (settings.get("socket_port"), settings.get("env_port")):
        if candidate not in (None, ""):
            return int(candidate)
    if isinstance(config, int) and not isinstance(config, bool):
        return config
    if isinstance(config, dict) and isinstance(config.get("port"), int):
        return config["port"]
    return DEFAULT_SOCKET_PORT


class SocketService:
    """``Start the <socket-server>``: a TCP server whose events run Socket Event Handlers.

    Bindings: connect → ``connection`` {id, remoteAddress}; data → ``packet`` {connection,
    connectionId, buffer, data, message, text}; disconnect → ``event`` {id, connectionId,
    reason}.
    """

    def __init__(
        self, services: Services, program: Program, root: Frame | None, host: str, port: int
    ) -> None:
        self.handlers = socket_handlers(program)
        self.dispatcher = ConnectionDispatcher(services, root)
        self.server = TcpServer(self, host, port)

    @property
    def port(self) -> int:
        return self.server.port

    async def start(self) -> dict[str, Any]:
        try:
            port = await self.server.start()
        except OSError as error:
            raise ActionError(
                f"Cannot start the socket-server on port {self.server.port}: "
                f"{error.strerror or error}"
            ) from None
        return {"port": port, "hostname": self.server.host}

    async def stop(self) -> None:
        """Close every connection, then wait for their Disconnect handlers."""
        await self.server.stop()
        await self.dispatcher.idle()

    # -- TcpHandler -------------------------------------------------------------------------

    def on_connect(self, connection: TcpConnection) -> None:
        info = {"id": connection.id, "remoteAddress": connection.remote_address}
        self.dispatcher.deliver(connection.id, self.handlers["connect"], {"connection": info})

    def on_data(self, connection: TcpConnection, data: bytes) -> None:
        handlers = self.handlers["data"]
        if not handlers:
            return
        text = data.decode("utf-8", "replace")
        packet = {
            "connection": connection.id,
            "connectionId": connection.id,
            "buffer": data,
            "data": data,
            "message": text,
            "text": text,
        }
        self.dispatcher.deliver(connection.id, handlers, {"packet": packet})

    def on_disconnect(self, connection: TcpConnection) -> None:
        event = {"id": connection.id, "connectionId": connection.id, "reason": CLOSED_REASON}
        self.dispatcher.deliver(connection.id, self.handlers["disconnect"], {"event": event})

    # -- what the actions reach through the application -------------------------------------

    def send(self, connection_id: str, data: bytes) -> bool:
        """Write to one connection; False when no open connection has that id."""
        connection = self.server.get(connection_id)
        return connection is not None and connection.send(data)

    def broadcast(self, data: bytes) -> int:
        return self.server.broadcast(data)

    def close(self, connection_id: str) -> bool:
        connection = self.server.get(connection_id)
        if connection is None:
            return False
        connection.close()
        return True
