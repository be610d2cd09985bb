"""WebSocket server (RFC 6455, permessage-deflate of RFC 7692): the sans-I/O handshake and
connection, the asyncio glue that takes an upgraded HTTP connection over (``server``), and the
hub that registers connections and broadcasts to them."""

from aro.net.websocket.codes import CloseCode
from aro.net.websocket.connection import ConnectionClosed, WebSocketConnection
from aro.net.websocket.deflate import DeflateParams, MessageTooBig, PerMessageDeflate, negotiate
from aro.net.websocket.handshake import HandshakeResult, check_upgrade, response_bytes
from aro.net.websocket.hub import WebSocketHub
from aro.net.websocket.server import (
    WebSocket,
    WebSocketHandler,
    WebSocketSettings,
    make_upgrade_handler,
)

__all__ = [
    "CloseCode",
    "ConnectionClosed",
    "DeflateParams",
    "HandshakeResult",
    "MessageTooBig",
    "PerMessageDeflate",
    "WebSocket",
    "WebSocketConnection",
    "WebSocketHandler",
    "WebSocketHub",
    "WebSocketSettings",
    "check_upgrade",
    "make_upgrade_handler",
    "negotiate",
    "response_bytes",
]
