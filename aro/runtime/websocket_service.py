"""WebSocket events into WebSocket Event Handler feature sets
(docs/decisions.md, decisions 8 to 12).

The protocol layer (``aro.net.websocket``) owns frames, handshakes and the close handshake;
this module is the ``WebSocketHandler`` it reports to.  It keeps the registry of open
connections (``WebSocketHub``) that Broadcast and Send reach, and turns each connection's
open, messages and close into handler runs, in order per connection (decision 11) through the
same ``ConnectionDispatcher`` as the TCP socket server.

Handlers come from the program's handler table (``aro.runtime.handlers``: WebSocket Event
Handlers, chosen by name).  Every event binds ``event`` with both ``id`` and ``connectionId``
(decision 9).
"""

from __future__ import annotations

import asyncio
from typing import Any

from aro.config import Config
from aro.net.server import UpgradeHandler
from aro.net.websocket import (
    CloseCode,
    WebSocket,
    WebSocketHub,
    WebSocketSettings,
    make_upgrade_handler,
)
from aro.net.websocket.connection import OPEN
from aro.runtime.broadcast import Connections
from aro.runtime.dispatch import ConnectionDispatcher
from aro.runtime.handlers import CONNECT, DISCONNECT, MESSAGE, HandlerTable
from aro.vm.frame import Frame
from aro.vm.services import Services

WORKER_HEADER = b"X-Aro-Worker"  # under aro serve: which worker took the connection
SHUTDOWN_REASON = "server shutting down"
CLOSE_REASON = "closed by the server"  # what `Close the <connection>` tells the client
#: Seconds clients get to answer the shutdown close before they are dropped: well under the
#: 5 s after which a signalled process exits anyway, so their Disconnect handlers still run.
SHUTDOWN_GRACE = 2.0


def websocket_settings(with_value: Any, config: Config) -> WebSocketSettings | None:
    """Decision 8: on at ``/ws`` unless ``Start … with { websocket: false }``; a string moves
    it.  Limits come from the Config's ``ws_*`` options."""
    path = with_value.get("websocket", True) if isinstance(with_value, dict) else True
    if path is False or path is None:
        return None
    ws = WebSocketSettings(
        max_message=config.ws_max_message,
        ping_interval=config.ws_ping_interval,
        compression=config.ws_compression,
        compress_min=config.ws_compress_min,
        allowed_origins=config.ws_allowed_origins,
    )
    if config.worker:
        ws.response_headers = ((WORKER_HEADER, config.worker.encode()),)
    if isinstance(path, str):
        ws.path = path if path.startswith("/") else "/" + path
    return ws


def close_reason(code: int, reason: str) -> str:
    """The Disconnect event's ``reason``: the close frame's text (the client's, or ours when
    the server closed first) when there is one, else the reference's words for a close
    handshake and for a dropped connection."""
    if reason:
        return reason
    return "connection closed" if code == CloseCode.ABNORMAL_CLOSURE else "client closed"


class WebSocketService:
    """The WebSocket side of one HTTP server: handler dispatch and the connection registry."""

    def __init__(
        self,
        services: Services,
        handlers: HandlerTable,
        root: Frame | None,
        settings: WebSocketSettings,
    ) -> None:
        self.settings = settings
        self.hub = WebSocketHub()
        self.connect_handlers = handlers.websocket[CONNECT]
        self.message_handlers = handlers.websocket[MESSAGE]
        self.disconnect_handlers = handlers.websocket[DISCONNECT]
        self.dispatcher = ConnectionDispatcher(services, root)
        self.connections: Connections = services.connections  # the runtime's: see on_message
        self.broadcasts = 0  # handed to this worker's clients, for the metrics

    def upgrade_handler(self) -> UpgradeHandler:
        """What the HTTP server calls for a request with ``Upgrade``."""
        return make_upgrade_handler(self.settings, self)

    async def stop(self) -> None:
        """Close every connection (going away), then wait for their Disconnect handlers."""
        closing = self.hub.close_all(CloseCode.GOING_AWAY, SHUTDOWN_REASON)
        try:
            await asyncio.wait_for(closing, SHUTDOWN_GRACE)
        except TimeoutError:
            for conn in self.hub.connections:
                conn.transport.abort()
            await asyncio.sleep(0)  # the aborted connections report their close
        await self.dispatcher.idle()

    # -- WebSocketHandler -------------------------------------------------------------------

    def on_open(self, conn: WebSocket) -> None:
        self.hub.add(conn)
        event = {
            "id": conn.id,
            "connectionId": conn.id,
            "path": conn.path,
            "remoteAddress": conn.remote_address,
        }
        self.dispatcher.deliver(conn.id, self.connect_handlers, "event", event)

    def on_message(self, conn: WebSocket, data: str | bytes) -> None:
        handlers = self.message_handlers
        if handlers:
            event = {"id": conn.id, "connectionId": conn.id, "message": data}
            # a reply Sent while the handlers run eagerly goes straight through conn
            connections = self.connections
            connections.replying = conn
            try:
                self.dispatcher.deliver(conn.id, handlers, "event", event)
            finally:  # zero-cost unless raised: a stale reply target must never outlive this
                connections.replying = None

    def on_close(self, conn: WebSocket, code: int, reason: str) -> None:
        self.hub.remove(conn)
        event = {
            "id": conn.id,
            "connectionId": conn.id,
            "reason": close_reason(code, reason),
            "code": int(code),  # a plain int for the VM, not a CloseCode
        }
        self.dispatcher.deliver(conn.id, self.disconnect_handlers, "event", event)

    # -- what the actions reach through the application -------------------------------------

    def broadcast_payload(self, payload: bytes, text: bool) -> int:
        """Broadcast a message serialized once already (text: UTF-8 bytes)."""
        self.broadcasts += 1
        return self.hub.broadcast_payload(payload, text)

    def _open_connection(self, connection_id: str) -> WebSocket | None:
        conn = self.hub.get(connection_id)
        return conn if conn is not None and conn.open else None

    def send(self, connection_id: str, data: str | bytes) -> bool:
        conn = self.hub.get(connection_id)
        if conn is None or conn.state != OPEN:
            return False
        conn.write(conn.frame_for(data))  # what conn.send does, its state checked just above
        return True

    def close(self, connection_id: str) -> bool:
        conn = self._open_connection(connection_id)
        if conn is None:
            return False
        conn.close(CloseCode.NORMAL_CLOSURE, CLOSE_REASON)
        return True
