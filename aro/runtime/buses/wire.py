"""What one worker tells the others, as bytes: a broadcast, a Send or a Close.

The payload of a broadcast is the one serialized in the publishing worker; the receiving
worker hands it to ``LocalClients.deliver`` as it is, once.  One byte says the kind, then
flags, then (for Send and Close) the connection id with its length.
"""

from __future__ import annotations

import struct

from aro.runtime.broadcast import SOCKET_CHANNEL, WEBSOCKET_CHANNEL, LocalClients

BROADCAST, SEND, CLOSE = b"B", b"S", b"C"
TEXT, BINARY = b"t", b"b"
WEBSOCKET_ONLY, ANY_CONNECTION = b"w", b"a"
_ID_LENGTH = struct.Struct(">H")
_CHANNELS = {WEBSOCKET_CHANNEL: b"w", SOCKET_CHANNEL: b"s"}
_CHANNEL_OF = {code: channel for channel, code in _CHANNELS.items()}


def broadcast(channel: str, payload: bytes, text: bool) -> bytes:
    return BROADCAST + _CHANNELS[channel] + (TEXT if text else BINARY) + payload


def send(connection_id: str, payload: bytes, text: bool, websocket_only: bool) -> bytes:
    ident = connection_id.encode()
    flags = (WEBSOCKET_ONLY if websocket_only else ANY_CONNECTION) + (TEXT if text else BINARY)
    return SEND + flags + _ID_LENGTH.pack(len(ident)) + ident + payload


def close(connection_id: str) -> bytes:
    return CLOSE + connection_id.encode()


def apply(message: bytes, local: LocalClients) -> None:
    """Do what another worker asked, to this worker's clients.  A Send or Close for an id this
    worker does not hold is for another worker: nothing to do here."""
    kind = message[:1]
    text = message[2:3] == TEXT
    if kind == BROADCAST:
        local.deliver(_CHANNEL_OF[message[1:2]], message[3:], text)
    elif kind == SEND:
        (length,) = _ID_LENGTH.unpack_from(message, 3)
        ident = message[5 : 5 + length].decode()
        payload = message[5 + length :]
        local.send(ident, payload.decode() if text else payload, message[1:2] == WEBSOCKET_ONLY)
    elif kind == CLOSE:
        local.close(message[1:].decode())
