"""TCP connections: the server behind ``Start the <socket-server>`` and the outbound
connections of ``Connect``.

Raw bytes without framing: every read becomes one ``on_data`` call, whatever the sender's
message boundaries were.  Neither side knows anything about ARO; each reports connect, data and
disconnect to a :class:`TcpHandler` and lets the runtime write to a connection by its id.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from typing import Protocol

from aro.net.listen import listen

__all__ = ["TcpClients", "TcpConnection", "TcpHandler", "TcpServer"]

#: Bytes a connection may have waiting in its transport before it counts as a slow reader
#: and is dropped, so that one stuck client cannot grow the server's memory without bound.
WRITE_LIMIT = 1 << 20


class TcpHandler(Protocol):
    """What the runtime implements; each call happens on the event loop, in wire order."""

    def on_connect(self, connection: TcpConnection) -> None: ...

    def on_data(self, connection: TcpConnection, data: bytes) -> None: ...

    def on_disconnect(self, connection: TcpConnection) -> None: ...


class TcpConnection(asyncio.Protocol):
    """One client: its id (an upper-case UUID, as the reference's) and its transport."""

    __slots__ = ("_server", "closing", "id", "remote_address", "transport")

    def __init__(self, server: TcpEndpoint) -> None:
        self._server = server
        self.id = str(uuid.uuid4()).upper()
        self.remote_address = ""
        self.transport: asyncio.Transport | None = None
        self.closing = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.remote_address = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else ""
        self._server._opened(self)

    def data_received(self, data: bytes) -> None:
        self._server.handler.on_data(self, data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        self._server._lost(self)

    def send(self, data: bytes) -> bool:
        """Queue ``data``; False when the connection is closing.  A reader too slow to keep
        its backlog under the write limit is dropped."""
        if self.closing:
            return False
        self.transport.write(data)
        if self.transport.get_write_buffer_size() > self._server.write_limit:
            self.closing = True
            self.transport.abort()
        return True

    def close(self) -> None:
        """Close once what is queued has been written."""
        if not self.closing:
            self.closing = True
            self.transport.close()


class TcpEndpoint:
    """Open connections by id, reported to a handler: what a server and a client share."""

    def __init__(self, handler: TcpHandler, write_limit: int = WRITE_LIMIT) -> None:
        self.handler = handler
        self.write_limit = write_limit
        self.connections: dict[str, TcpConnection] = {}
        self._drained: asyncio.Future | None = None

    def get(self, connection_id: str) -> TcpConnection | None:
        connection = self.connections.get(connection_id)
        return None if connection is None or connection.closing else connection

    async def close_all(self, grace: float) -> None:
        """Close every connection; return once all of them reported their disconnect
        (connections still open after ``grace`` seconds are aborted)."""
        for connection in list(self.connections.values()):
            connection.close()
        if self.connections:
            self._drained = drained = asyncio.get_running_loop().create_future()
            await asyncio.wait([drained], timeout=grace)
            self._drained = None
            for connection in list(self.connections.values()):
                connection.transport.abort()
            await asyncio.sleep(0)  # the aborted ones report their disconnect

    def _opened(self, connection: TcpConnection) -> None:
        self.connections[connection.id] = connection
        self.handler.on_connect(connection)

    def _lost(self, connection: TcpConnection) -> None:
        if self.connections.pop(connection.id, None) is None:
            return
        self.handler.on_disconnect(connection)
        if not self.connections and self._drained is not None and not self._drained.done():
            self._drained.set_result(None)


class TcpServer(TcpEndpoint):
    """The listening socket and its open connections, by id."""

    def __init__(
        self,
        handler: TcpHandler,
        host: str,
        port: int,
        write_limit: int = WRITE_LIMIT,
        reuse_port: bool = False,
    ) -> None:
        super().__init__(handler, write_limit)
        self.host = host
        self.port = port
        self.reuse_port = reuse_port  # several processes accept on the port
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> int:
        """Bind and listen; answer the actual port (``port=0`` picks a free one)."""
        self._server, self.port = await listen(
            lambda: TcpConnection(self), self.host, self.port, self.reuse_port
        )
        return self.port

    def broadcast(self, data: bytes) -> int:
        """Write ``data`` to every open connection; answer how many got it."""
        return sum(connection.send(data) for connection in list(self.connections.values()))

    def stop_accepting(self) -> None:
        """Close the listening socket; open connections go on."""
        if self._server is not None:
            self._server.close()

    async def stop(self, grace: float = 5.0) -> None:
        """Stop listening and close every connection (see ``close_all``)."""
        if self._server is None:
            return
        server, self._server = self._server, None
        server.close()
        await self.close_all(grace)


class TcpClients(TcpEndpoint):
    """Connections this process opened to other servers."""

    async def connect(self, host: str, port: int) -> TcpConnection:
        """Open a connection to the first address of ``host`` that accepts one, IPv4 ones
        first: ``localhost`` may name ::1 and 127.0.0.1 while a server listens on 127.0.0.1
        only.  Raises the last address's OSError when none accepts."""
        loop = asyncio.get_running_loop()
        found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = sorted(found, key=lambda info: info[0] != socket.AF_INET)
        failure: OSError = OSError(f"no address for {host}")
        for family, _, _, _, address in addresses:
            try:
                _, connection = await loop.create_connection(
                    lambda: TcpConnection(self), address[0], address[1], family=family
                )
                return connection
            except OSError as error:
                failure = error
        raise failure
