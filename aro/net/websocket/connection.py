"""The WebSocket connection as a sans-I/O state machine (RFC 6455 §5 to §7): bytes in, messages out.

``OPEN → CLOSING → CLOSED``.  CLOSING means we sent a close frame and wait for the client's;
CLOSED means the close handshake is over (or the connection failed) and the transport should
close now: RFC 6455 §7.1.1 has the server close TCP first.  Frames leave through
:meth:`WebSocketConnection.write`, which the I/O layer provides, so this class can be
driven from tests with plain bytes.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

from aro._speedups import (
    OP_BINARY,
    OP_CLOSE,
    OP_COMPRESSED_BINARY,
    OP_COMPRESSED_TEXT,
    OP_ERROR,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    FrameParser,
    encode_close,
    encode_frame,
    validate_utf8,
)
from aro.net.websocket.codes import CloseCode
from aro.net.websocket.deflate import MessageTooBig, PerMessageDeflate

__all__ = [
    "CLOSED",
    "CLOSING",
    "OPEN",
    "ConnectionClosed",
    "WebSocketConnection",
]

OPEN, CLOSING, CLOSED = 0, 1, 2

PLAIN_DATA = (OP_TEXT, OP_BINARY)  # the opcodes of uncompressed data frames
_DEFLATED = (OP_COMPRESSED_TEXT, OP_COMPRESSED_BINARY)


class ConnectionClosed(Exception):
    """A message was sent on a connection that is closing or closed."""


class WebSocketConnection:
    """The protocol of one connection, server side.

    :meth:`receive` answers pings, runs the close handshake (echoing the client's code) and
    fails the connection on protocol errors with the parser's close code; once we have sent
    a close frame, data frames are no longer delivered.  ``close_code``/``close_reason``
    end as the client's close frame if it closed first, else the one we sent, else
    ABNORMAL_CLOSURE (no close frame either way, RFC 6455 §7.1.5).
    """

    __slots__ = (
        "_deflate",
        "_max_message",
        "_parser",
        "close_code",
        "close_reason",
        "closing",
        "state",
    )

    def __init__(self, max_message: int = 1 << 20, deflate: PerMessageDeflate | None = None):
        self.state = OPEN
        self.closing = False
        self.close_code: int = CloseCode.ABNORMAL_CLOSURE
        self.close_reason = ""
        self._max_message = max_message
        self._deflate = deflate
        self._parser: FrameParser | None = None  # made on the first bytes: idle costs nothing

    def write(self, frame: bytes) -> None:
        """Send one encoded frame; the I/O layer overrides this."""
        raise NotImplementedError

    @property
    def open(self) -> bool:
        return self.state == OPEN

    @property
    def deflate(self) -> PerMessageDeflate | None:
        """The negotiated permessage-deflate, or None when messages go uncompressed."""
        return self._deflate

    # receiving -----------------------------------------------------------------------------

    def receive(self, data: bytes, deliver: Callable[[str | bytes], object]) -> None:
        """Feed bytes from the client; ``deliver`` each message they complete, in order.

        Events are acted on in stream order, so replies to messages that came just before
        the client's close frame still leave before our answer to it.
        """
        for event in (self._parser or self._start_parser()).feed(data):
            self.receive_event(event, deliver)

    def _start_parser(self) -> FrameParser:
        """The frame parser, made on the first bytes (an idle connection holds none)."""
        parser = self._parser = FrameParser(self._max_message, self._deflate is not None)
        return parser

    def receive_event(self, event: tuple, deliver: Callable[[str | bytes], object]) -> None:
        """Act on one event of the frame parser (see :meth:`receive`)."""
        opcode = event[0]
        if opcode in PLAIN_DATA:
            if self.state == OPEN:
                deliver(event[1])
        elif opcode in _DEFLATED:
            if self.state == OPEN:
                self._inflate(opcode, event[1], deliver)
        else:
            self._control(event)

    def _inflate(
        self, opcode: int, payload: bytes, deliver: Callable[[str | bytes], object]
    ) -> None:
        try:
            data = self._deflate.decompress(payload, self._max_message)
        except MessageTooBig:
            self.fail(CloseCode.MESSAGE_TOO_BIG, "message too big")
            return
        except zlib.error:
            self.fail(CloseCode.INVALID_DATA, "invalid compressed data")
            return
        if opcode == OP_COMPRESSED_BINARY:
            deliver(data)
            return
        text = validate_utf8(data)
        if text is None:
            self.fail(CloseCode.INVALID_DATA, "invalid UTF-8")
        else:
            deliver(text)

    def _control(self, event: tuple) -> None:
        opcode = event[0]
        if opcode == OP_PING:
            if self.state == OPEN:
                self.write(encode_frame(OP_PONG, event[1]))
        elif opcode == OP_CLOSE:
            self._close_received(event[1], event[2])
        elif opcode == OP_ERROR:
            self.fail(event[1], event[2])
        # a pong needs no answer: any bytes received already prove the client alive

    def _close_received(self, code: int, reason: str) -> None:
        if self.state == OPEN:
            self.close_code, self.close_reason = code, reason
            # Echo the client's code; a close without one (NO_STATUS_RCVD) is answered without
            # one, as encode_close gives that code an empty body.
            self.write(encode_close(code))
        self.state = CLOSED
        self.closing = True

    # sending -------------------------------------------------------------------------------

    def frame_for(self, data: str | bytes) -> bytes:
        """One message as a frame: text for str, binary for bytes, compressed when it pays."""
        if type(data) is str:
            opcode, payload = OP_TEXT, data.encode()
        else:
            opcode, payload = OP_BINARY, bytes(data)
        deflate = self._deflate
        if deflate is not None and len(payload) >= deflate.min_size:
            return encode_frame(opcode, deflate.compress(payload), True)
        return encode_frame(opcode, payload)

    def send(self, data: str | bytes) -> None:
        """Send one message; raises ConnectionClosed once the connection is closing."""
        if self.state != OPEN:
            raise ConnectionClosed("WebSocket connection is closed")
        self.write(self.frame_for(data))

    def ping(self, payload: bytes = b"") -> None:
        if self.state == OPEN:
            self.write(encode_frame(OP_PING, payload))

    def close(self, code: int = CloseCode.NORMAL_CLOSURE, reason: str = "") -> None:
        """Start the close handshake (a no-op once closing); the client's answer ends it.

        Raises ValueError for a code that may not be sent (ABNORMAL_CLOSURE, TLS_HANDSHAKE, ...).
        """
        if self.state == OPEN:
            self._send_close(code, reason)
            self.state = CLOSING

    def fail(self, code: int, reason: str) -> None:
        """Fail the connection (RFC 6455 §7.1.7): say why if we still may, then be CLOSED."""
        if self.state == OPEN:
            self._send_close(code, reason)
        self.state = CLOSED
        self.closing = True

    def _send_close(self, code: int, reason: str) -> None:
        frame = encode_close(code, reason)  # first: it refuses codes that may not be sent
        self.close_code, self.close_reason = code, reason
        self.write(frame)
        self.closing = True  # after the write: the Outbox takes nothing from a closing one
