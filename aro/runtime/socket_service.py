"""The `<socket-server>` service: TCP connection events into Socket Event Handlers.

Handlers come from the program's handler table (``aro.runtime.handlers``: chosen by name,
and WebSocket Event Handlers are not TCP handlers); they run in order per connection through
``aro.runtime.dispatch.ConnectionDispatcher``.
"""

from __future__ import annotations

from typing import Any

from aro.config import Config, first_port
from aro.net.tcp import TcpConnection, TcpServer
from aro.runtime.dispatch import ConnectionDispatcher
from aro.runtime.errors import listen_failure
from aro.runtime.handlers import CONNECT, DATA, DISCONNECT, HandlerTable
from aro.vm.frame import Frame
from aro.vm.services import Services

DEFAULT_SOCKET_PORT = 9000
CLOSED_REASON = "connection closed"


def resolve_socket_port(config: Config, with_value: Any) -> int:
    """``--socket-port`` or ``ARO_SOCKET_PORT`` (``config.socket_port``), then ``with
    {port: N}`` or ``with N``, then 9000."""
    return first_port(config.socket_port, with_value, DEFAULT_SOCKET_PORT)


def packet(connection_id: str, data: bytes) -> dict[str, Any]:
    """What a Socket Event Handler sees of received bytes, as ``packet``."""
    text = data.decode("utf-8", "replace")
    return {
        "connection": connection_id,
        "connectionId": connection_id,
        "buffer": data,
        "data": data,
        "message": text,
        "text": text,
    }


class SocketService:
    """``Start the <socket-server>``: a TCP server whose events run Socket Event Handlers.

    Bindings: connect → ``connection`` {id, remoteAddress}; data → ``packet`` {connection,
    connectionId, buffer, data, message, text}; disconnect → ``event`` {id, connectionId,
    reason}.
    """

    def __init__(
        self,
        services: Services,
        handlers: HandlerTable,
        root: Frame | None,
        host: str,
        port: int,
        reuse_port: bool = False,
    ) -> None:
        self.connect_handlers = handlers.socket[CONNECT]
        self.data_handlers = handlers.socket[DATA]
        self.disconnect_handlers = handlers.socket[DISCONNECT]
        self.dispatcher = ConnectionDispatcher(services, root)
        self.server = TcpServer(self, host, port, reuse_port=reuse_port)

    @property
    def port(self) -> int:
        return self.server.port

    async def start(self) -> dict[str, Any]:
        try:
            port = await self.server.start()
        except OSError as error:
            raise listen_failure(self.server.host, self.server.port, error) from None
        return {"port": port, "hostname": self.server.host}

    async def stop(self) -> None:
        """Close every connection, then wait for their Disconnect handlers."""
        await self.server.stop()
        await self.dispatcher.idle()

    # -- TcpHandler -------------------------------------------------------------------------

    def on_connect(self, connection: TcpConnection) -> None:
        info = {"id": connection.id, "remoteAddress": connection.remote_address}
        self.dispatcher.deliver(connection.id, self.connect_handlers, "connection", info)

    def on_data(self, connection: TcpConnection, data: bytes) -> None:
        handlers = self.data_handlers
        if not handlers:
            return
        self.dispatcher.deliver(connection.id, handlers, "packet", packet(connection.id, data))

    def on_disconnect(self, connection: TcpConnection) -> None:
        event = {"id": connection.id, "connectionId": connection.id, "reason": CLOSED_REASON}
        self.dispatcher.deliver(connection.id, self.disconnect_handlers, "event", event)

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
