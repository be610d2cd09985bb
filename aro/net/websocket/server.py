"""The asyncio glue: take an upgraded HTTP connection over, and keep many idle ones cheap.

A :class:`WebSocket` is the transport's protocol and the sans-I/O state machine in one
``__slots__`` object (a few hundred bytes).  Nothing runs per connection while it is idle: no
task, no read buffer, no parser until the first bytes come, no timer.  Frames leave through
the shared :class:`~aro._speedups.Outbox`, which coalesces what one loop iteration
queued for a socket into one write.  Keep-alive pings come from one sweep per upgrade
handler that visits every connection a few times per ``ping_interval``; the close handshake
arms a timer only while a connection is closing.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from aro._speedups import Outbox, encode_close
from aro.net.http import Request
from aro.net.server import HttpProtocol, UpgradeHandler
from aro.net.websocket.codes import CloseCode
from aro.net.websocket.connection import (
    CLOSED,
    CLOSING,
    OPEN,
    WebSocketConnection,
)
from aro.net.websocket.deflate import COMPRESS_MIN, PerMessageDeflate
from aro.net.websocket.handshake import check_upgrade, response_bytes

__all__ = [
    "WebSocket",
    "WebSocketHandler",
    "WebSocketSettings",
    "make_upgrade_handler",
]

logger = logging.getLogger("aro.net")

OutboxFactory = Callable[[asyncio.AbstractEventLoop], Outbox]


@dataclass
class WebSocketSettings:
    """Limits and timers of a WebSocket endpoint (docs/decisions.md, decision 13)."""

    path: str = "/ws"
    max_message: int = 1 << 20
    ping_interval: float = 20.0  # seconds of silence before we ping; 0 turns pings off
    ping_timeout: float = 20.0
    close_timeout: float = 5.0
    write_limit: int = 1 << 20  # bytes queued for a slow reader before it is closed (policy)
    compression: bool = True
    compress_min: int = COMPRESS_MIN  # shorter messages go uncompressed even when negotiated
    # Origins whose pages may connect besides the server's own; "*" = any (decision 19).
    allowed_origins: tuple[str, ...] = ()
    # Added to every 101 (a server naming itself, say)
    response_headers: tuple[tuple[bytes, bytes], ...] = ()


class WebSocketHandler(Protocol):
    """What the runtime implements; ``on_close`` comes exactly once, after the end."""

    def on_open(self, conn: WebSocket) -> None: ...

    def on_message(self, conn: WebSocket, data: str | bytes) -> None: ...

    def on_close(self, conn: WebSocket, code: int, reason: str) -> None: ...


# Connection ids: a random per-process prefix (ids stay unique across workers and machines on
# one bus: 48 bits, so a thousand workers share a prefix with odds of about 2e-9) and a counter.
_PREFIX = secrets.token_hex(6)
_counter = itertools.count(1)


class _Service:
    """What the connections of one upgrade handler share: settings, handler, outbox, and the
    set of live connections that the keep-alive sweep and ``close_all`` visit."""

    __slots__ = ("handler", "live", "loop", "outbox", "settings", "sweeper", "waiters")

    def __init__(
        self,
        settings: WebSocketSettings,
        handler: WebSocketHandler,
        loop: asyncio.AbstractEventLoop,
        outbox: Outbox,
    ) -> None:
        self.settings = settings
        self.handler = handler
        self.loop = loop
        self.outbox = outbox
        self.live: set[WebSocket] = set()
        self.waiters: dict[WebSocket, asyncio.Future] = {}
        self.sweeper: asyncio.TimerHandle | None = None

    def opened(self, conn: WebSocket) -> None:
        self.live.add(conn)
        if self.sweeper is None and self.settings.ping_interval > 0:
            self.sweeper = self.loop.call_later(self._period(), self._sweep)

    def ended(self, conn: WebSocket) -> None:
        self.live.discard(conn)
        waiter = self.waiters.pop(conn, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def watch(self, conn: WebSocket) -> asyncio.Future:
        """A future that completes when ``conn`` has ended."""
        waiter = self.waiters.get(conn)
        if waiter is None:
            waiter = self.waiters[conn] = self.loop.create_future()
            if conn not in self.live:
                waiter.set_result(None)
        return waiter

    def _period(self) -> float:
        settings = self.settings
        return min(settings.ping_interval, settings.ping_timeout or settings.ping_interval) / 4

    def _sweep(self) -> None:
        """Ping connections silent for ``ping_interval``; fail those whose ping went
        unanswered for ``ping_timeout`` (INTERNAL_ERROR, as the peer may be gone for good)."""
        self.sweeper = None
        if not self.live:
            return
        now = self.loop.time()
        interval, timeout = self.settings.ping_interval, self.settings.ping_timeout
        for conn in list(self.live):
            if conn.state != OPEN:
                continue
            silent = now - conn.last_seen
            if conn.awaiting_pong:
                if silent >= timeout:
                    conn.fail(CloseCode.INTERNAL_ERROR, "keepalive ping timeout")
                    conn._finish()
            elif silent >= interval:
                conn.ping()
                conn.awaiting_pong = True
                conn.last_seen = now
        self.sweeper = self.loop.call_later(self._period(), self._sweep)


class WebSocket(WebSocketConnection, asyncio.Protocol):
    """One server-side WebSocket connection: the transport's protocol after the upgrade.

    ``transport``, ``closing``, ``write_limit`` and ``outbox_pending`` are what the Outbox
    reads.  ``last_seen`` (loop time of the last bytes in, or of our last ping) and
    ``awaiting_pong`` drive the keep-alive sweep.
    """

    __slots__ = (
        "_released",
        "_service",
        "_timer",
        "awaiting_pong",
        "id",
        "last_seen",
        "message_outbox",
        "outbox_pending",
        "path",
        "remote_address",
        "transport",
        "write_limit",
    )

    def __init__(
        self,
        service: _Service,
        request: Request,
        transport: asyncio.Transport,
        deflate: PerMessageDeflate | None = None,
        released: Callable[[], None] | None = None,
    ) -> None:
        """``released()`` is called once the connection has ended (the HTTP server counts
        upgraded connections until then)."""
        super().__init__(service.settings.max_message, deflate)
        self.id = f"{_PREFIX}-{next(_counter)}"
        self.path = service.settings.path  # the request asked for it; one shared string
        self.remote_address = request.remote_address
        self.transport = transport
        self.write_limit = service.settings.write_limit
        self.outbox_pending: list[bytes] | None = None
        # the Outbox when messages go uncompressed: its send_message frames and queues a reply
        # in one call; None with permessage-deflate, whose frames frame_for makes
        self.message_outbox = service.outbox if deflate is None else None
        self.last_seen = service.loop.time()
        self.awaiting_pong = False
        self._service = service
        self._timer: asyncio.TimerHandle | None = None
        self._released = released

    def __repr__(self) -> str:
        return f"<WebSocket {self.id} {self.remote_address} state={self.state}>"

    # public API ----------------------------------------------------------------------------

    @property
    def outbox(self) -> Outbox:
        """The Outbox this connection's frames leave through (shared with its siblings)."""
        return self._service.outbox

    @property
    def close_timeout(self) -> float:
        """Seconds a close handshake may take before the connection is aborted."""
        return self._service.settings.close_timeout

    def wait_closed(self) -> asyncio.Future:
        """A future that completes once the connection has ended."""
        return self._service.watch(self)

    def write(self, frame: bytes) -> None:
        self._service.outbox.send(self, frame)

    def send_frame(self, frame: bytes) -> None:
        """Queue a pre-encoded frame (a broadcast's); skipped once closing, as a broadcast
        skips closing connections."""
        if self.state == OPEN:
            self._service.outbox.send(self, frame)

    def close(self, code: int = CloseCode.NORMAL_CLOSURE, reason: str = "") -> None:
        """Start the close handshake; the connection is aborted if the client has not
        answered within ``close_timeout``."""
        if self.state == OPEN:
            super().close(code, reason)
            self._arm(self._service.settings.close_timeout)

    def overflow(self) -> None:
        """The client reads too slowly (the Outbox found its write limit exceeded, and dropped
        what it held for it): close with POLICY_VIOLATION.  The close frame goes straight to
        the transport, behind what the kernel has yet to take, since the Outbox would refuse
        it."""
        if self.state != OPEN:
            return
        self.state = CLOSING
        self.closing = True
        self.close_code = CloseCode.POLICY_VIOLATION
        self.close_reason = "write buffer limit exceeded"
        self.transport.write(encode_close(self.close_code, self.close_reason))
        self._arm(self._service.settings.close_timeout)

    # transport callbacks -------------------------------------------------------------------

    def start(self, tail: bytes) -> None:
        """The connection is ours: announce it, then handle bytes that came with the request."""
        try:
            self._service.handler.on_open(self)
        except Exception:
            logger.exception("WebSocket open handler failed for %s", self.id)
            self.close(CloseCode.INTERNAL_ERROR, "internal error")
        if tail:
            self.data_received(tail)

    def data_received(self, data: bytes) -> None:
        if self.state == CLOSED:
            return
        service = self._service
        self.last_seen = service.loop.time()
        self.awaiting_pong = False
        # Plain data messages go from the parser to the handler directly, as each completes;
        # the parser hands every other event back to frame_event, in stream order.
        (self._parser or self._start_parser()).feed_into(data, self, service.handler.on_message)
        if self.state == CLOSED:
            self._finish()

    def frame_event(self, event: tuple) -> None:
        """A parser event other than a plain data message (control, compressed, error)."""
        self.receive_event(event, self._deliver)

    def _deliver(self, message: str | bytes) -> None:
        try:
            self._service.handler.on_message(self, message)
        except Exception:
            self.handler_failed()

    def handler_failed(self) -> None:
        """The message handler raised (its exception is the one being handled)."""
        logger.exception("WebSocket message handler failed for %s", self.id)
        self.close(CloseCode.INTERNAL_ERROR, "internal error")

    def eof_received(self) -> bool:
        return False  # the client's half-close ends the connection (abnormally unless it closed)

    def connection_lost(self, exc: Exception | None) -> None:
        self.state = CLOSED
        self.closing = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._parser = None
        if self._released is not None:
            self._released()
        service = self._service
        service.ended(self)
        try:
            service.handler.on_close(self, self.close_code, self.close_reason)
        except Exception:
            logger.exception("WebSocket close handler failed for %s", self.id)

    # closing -------------------------------------------------------------------------------

    def _finish(self) -> None:
        """The close handshake is over (or failed): close TCP once our frames are out.

        A frame we just queued (the close echo) leaves in the Outbox flush that is already
        scheduled, so the close is scheduled after it; the timer covers a client that has
        stopped reading.
        """
        service = self._service
        service.loop.call_soon(self.transport.close)
        self._arm(service.settings.close_timeout)

    def _arm(self, delay: float) -> None:
        if self._timer is None:
            self._timer = self._service.loop.call_later(delay, self._abort)

    def _abort(self) -> None:
        self._timer = None
        self.transport.abort()


def make_upgrade_handler(
    settings: WebSocketSettings,
    handler: WebSocketHandler,
    outbox_factory: OutboxFactory | None = None,
) -> UpgradeHandler:
    """The ``upgrade_handler`` of :class:`aro.net.server.HttpServer` for ``settings.path``.

    ``outbox_factory(loop)`` makes the Outbox the connections write through (default:
    ``Outbox(loop)``); pass one that returns a shared Outbox to coalesce with other writers.
    """
    return _Upgrader(settings, handler, outbox_factory or Outbox)


class _Upgrader:
    """Takes a request for the WebSocket path over: the 101 (or a refusal), then a WebSocket
    as the transport's protocol."""

    __slots__ = ("_service", "handler", "outbox_factory", "settings")

    def __init__(
        self, settings: WebSocketSettings, handler: WebSocketHandler, outbox_factory: OutboxFactory
    ) -> None:
        self.settings = settings
        self.handler = handler
        self.outbox_factory = outbox_factory
        self._service: _Service | None = None

    def __call__(
        self, request: Request, transport: asyncio.Transport, http_protocol: HttpProtocol
    ) -> bool:
        settings = self.settings
        if request.path != settings.path:
            return False  # not ours: HTTP routing answers it
        result = check_upgrade(request, settings.compression, settings.allowed_origins)
        if result.ok and settings.response_headers:
            result.headers.extend(settings.response_headers)
        transport.write(response_bytes(result))
        if not result.ok:
            transport.close()
            return True
        service = self._service_for(asyncio.get_running_loop())
        deflate = None
        if result.extensions is not None:
            deflate = PerMessageDeflate(result.extensions, settings.compress_min)
        released = http_protocol.server.upgraded_connection_lost
        conn = WebSocket(service, request, transport, deflate, released)
        transport.set_protocol(conn)
        if not transport.is_reading():
            transport.resume_reading()  # HTTP pipelining may have paused it
        service.opened(conn)
        conn.start(http_protocol.parser.upgrade_tail)
        return True

    def _service_for(self, loop: asyncio.AbstractEventLoop) -> _Service:
        service = self._service
        if service is None or service.loop is not loop:
            outbox = self.outbox_factory(loop)
            service = self._service = _Service(self.settings, self.handler, loop, outbox)
        return service
