"""Asyncio glue around the sans-I/O core of ``aro.net.http`` (runs on uvloop or plain asyncio).

One :class:`HttpProtocol` per connection feeds bytes to an :class:`HttpParser` and calls the
handler once per request.  What makes small handlers fast: a handler's coroutine is started
eagerly (:func:`aro.net.aio.first_step`); only one that really suspends becomes a task, so a
handler that never awaits costs no task, no future and no extra loop iteration.  Responses
leave in request order whatever order handlers finish in; the responses of one read go out in
one write.

Connection lifetime (docs/decisions.md, decision 17): a request must be complete within
``request_timeout`` of its first byte, and an idle connection closes ``keepalive_timeout`` after
its last response (or ``request_timeout`` after blank lines that began no request, if sooner),
so bytes that complete nothing never extend a connection's life.  Beyond ``max_connections``
(upgraded WebSockets included) the oldest idle keep-alive connections make room; when none is
idle, a newcomer gets a 503.

Flow control (docs/decisions.md, decision 23): a connection whose unsent output is above the
transport's high-water mark, or that has :data:`MAX_PIPELINE` handlers in flight, is neither
read nor parsed further; what it already sent waits as parsed requests and unparsed bytes (a
:class:`_Backlog`) and is answered in order once the client reads.  A read is parsed
:data:`PARSE_SLICE` bytes at a time, so a burst of tiny pipelined requests never turns into
more than a few writes' worth of responses at once.  A connection closed after a final
response while its client was still sending lingers (:class:`_LingeringClose`) so that the
response is not lost to a reset.
"""

from __future__ import annotations

import asyncio
import heapq
import json
import logging
import resource
from collections.abc import Awaitable, Callable, Sequence

from aro.net.aio import Suspended, first_step
from aro.net.http import CONTINUE, MAX_BODY, HttpError, HttpParser, Request, encode_response
from aro.net.listen import listen

__all__ = ["Handler", "HttpProtocol", "HttpServer", "RawResponse", "UpgradeHandler"]

logger = logging.getLogger("aro.net")

#: What a handler answers: status, headers as (name, value) bytes pairs, body.
RawResponse = tuple[int, Sequence[tuple[bytes, bytes]], bytes]
#: A handler answers the response, a coroutine that answers it, or a ``Suspended`` (a handler
#: that began its work in its own context and waits: the rest goes on in a task there).
Handler = Callable[[Request], Awaitable[RawResponse] | RawResponse | Suspended]
#: Answers whether it took the connection; one that gives the transport a new protocol makes
#: that protocol call ``http_protocol.server.upgraded_connection_lost()`` from its
#: ``connection_lost``, so that upgraded connections count against ``max_connections``.
UpgradeHandler = Callable[[Request, asyncio.Transport, "HttpProtocol"], bool]

#: Requests of one connection in flight at once before we stop reading from it.
MAX_PIPELINE = 32
#: Bytes parsed at once from a larger read: bounds the requests parsed ahead of their answers.
PARSE_SLICE = 16 * 1024
#: Responses gathered for one write before the transport's write buffer is looked at again
#: (the transport's own default high-water mark).
BATCH_BYTES = 64 * 1024
#: How long, and for how many bytes, a closing connection keeps reading what its client still
#: sends (nginx's lingering close), so that our last response is not destroyed by a reset.
LINGER_SECONDS = 2.0
LINGER_BYTES = 16 * 1024 * 1024

_JSON = [(b"Content-Type", b"application/json")]
_KEEP_ALIVE = (b"Connection", b"keep-alive")
_ERROR_500 = b'{"error":"Internal Server Error"}'

#: Seconds a refused connection stays open after its 503 so that the client reads the answer
#: (closing on unread request bytes would reset the connection and lose the 503).
REFUSAL_LINGER = 1.0
#: Refused connections allowed to linger at once; more are closed right after their 503.
MAX_LINGERING_REFUSALS = 16


def _error_body(message: str) -> bytes:
    return json.dumps({"error": message}, separators=(",", ":")).encode()


_SERVICE_UNAVAILABLE = encode_response(
    503,
    [*_JSON, (b"Retry-After", b"1")],
    _error_body("Service Unavailable: too many connections (max_connections)"),
    False,
)


def default_max_connections() -> int:
    """The open-files limit less a spare eighth (at least 32) for everything else the
    process opens: listening sockets, the store, logs, and refusals in flight."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        soft = 1 << 20
    return max(1, soft - max(32, soft // 8))


class _Slot:
    """A response owed in request order; ``data`` is None until its handler finishes."""

    __slots__ = ("data", "keep_alive", "task")

    def __init__(self, data: bytes | None = None, keep_alive: bool = True) -> None:
        self.data = data
        self.keep_alive = keep_alive
        self.task: asyncio.Task | None = None


class _Backlog:
    """What a connection holds while it may not go on: parsed requests not yet handled, then
    received bytes not yet parsed (``data`` from ``offset``)."""

    __slots__ = ("data", "events", "offset")

    def __init__(self, events: Sequence[Request | HttpError], data: bytes = b"") -> None:
        self.events = events
        self.data = data
        self.offset = 0

    def next_slice(self) -> bytes:
        start = self.offset
        self.offset = start + PARSE_SLICE
        return self.data[start : self.offset]


class HttpProtocol(asyncio.Protocol):
    """One HTTP/1.1 connection: keep-alive, pipelining, timeouts, flow control, upgrade.

    ``parser`` is public for upgrade handlers (``parser.upgrade_tail`` holds bytes that
    followed the upgrade request).
    """

    __slots__ = (
        "_backlog",
        "_batch",
        "_batch_bytes",
        "_closed",
        "_closing",
        "_handler",
        "_idle_since",
        "_loop",
        "_pending",
        "_reading",
        "_request_since",
        "_server",
        "_timer",
        "_transport",
        "_upgrade",
        "_write_paused",
        "parser",
        "remote_address",
    )

    def __init__(self, server: HttpServer) -> None:
        self._server = server
        self._handler = server.handler
        self._loop = asyncio.get_running_loop()
        self.parser = HttpParser(server.max_body, server.max_header_bytes, server.max_headers)
        self._transport: asyncio.Transport | None = None
        self._pending: list[_Slot] = []  # short (≤ MAX_PIPELINE): a list is smaller than a deque
        self._batch: list[bytes] | None = None
        self._batch_bytes = 0
        self._backlog: _Backlog | None = None
        self._closed = self._closing = self._write_paused = False
        self._reading = True
        self._upgrade: Request | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._idle_since = 0.0  # when the last response went out (or the connection opened)
        self._request_since: float | None = None  # first byte of an unfinished request
        self.remote_address = ""

    # transport callbacks -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport
        peer = transport.get_extra_info("peername")
        self.remote_address = peer[0] if isinstance(peer, tuple) else str(peer or "")
        self._server._connections[self] = None
        self._idle_since = now = self._loop.time()
        self._arm(now + self._server.keepalive_timeout)

    @property
    def server(self) -> HttpServer:
        return self._server

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._server._forget(self)

    def data_received(self, data: bytes) -> None:
        backlog = self._backlog
        if backlog is None and len(data) <= PARSE_SLICE:
            self._parse(data)
            if self._backlog is not None:
                self._proceed()
        elif backlog is None:
            self._backlog = _Backlog((), data)
            self._proceed()
        else:  # read before reading paused: it queues behind the rest
            backlog.data = backlog.data[backlog.offset :] + data
            backlog.offset = 0

    def _parse(self, data: bytes) -> None:
        parser = self.parser
        events = parser.feed(data)
        now = self._loop.time()
        if len(events) == 1:
            self._handle(events[0])
        elif events:
            self._handle_all(events)
            if self._backlog is not None and self._backlog.events:
                return  # the rest of this slice is answered first
        self._after_requests(now, bool(events))

    def _after_requests(self, now: float, had_events: bool) -> None:
        """Announce 100-continue; start the keep-alive or request clock, as the last bytes
        parsed left the connection idle or in a request."""
        if self._closed:
            return
        parser = self.parser
        if parser.expect_continue:
            parser.expect_continue = False
            if self._pending:
                self._pending.append(_Slot(CONTINUE))  # after the responses owed before it
            else:
                self._send(CONTINUE)
        if had_events:
            if not self._pending:
                self._idle_since = now  # the responses are out: keep-alive counts from here
            if not parser.partial:
                self._request_since = None
                return
        elif self._request_since is not None:
            return  # more of a request already timed: its deadline stays where it was
        # The first byte of a request, or of blank lines that may precede one.
        self._request_since = now
        deadline = now + self._server.request_timeout
        if self._timer is None or self._timer.when() > deadline:
            self._arm(deadline)

    def eof_received(self) -> bool:
        # A half-closed client still gets the responses it is owed; close once they are out.
        self._closing = True
        if not self._pending and self._backlog is None:
            self._end()
        return True

    def pause_writing(self) -> None:
        self._write_paused = True
        self._update_reading()

    def resume_writing(self) -> None:
        self._write_paused = False
        self._proceed()

    # flow control --------------------------------------------------------------------------

    def _stalled(self) -> bool:
        """Whether handling more requests must wait: output above the high-water mark, too
        many handlers in flight, an upgrade waiting, or the connection over."""
        return (
            self._write_paused
            or len(self._pending) >= MAX_PIPELINE
            or self._upgrade is not None
            or self._closed
        )

    def _handle_all(self, events: list[Request | HttpError]) -> None:
        """Handle pipelined requests with their responses in one write, up to
        :data:`BATCH_BYTES` of responses or a stall; the rest is held for :meth:`_proceed`
        (which every caller runs next), to go on once that write left the high-water mark."""
        self._batch = []
        self._batch_bytes = 0
        handled = 0
        for handled, event in enumerate(events, 1):  # noqa: B007 (read after the loop)
            self._handle(event)
            # Reading stops for every stall (a full pipeline, an upgrade waiting, pressure).
            if self._batch_bytes >= BATCH_BYTES or not self._reading or self._closed:
                break
        self._flush_batch()
        if handled < len(events) and not self._closed and self._upgrade is None:
            # (nothing after a final response or an upgrade request is answered)
            if self._backlog is None:
                self._backlog = _Backlog(events[handled:])
            else:
                self._backlog.events = events[handled:]

    def _proceed(self) -> None:
        """Go on with what the connection holds, held requests first, then held bytes a slice
        at a time, until it is all handled (reading resumes) or output stalls again.  One
        step per loop iteration, so that other connections are served in between."""
        backlog = self._backlog
        if backlog is not None and not self._stalled():
            if backlog.events:
                events, backlog.events = backlog.events, ()
                self._handle_all(events)
                if not backlog.events:
                    self._after_requests(self._loop.time(), True)
            elif backlog.offset < len(backlog.data):
                self._parse(backlog.next_slice())
            else:
                self._backlog = None
            if self._backlog is not None and not self._stalled():
                self._loop.call_soon(self._proceed)
                return
        self._update_reading()

    # requests ------------------------------------------------------------------------------

    def _handle(self, event: Request | HttpError) -> None:
        if type(event) is HttpError:
            self._refuse(event)
        elif not event.upgrade:
            self._dispatch(event)
        elif self._server.upgrade_handler is None:
            event.keep_alive = False  # the parser stopped at it: nothing can follow
            self._dispatch(event)
        else:
            self._upgrade = event  # once the responses owed before it are out
            if self._pending:
                self._update_reading()
            else:
                self._do_upgrade()

    def _dispatch(self, request: Request) -> None:
        """Run the handler; answer now if it finishes without suspending, else in a task."""
        request.remote_address = self.remote_address
        try:
            result = self._handler(request)
            if type(result) is not tuple:
                if type(result) is not Suspended:
                    result = first_step(result)
                if type(result) is Suspended:
                    self._suspend(request, result)
                    return
            status, headers, body = result
            data, keep_alive = self._encode(request, status, headers, body)
        except Exception:
            data, keep_alive = self._failure(request)
        if self._pending:
            self._pending.append(_Slot(data, keep_alive))
        else:
            self._send(data)
            if not keep_alive:
                self._end()

    def _suspend(self, request: Request, step: Suspended) -> None:
        slot = _Slot()
        self._pending.append(slot)
        finish = self._finish(request, step.rest, slot)
        slot.task = self._loop.create_task(finish, context=step.context)
        if len(self._pending) >= MAX_PIPELINE:
            self._update_reading()

    async def _finish(self, request: Request, resumed: Awaitable[RawResponse], slot: _Slot) -> None:
        try:
            status, headers, body = await resumed
            slot.data, slot.keep_alive = self._encode(request, status, headers, body)
        except Exception:
            slot.data, slot.keep_alive = self._failure(request)
        slot.task = None
        self._drain()

    def _encode(
        self, request: Request, status: int, headers: Sequence[tuple[bytes, bytes]], body: bytes
    ) -> tuple[bytes, bool]:
        keep_alive = request.keep_alive and not self._closing
        if keep_alive and request.version == "1.0":
            headers = [*headers, _KEEP_ALIVE]
        head = request.method == "HEAD"
        return encode_response(status, headers, body, keep_alive, head), keep_alive

    def _failure(self, request: Request) -> tuple[bytes, bool]:
        """500 for a handler that raised: logged here, never shown to the client."""
        logger.exception("handler failed for %s %s", request.method, request.target)
        return self._encode(request, 500, _JSON, _ERROR_500)

    def _refuse(self, error: HttpError) -> None:
        """Answer a request the parser rejected, then close."""
        data = encode_response(error.status, _JSON, _error_body(error.message), False)
        if self._pending:
            self._pending.append(_Slot(data, False))
        else:
            self._send(data)
            self._end(linger=True)

    def _do_upgrade(self) -> None:
        """Hand the connection to the upgrade handler; serve it as plain HTTP if declined."""
        request, self._upgrade = self._upgrade, None
        request.remote_address = self.remote_address
        backlog, self._backlog = self._backlog, None
        if backlog is not None:  # bytes received after the upgrade request belong to it
            self.parser.upgrade_tail += backlog.data[backlog.offset :]
        self._update_reading()  # the new protocol gets the transport reading
        self._flush_batch()  # responses to earlier pipelined requests go first
        try:
            taken = self._server.upgrade_handler(request, self._transport, self)
        except Exception:
            data, _ = self._failure(request)
            self._send(data)
            self._end()
            return
        if taken:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._transport.get_protocol() is not self:  # else it refused and closes
                self._server._hand_over(self)
            return
        # The parser stopped at the upgrade request, so this connection ends after it.
        request.keep_alive = False
        self._dispatch(request)

    # writing -------------------------------------------------------------------------------

    def _send(self, data: bytes) -> None:
        batch = self._batch
        if batch is not None:
            batch.append(data)
            self._batch_bytes += len(data)
        else:
            self._transport.write(data)

    def _flush_batch(self) -> None:
        batch, self._batch = self._batch, None
        if batch:
            self._transport.write(batch[0] if len(batch) == 1 else b"".join(batch))

    def _drain(self) -> None:
        """Write the ready responses at the head of the queue (after a handler finished)."""
        if self._closed:
            return
        pending = self._pending
        self._batch = []
        while pending and pending[0].data is not None:
            slot = pending.pop(0)
            self._send(slot.data)
            if not slot.keep_alive:
                self._end()
                return
        self._flush_batch()
        if pending:
            return
        self._idle_since = self._loop.time()
        if self._upgrade is not None:
            self._do_upgrade()
        elif self._closing and not self.parser.partial and self._backlog is None:
            self._end()
        else:
            self._proceed()

    def _end(self, linger: bool = False) -> None:
        """Close after what is queued has been written; later requests are ignored.  Linger
        when the client may still be sending: after a refusal, in the middle of a request, or
        with requests we have not read."""
        if self._closed:
            return
        self._flush_batch()
        self._closed = True
        transport = self._transport
        linger = linger or self.parser.partial or self._backlog is not None
        if linger and transport.can_write_eof():
            _LingeringClose(self, transport)
        else:
            transport.close()

    def _update_reading(self) -> None:
        want = not (
            self._write_paused
            or self._upgrade is not None
            or len(self._pending) >= MAX_PIPELINE
            or self._backlog is not None
        )
        if want != self._reading and not self._closed:
            self._reading = want
            if want:
                self._transport.resume_reading()
            else:
                self._transport.pause_reading()

    # timeouts and shutdown -----------------------------------------------------------------

    def _arm(self, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._loop.call_at(when, self._on_timer)

    def _on_timer(self) -> None:
        """One lazy timer per connection: the hot path only stores timestamps."""
        self._timer = None
        if self._closed:
            return
        server = self._server
        now = self._loop.time()
        if self._pending or self._backlog is not None:
            deadline = now + server.keepalive_timeout  # handlers and flow control are not timed
        elif self.parser.partial:
            deadline = self._request_since + server.request_timeout
            if now >= deadline:
                self._refuse(HttpError(408, "Request Timeout"))
                return
        else:
            # Idle, perhaps after blank lines: they may shorten its life, never extend it.
            deadline = self._idle_since + server.keepalive_timeout
            if self._request_since is not None:
                deadline = min(deadline, self._request_since + server.request_timeout)
            if now >= deadline:
                self._end()
                return
        self._arm(deadline)

    @property
    def idle_since(self) -> float | None:
        """When this connection last became idle between requests; None while it is busy."""
        if self._closed or self._pending or self.parser.partial or self._backlog is not None:
            return None
        return self._idle_since

    def shutdown(self) -> None:
        """Graceful stop: close now if idle, else after the responses still owed."""
        self._closing = True
        if not self._pending and not self.parser.partial and self._backlog is None:
            self._end()

    def abort(self) -> None:
        """Drop the connection at once (the grace period is over)."""
        if self._transport is not None:
            self._closed = True
            self._transport.abort()


class _Drain(asyncio.Protocol):
    """A connection after its final answer while its client may still be sending.

    Closing a socket with unread input makes the kernel send a reset, which can destroy the
    answer before the client has read it (a 413 answered while the body is still coming).
    So our side is shut once the answer is written, and what still comes is read and dropped
    until the client closes, for at most ``seconds`` and :data:`LINGER_BYTES`; then we close.
    """

    __slots__ = ("_left", "_timer", "_transport")

    def _linger(self, transport: asyncio.Transport, seconds: float) -> None:
        self._transport = transport
        self._left = LINGER_BYTES
        self._timer = asyncio.get_running_loop().call_later(seconds, transport.close)
        transport.write_eof()

    def data_received(self, data: bytes) -> None:
        self._left -= len(data)
        if self._left < 0:
            self._transport.close()

    def eof_received(self) -> bool:
        return False  # the client is done too: the transport closes

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()


class _Refusal(_Drain):
    """A connection beyond ``max_connections``: a 503, then close once the client has it
    (draining for at most :data:`REFUSAL_LINGER` seconds, and only while few refusals do)."""

    __slots__ = ("_server",)

    def __init__(self, server: HttpServer) -> None:
        self._server = server
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.write(_SERVICE_UNAVAILABLE)
        server = self._server
        if server._lingering >= MAX_LINGERING_REFUSALS or not transport.can_write_eof():
            transport.close()
            return
        server._lingering += 1
        self._linger(transport, REFUSAL_LINGER)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            super().connection_lost(exc)
            self._server._lingering -= 1


class _LingeringClose(_Drain):
    """An HTTP connection after a refusal (413, 431, 408, 400 …) or a close in the middle of a
    request: drained for at most :data:`LINGER_SECONDS`, then its owner hears it ended."""

    __slots__ = ("_owner",)

    def __init__(self, owner: HttpProtocol, transport: asyncio.Transport) -> None:
        self._owner = owner
        transport.set_protocol(self)
        self._linger(transport, LINGER_SECONDS)
        if not owner._reading:
            transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self._owner.connection_lost(exc)


class HttpServer:
    """The listening socket and its connections (their count is what the metrics read).

    ``handler(request)`` returns ``(status, headers, body)`` (a coroutine, the tuple itself, or
    a ``Suspended`` whose rest answers it); headers are ``(name, value)`` bytes pairs and
    Content-Length is added for it.
    """

    def __init__(
        self,
        handler: Handler,
        host: str = "127.0.0.1",
        port: int = 8080,
        *,
        max_body: int = MAX_BODY,
        upgrade_handler: UpgradeHandler | None = None,
        keepalive_timeout: float = 5.0,
        request_timeout: float = 10.0,
        reuse_port: bool = False,
        max_header_bytes: int = 16 * 1024,
        max_headers: int = 100,
        max_connections: int | None = None,
    ) -> None:
        """``max_connections`` None: :func:`default_max_connections`."""
        self.handler = handler
        self.host = host
        self.port = port
        self.max_body = max_body
        self.max_header_bytes = max_header_bytes
        self.max_headers = max_headers
        self.upgrade_handler = upgrade_handler
        self.keepalive_timeout = keepalive_timeout
        self.request_timeout = request_timeout
        self.reuse_port = reuse_port
        self.max_connections = max_connections or default_max_connections()
        self.refused = 0  # connections answered 503 for want of room
        # in the order they opened: among connections idle since the same clock tick (uvloop's
        # clock moves in milliseconds), the older is shed first
        self._connections: dict[HttpProtocol, None] = {}
        self._upgraded_open = 0  # upgraded connections not yet lost
        self._lingering = 0  # refusals waiting for their client to read the 503
        self._server: asyncio.AbstractServer | None = None
        self._drained: asyncio.Future | None = None

    @property
    def open_connections(self) -> int:
        """HTTP connections and the upgraded ones (WebSockets) they became."""
        return len(self._connections) + self._upgraded_open

    def upgraded_connection_lost(self) -> None:
        """An upgraded connection has ended (called by the protocol that took it over)."""
        self._upgraded_open -= 1

    async def start(self) -> int:
        """Bind and listen; answer the actual port (so ``port=0`` picks a free one)."""
        self._server, self.port = await listen(self._admit, self.host, self.port, self.reuse_port)
        return self.port

    async def stop(self, grace: float = 10.0) -> None:
        """Stop accepting, let in-flight requests finish (up to ``grace`` seconds), close
        idle keep-alive connections at once and abort whatever is left after the grace.

        Upgraded connections belong to their new protocol and are not waited for (which is
        also why this does not await ``wait_closed``: uvloop's waits for every connection).
        """
        if self._server is None:
            return
        server, self._server = self._server, None
        server.close()
        for connection in list(self._connections):
            connection.shutdown()
        if self._connections:
            self._drained = drained = asyncio.get_running_loop().create_future()
            await asyncio.wait([drained], timeout=grace)
            self._drained = None
            for connection in list(self._connections):
                connection.abort()

    def _admit(self) -> asyncio.Protocol:
        """The protocol for a connection just accepted: room is made by shedding idle
        keep-alive connections; when none is idle, the newcomer is refused."""
        if self.open_connections >= self.max_connections and not self._shed_idle():
            self.refused += 1
            return _Refusal(self)
        return HttpProtocol(self)

    def _shed_idle(self) -> bool:
        """Close the connections idle the longest, a batch at a time so that a stream of
        newcomers at the limit costs one scan per batch; whether any was closed."""
        idle = [
            (since, order, c)
            for order, c in enumerate(self._connections)
            if (since := c.idle_since) is not None
        ]
        batch = heapq.nsmallest(max(1, self.max_connections // 64), idle)
        for _, _, connection in batch:
            connection._end()
            self._forget(connection)  # its descriptor is released within this loop iteration
        return bool(batch)

    def _hand_over(self, connection: HttpProtocol) -> None:
        """``connection`` now belongs to an upgraded protocol: still counted, not ours."""
        self._forget(connection)
        self._upgraded_open += 1

    def _forget(self, connection: HttpProtocol) -> None:
        self._connections.pop(connection, None)
        if not self._connections and self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
