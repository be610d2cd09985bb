"""``Connect``: outbound TCP connections whose events run the Socket Event Handlers.

The same handlers as for the socket server's clients (``packet`` for data, ``event`` for a
disconnect), in order per connection.  Each open connection is an event source, so
``Keepalive`` waits for its replies; the application's end closes them.
"""

from __future__ import annotations

import asyncio

from aro.net.tcp import TcpClients, TcpConnection
from aro.runtime.dispatch import ConnectionDispatcher
from aro.runtime.handlers import CONNECT, DATA, DISCONNECT, HandlerTable
from aro.runtime.socket_service import CLOSED_REASON, packet
from aro.runtime.sources import EventSources
from aro.vm.errors import ActionError
from aro.vm.frame import Frame
from aro.vm.services import Services

CLOSE_GRACE_S = 2.0


class SocketClientService:
    """The application's ``sockets`` capability (docs/extending.md, A capability)."""

    def __init__(
        self, services: Services, handlers: HandlerTable, root: Frame | None, sources: EventSources
    ) -> None:
        self.connect_handlers = handlers.socket[CONNECT]
        self.data_handlers = handlers.socket[DATA]
        self.disconnect_handlers = handlers.socket[DISCONNECT]
        self.dispatcher = ConnectionDispatcher(services, root)
        self.clients = TcpClients(self)
        self._sources = sources
        self._closed: dict[str, asyncio.Future] = {}  # resolved by each one's disconnect

    async def connect(self, host: str, port: int) -> str:
        try:
            connection = await self.clients.connect(host, port)
        except OSError as error:
            reason = error.strerror or str(error)
            raise ActionError(f"Connection failed: {host}:{port}: {reason}") from None
        closed = self._closed.get(connection.id)
        if closed is not None:  # else it closed already
            self._sources.spawn(self._until_closed(connection, closed))
        return connection.id

    @staticmethod
    async def _until_closed(connection: TcpConnection, closed: asyncio.Future) -> None:
        """The connection as an event source: done when it closes, closing it when cancelled."""
        try:
            await closed
        finally:
            connection.close()

    async def close(self) -> None:
        """Close every connection and wait for their Disconnect handlers."""
        await self.clients.close_all(CLOSE_GRACE_S)
        await self.dispatcher.idle()

    # -- what Send and Close reach through the application ---------------------------------

    def send(self, connection_id: str, data: bytes) -> bool:
        connection = self.clients.get(connection_id)
        return connection is not None and connection.send(data)

    def close_connection(self, connection_id: str) -> bool:
        connection = self.clients.get(connection_id)
        if connection is None:
            return False
        connection.close()
        return True

    # -- TcpHandler ---------------------------------------------------------------------------

    def on_connect(self, connection: TcpConnection) -> None:
        self._closed[connection.id] = asyncio.get_running_loop().create_future()
        info = {"id": connection.id, "remoteAddress": connection.remote_address}
        self.dispatcher.deliver(connection.id, self.connect_handlers, "connection", info)

    def on_data(self, connection: TcpConnection, data: bytes) -> None:
        data_packet = packet(connection.id, data)
        self.dispatcher.deliver(connection.id, self.data_handlers, "packet", data_packet)

    def on_disconnect(self, connection: TcpConnection) -> None:
        event = {"id": connection.id, "connectionId": connection.id, "reason": CLOSED_REASON}
        self.dispatcher.deliver(connection.id, self.disconnect_handlers, "event", event)
        closed = self._closed.pop(connection.id, None)
        if closed is not None and not closed.done():
            closed.set_result(None)
