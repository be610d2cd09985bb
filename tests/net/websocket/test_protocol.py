"""The connection state machine with bytes, then the asyncio glue over real sockets on 127.0.0.1:
the strict ``websockets`` client, and raw sockets for every close code the server sends."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import struct
import zlib
from collections.abc import AsyncIterator, Callable, Coroutine

import pytest
import uvloop
import websockets
from websockets.exceptions import ConnectionClosedError

from aro._speedups import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    Outbox,
    apply_mask,
)
from aro.net.http import Request
from aro.net.server import HttpServer
from aro.net.websocket import (
    ConnectionClosed,
    DeflateParams,
    PerMessageDeflate,
    WebSocket,
    WebSocketConnection,
    WebSocketHub,
    WebSocketSettings,
    make_upgrade_handler,
)
from aro.net.websocket.connection import CLOSED, CLOSING, OPEN
from aro.net.websocket.deflate import COMPRESS_MIN

MASK = b"\x37\xfa\x21\x3d"


def client_frame(
    opcode: int, payload: bytes = b"", fin: bool = True, rsv1: bool = False, masked: bool = True
) -> bytes:
    """A client frame (masked, as RFC 6455 §5.3 requires of clients)."""
    first = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    size = len(payload)
    if size < 126:
        head = bytes((first, size | (0x80 if masked else 0)))
    elif size < 0x10000:
        head = bytes((first, 126 | (0x80 if masked else 0))) + struct.pack("!H", size)
    else:
        head = bytes((first, 127 | (0x80 if masked else 0))) + struct.pack("!Q", size)
    return head + MASK + apply_mask(payload, MASK) if masked else head + payload


def close_body(code: int, reason: str = "") -> bytes:
    return struct.pack("!H", code) + reason.encode()


def server_frames(data: bytes) -> list[tuple[int, bytes]]:
    """Split unmasked server frames: ``(opcode, payload)`` each (all our frames are final)."""
    frames, pos = [], 0
    while pos < len(data):
        assert data[pos] & 0x80, "server frames are never fragmented"
        opcode, size, pos = data[pos] & 0x0F, data[pos + 1] & 0x7F, pos + 2
        if size == 126:
            (size,), pos = struct.unpack_from("!H", data, pos), pos + 2
        elif size == 127:
            (size,), pos = struct.unpack_from("!Q", data, pos), pos + 8
        frames.append((opcode, data[pos : pos + size]))
        pos += size
    return frames


# ---------------------------------------------------------------------------------------------
# The sans-I/O state machine


class Recording(WebSocketConnection):
    """The state machine with its output kept, as a test drives it."""

    __slots__ = ("sent",)

    def __init__(self, max_message: int = 1 << 20, deflate: PerMessageDeflate | None = None):
        super().__init__(max_message, deflate)
        self.sent: list[bytes] = []

    def write(self, frame: bytes) -> None:
        self.sent.append(frame)

    def feed(self, data: bytes) -> list[str | bytes]:
        messages: list[str | bytes] = []
        self.receive(data, messages.append)
        return messages

    def frames(self) -> list[tuple[int, bytes]]:
        sent, self.sent = self.sent, []
        return server_frames(b"".join(sent))


def test_messages_are_delivered_and_pings_answered() -> None:
    conn = Recording()
    data = client_frame(OP_TEXT, "héllo".encode()) + client_frame(OP_PING, b"p")
    assert conn.feed(data + client_frame(OP_BINARY, b"\x00\xff")) == ["héllo", b"\x00\xff"]
    assert conn.frames() == [(OP_PONG, b"p")]
    assert (conn.state, conn.open, conn.closing) == (OPEN, True, False)


def test_fragments_with_an_interleaved_ping_split_anywhere() -> None:
    stream = (
        client_frame(OP_TEXT, b"Hel", fin=False)
        + client_frame(OP_PING, b"mid")
        + client_frame(OP_CONT, b"lo \xe2\x82", fin=False)  # a character split across frames
        + client_frame(OP_CONT, b"\xac!")
    )
    for cut in range(len(stream)):
        conn = Recording()
        assert conn.feed(stream[:cut]) + conn.feed(stream[cut:]) == ["Hello €!"]
        assert conn.frames() == [(OP_PONG, b"mid")]


def test_client_close_is_echoed_with_its_code() -> None:
    conn = Recording()
    assert conn.feed(client_frame(OP_CLOSE, close_body(4000, "bye"))) == []
    assert conn.frames() == [(OP_CLOSE, close_body(4000))]
    assert (conn.state, conn.close_code, conn.close_reason) == (CLOSED, 4000, "bye")


def test_replies_to_messages_before_a_close_leave_before_its_echo() -> None:
    conn = Recording()
    conn.receive(
        client_frame(OP_TEXT, b"last words") + client_frame(OP_CLOSE, close_body(1000)),
        lambda message: conn.send(message.upper()),
    )
    assert conn.frames() == [(OP_TEXT, b"LAST WORDS"), (OP_CLOSE, close_body(1000))]


def test_close_without_code_is_answered_without_code() -> None:
    conn = Recording()
    conn.feed(client_frame(OP_CLOSE))
    assert conn.frames() == [(OP_CLOSE, b"")]
    assert (conn.state, conn.close_code) == (CLOSED, 1005)


def test_server_close_waits_for_the_answer_and_drops_data_meanwhile() -> None:
    conn = Recording()
    conn.close(1001, "going away")
    assert conn.frames() == [(OP_CLOSE, close_body(1001, "going away"))]
    assert (conn.state, conn.closing, conn.open) == (CLOSING, True, False)
    data = client_frame(OP_TEXT, b"late") + client_frame(OP_PING) + client_frame(OP_CLOSE)
    assert conn.feed(data) == []
    assert conn.frames() == []  # no pong, no second close
    assert (conn.state, conn.close_code, conn.close_reason) == (CLOSED, 1001, "going away")
    conn.close()  # a no-op now
    assert conn.frames() == []


def test_send_encodes_by_type_and_refuses_once_closing() -> None:
    conn = Recording()
    conn.send("text")
    conn.send(b"\x01\x02")
    conn.ping(b"?")
    assert conn.frames() == [(OP_TEXT, b"text"), (OP_BINARY, b"\x01\x02"), (OP_PING, b"?")]
    conn.close()
    with pytest.raises(ConnectionClosed):
        conn.send("more")
    with pytest.raises(ValueError):
        Recording().close(1006)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (client_frame(OP_TEXT, b"x", masked=False), 1002),
        (client_frame(OP_TEXT, b"x", rsv1=True), 1002),  # no compression negotiated
        (client_frame(OP_CONT, b"x"), 1002),
        (client_frame(OP_PING, b"x" * 126), 1002),
        (client_frame(OP_TEXT, b"ok \xff"), 1007),
        (client_frame(OP_CLOSE, close_body(1000) + b"\xff"), 1007),
        (client_frame(OP_CLOSE, b"\x03"), 1002),
        (client_frame(OP_CLOSE, close_body(999)), 1002),
        (client_frame(OP_BINARY, b"x" * 101), 1009),
    ],
)
def test_protocol_errors_fail_with_the_parser_code(data: bytes, code: int) -> None:
    conn = Recording(max_message=100)
    messages = conn.feed(client_frame(OP_TEXT, b"before") + data)
    assert messages == ["before"]
    ((opcode, payload),) = conn.frames()
    assert (opcode, payload[:2]) == (OP_CLOSE, struct.pack("!H", code))
    assert (conn.state, conn.close_code) == (CLOSED, code)


def test_compressed_messages_are_inflated_and_checked() -> None:
    def deflated(data: bytes) -> bytes:
        compressor = zlib.compressobj(wbits=-15)
        return (compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH))[:-4]

    conn = Recording(max_message=1000, deflate=PerMessageDeflate(DeflateParams()))
    text = client_frame(OP_TEXT, deflated("é".encode() * 100), rsv1=True)
    assert conn.feed(text + client_frame(OP_BINARY, b"raw")) == ["é" * 100, b"raw"]
    conn.send("x" * COMPRESS_MIN)  # compressed: long enough to gain
    conn.send("short")
    (long_frame, short_frame) = conn.sent
    assert long_frame[0] == 0xC1 and short_frame[0] == 0x81
    eager = Recording(deflate=PerMessageDeflate(DeflateParams(), min_size=0))
    eager.send("a")
    assert eager.sent[0][0] == 0xC1
    bad_utf8 = Recording(deflate=PerMessageDeflate(DeflateParams()))
    bad_utf8.feed(client_frame(OP_TEXT, deflated(b"\xff"), rsv1=True))
    assert bad_utf8.close_code == 1007
    bomb = Recording(max_message=1000, deflate=PerMessageDeflate(DeflateParams()))
    bomb.feed(client_frame(OP_BINARY, deflated(b"\0" * 1001), rsv1=True))
    assert (bomb.state, bomb.close_code) == (CLOSED, 1009)
    corrupt = Recording(deflate=PerMessageDeflate(DeflateParams()))
    corrupt.feed(client_frame(OP_BINARY, b"\xff\xff\xff", rsv1=True))
    assert corrupt.close_code == 1007


# ---------------------------------------------------------------------------------------------
# Real sockets


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request: pytest.FixtureRequest) -> Callable[[Coroutine], object]:
    factory = uvloop.new_event_loop if request.param == "uvloop" else asyncio.new_event_loop

    def runner(coro: Coroutine) -> object:
        with asyncio.Runner(loop_factory=factory) as loop_runner:
            return loop_runner.run(asyncio.wait_for(coro, 4))

    return runner


class Echo:
    """The test's WebSocketHandler: echoes, fails on ``boom``, closes on ``close``."""

    def __init__(self) -> None:
        self.hub = WebSocketHub()
        self.opened: list[WebSocket] = []
        self.closes: list[tuple[int, str]] = []
        self.received: list[str | bytes] = []
        self.ended = asyncio.Event()

    def on_open(self, conn: WebSocket) -> None:
        self.hub.add(conn)
        self.opened.append(conn)

    def on_message(self, conn: WebSocket, data: str | bytes) -> None:
        self.received.append(data)
        if data == "boom":
            raise RuntimeError("handler bug")
        if data == "close":
            conn.close(1000, "done")
        elif data != "quiet":
            conn.send(data)

    def on_close(self, conn: WebSocket, code: int, reason: str) -> None:
        assert conn.state == CLOSED and not conn.open
        self.hub.remove(conn)
        self.closes.append((code, reason))
        self.ended.set()


async def plain_http(request: Request) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    return 200, [], f"HTTP {request.path}".encode()


@contextlib.asynccontextmanager
async def serving(**options: object) -> AsyncIterator[tuple[Echo, int]]:
    options.setdefault("ping_interval", 0)
    options.setdefault("close_timeout", 0.5)
    settings = WebSocketSettings(**options)
    echo = Echo()
    server = HttpServer(plain_http, port=0, upgrade_handler=make_upgrade_handler(settings, echo))
    port = await server.start()
    try:
        yield echo, port
    finally:
        await echo.hub.close_all()
        await server.stop(grace=0.5)


HANDSHAKE = (
    b"GET %s HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: %s\r\n%s\r\n"
)


class Raw:
    """A hand-driven client on a plain socket."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.rsv1 = False  # of the last frame read

    @classmethod
    async def connect(
        cls, port: int, path: bytes = b"/ws", extra: bytes = b"", tail: bytes = b""
    ) -> tuple[Raw, bytes]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(HANDSHAKE % (path, b"13", extra) + tail)
        head = await reader.readuntil(b"\r\n\r\n")
        return cls(reader, writer), head

    def send(self, opcode: int, payload: bytes = b"", **flags: bool) -> None:
        self.writer.write(client_frame(opcode, payload, **flags))

    async def frame(self) -> tuple[int, bytes]:
        first, second = await self.reader.readexactly(2)
        self.rsv1 = bool(first & 0x40)
        size = second & 0x7F
        if size == 126:
            (size,) = struct.unpack("!H", await self.reader.readexactly(2))
        elif size == 127:
            (size,) = struct.unpack("!Q", await self.reader.readexactly(8))
        return first & 0x0F, await self.reader.readexactly(size)

    async def closed(self) -> bool:
        """Whether the server closed TCP (after everything it sent was read)."""
        return await self.reader.read() == b""


async def closed_with(echo: Echo, raw: Raw, code: int) -> tuple[int, str]:
    """Read the server's close frame, answer it, see TCP end; return what on_close got."""
    opcode, payload = await raw.frame()
    assert (opcode, payload[:2]) == (OP_CLOSE, struct.pack("!H", code))
    raw.send(OP_CLOSE, payload[:2])
    assert await raw.closed()
    await echo.ended.wait()
    return echo.closes[-1]


@pytest.mark.parametrize("compression", ["deflate", None])
def test_websockets_client_round_trips(run, compression: str | None) -> None:
    async def scenario() -> None:
        async with serving() as (echo, port):
            url = f"ws://127.0.0.1:{port}/ws?room=1"
            async with websockets.connect(url, compression=compression, max_size=None) as ws:
                extensions = ws.response.headers.get("Sec-WebSocket-Extensions")
                assert extensions == (
                    "permessage-deflate; server_no_context_takeover" if compression else None
                )
                for message in ["hi", "ü" * 5000, b"\x00\xff" * 40000, "", b""]:
                    await ws.send(message)
                    assert await ws.recv() == message
                big = os.urandom(300_000)
                await ws.send([big[:100_000], big[100_000:]])  # a fragmented message
                assert await ws.recv() == big
                await ws.ping(b"are you there")
                conn = echo.opened[0]
                assert (conn.path, conn.remote_address, conn.open) == ("/ws", "127.0.0.1", True)
            await echo.ended.wait()
            assert echo.closes == [(1000, "")]

    run(scenario())


def test_broadcast_shares_one_frame_per_variant(run) -> None:
    async def scenario() -> None:
        async with serving() as (echo, port):
            url = f"ws://127.0.0.1:{port}/ws"
            async with (
                websockets.connect(url, compression="deflate") as a,
                websockets.connect(url, compression=None) as b,
            ):
                raw, _ = await Raw.connect(port)
                offer = b"Sec-WebSocket-Extensions: permessage-deflate\r\n"
                deflating, head = await Raw.connect(port, extra=offer)
                assert b"permessage-deflate; server_no_context_takeover" in head
                await asyncio.sleep(0.01)
                assert len(echo.hub) == 4
                text = "broadcast " * 30
                assert echo.hub.broadcast(text) == 4
                assert await a.recv() == await b.recv() == text
                assert (await raw.frame(), raw.rsv1) == ((OP_TEXT, text.encode()), False)
                opcode, payload = await deflating.frame()
                assert (opcode, deflating.rsv1) == (OP_TEXT, True)
                inflater = zlib.decompressobj(wbits=-15)
                assert inflater.decompress(payload + b"\x00\x00\xff\xff") == text.encode()
                assert echo.hub.broadcast(b"\x01") == 4  # too short to compress
                assert await a.recv() == await b.recv() == b"\x01"
                assert (await deflating.frame(), deflating.rsv1) == ((OP_BINARY, b"\x01"), False)
                echo.hub.get(echo.opened[0].id).close()
                await a.wait_closed()
                assert echo.hub.broadcast("after") == 3
                raw.writer.close()
                deflating.writer.close()

    run(scenario())


def test_broadcast_payload_sends_a_message_serialized_elsewhere(run) -> None:
    async def scenario() -> None:
        async with serving() as (echo, port):
            assert echo.hub.broadcast_payload(b"nobody", True) == 0
            url = f"ws://127.0.0.1:{port}/ws"
            async with (
                websockets.connect(url, compression="deflate") as a,
                websockets.connect(url, compression=None) as b,
            ):
                await asyncio.sleep(0.01)
                text = "überall " * 30
                assert echo.hub.broadcast_payload(text.encode(), True) == 2
                assert await a.recv() == await b.recv() == text
                assert echo.hub.broadcast_payload(b"\x00\xff" * 100, False) == 2
                assert await a.recv() == await b.recv() == b"\x00\xff" * 100

    run(scenario())


def test_close_1000_from_the_client_is_echoed(run) -> None:
    async def scenario() -> None:
        async with serving() as (echo, port):
            raw, head = await Raw.connect(port)
            assert head.startswith(b"HTTP/1.1 101 ")
            raw.send(OP_CLOSE, close_body(1000, "bye"))
            assert await raw.frame() == (OP_CLOSE, close_body(1000))
            assert await raw.closed()
            await echo.ended.wait()
            assert echo.closes == [(1000, "bye")]

    run(scenario())


def test_close_1000_from_the_server(run) -> None:
    async def scenario() -> None:
        async with serving() as (echo, port):
            raw, _ = await Raw.connect(port)
            raw.send(OP_TEXT, b"close")
            assert await closed_with(echo, raw, 1000) == (1000, "done")

    run(scenario())


def test_close_1001_on_close_all(run) -> None:
    async def scenario() -> None:
        async with serving() as (echo, port):
            url = f"ws://127.0.0.1:{port}/ws"
            async with websockets.connect(url) as ws:
                raw, _ = await Raw.connect(port)
                await asyncio.sleep(0.01)
                closing = asyncio.create_task(echo.hub.close_all(reason="server stopping"))
                assert await raw.frame() == (OP_CLOSE, close_body(1001, "server stopping"))
                raw.send(OP_CLOSE, close_body(1001))
                assert await raw.closed()
                await closing
                assert (ws.close_code, ws.close_reason) == (1001, "server stopping")
            assert echo.closes == [(1001, "server stopping")] * 2

    run(scenario())


def test_outbox_factory_gives_the_writer(run) -> None:
    async def scenario() -> None:
        made = []

        def factory(loop: asyncio.AbstractEventLoop) -> Outbox:
            made.append(loop)
            return Outbox(loop)

        echo = Echo()
        upgrade = make_upgrade_handler(WebSocketSettings(ping_interval=0), echo, factory)
        server = HttpServer(plain_http, port=0, upgrade_handler=upgrade)
        port = await server.start()
        for _ in range(2):
            raw, _ = await Raw.connect(port)
            raw.send(OP_TEXT, b"hi")
            assert await raw.frame() == (OP_TEXT, b"hi")
            raw.writer.close()
        assert made == [asyncio.get_running_loop()]
        await server.stop()

    run(scenario())


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (client_frame(OP_TEXT, b"x", masked=False), 1002),
        (client_frame(OP_TEXT, b"x", fin=False) + client_frame(OP_BINARY, b"y"), 1002),
        (client_frame(OP_TEXT, b"caf\xc3") + client_frame(OP_TEXT, b"\xa9"), 1007),
    ],
)
def test_protocol_errors_close_1002_and_1007(run, frame: bytes, code: int) -> None:
    async def scenario() -> None:
        async with serving() as (echo, port):
            raw, _ = await Raw.connect(port)
            raw.writer.write(frame)
            opcode, payload = await raw.frame()
            assert (opcode, payload[:2]) == (OP_CLOSE, struct.pack("!H", code))
            assert await raw.closed()  # a failed connection is closed at once
            await echo.ended.wait()
            assert echo.closes[0][0] == code

    run(scenario())


def test_close_1008_when_a_client_never_reads(run) -> None:
    async def scenario() -> None:
        async with serving(write_limit=64 * 1024, close_timeout=2) as (echo, port):
            raw, _ = await Raw.connect(port)
            await asyncio.sleep(0.01)
            conn = echo.opened[0]
            # a small kernel buffer on our side, so the transport's own buffer grows sooner
            conn.transport.get_extra_info("socket").setsockopt(
                socket.SOL_SOCKET, socket.SO_SNDBUF, 4096
            )
            chunk = "x" * 16 * 1024
            while conn.open:
                echo.hub.broadcast(chunk)
                await asyncio.sleep(0)
            assert conn.close_code == 1008
            while (frame := await raw.frame())[0] == OP_TEXT:
                assert frame[1] == chunk.encode()
            assert frame == (OP_CLOSE, close_body(1008, "write buffer limit exceeded"))
            raw.send(OP_CLOSE, frame[1][:2])
            assert await raw.closed()
            await echo.ended.wait()
            assert echo.closes == [(1008, "write buffer limit exceeded")]

    run(scenario())


def test_close_1009_is_decided_by_the_header_alone(run) -> None:
    async def scenario() -> None:
        async with serving(max_message=1000) as (echo, port):
            raw, _ = await Raw.connect(port)
            raw.writer.write(b"\x82\xfe\x03\xe9" + MASK)  # 1001 bytes announced, none sent
            opcode, payload = await raw.frame()
            assert (opcode, payload[:2]) == (OP_CLOSE, struct.pack("!H", 1009))
            assert await raw.closed()
            await echo.ended.wait()
            assert echo.closes[0][0] == 1009

    run(scenario())


def test_close_1009_for_a_compressed_message_that_inflates_too_far(run) -> None:
    async def scenario() -> None:
        async with serving(max_message=1000) as (echo, port):
            url = f"ws://127.0.0.1:{port}/ws"
            async with websockets.connect(url, compression="deflate") as ws:
                await ws.send("a" * 1001)  # a few bytes on the wire
                with pytest.raises(ConnectionClosedError):
                    await ws.recv()
                assert ws.close_code == 1009
            await echo.ended.wait()
            assert echo.closes[0][0] == 1009

    run(scenario())


def test_close_1011_when_the_handler_fails(run) -> None:
    async def scenario() -> None:
        async with serving() as (echo, port):
            raw, _ = await Raw.connect(port)
            raw.send(OP_TEXT, b"boom")
            raw.send(OP_TEXT, b"dropped: the connection is closing")
            assert await closed_with(echo, raw, 1011) == (1011, "internal error")
            assert echo.received == ["boom"]

    run(scenario())


def test_a_handler_that_closes_mid_chunk_gets_none_of_the_chunks_later_messages(run) -> None:
    """One write (one chunk on loopback) of three messages: the second closes the connection,
    so the third is not delivered and only the first is echoed before our close frame."""

    async def scenario() -> None:
        async with serving() as (echo, port):
            raw, _ = await Raw.connect(port)
            raw.writer.write(
                client_frame(OP_TEXT, b"first")
                + client_frame(OP_TEXT, b"close")
                + client_frame(OP_TEXT, b"after")
            )
            assert await raw.frame() == (OP_TEXT, b"first")
            assert await closed_with(echo, raw, 1000) == (1000, "done")
            assert echo.received == ["first", "close"]

    run(scenario())


def test_fragmented_message_with_pings_between_and_bytes_after_the_handshake(run) -> None:
    async def scenario() -> None:
        async with serving() as (_, port):
            first = client_frame(OP_TEXT, b"frag", fin=False)  # arrives with the request
            raw, _ = await Raw.connect(port, tail=first)
            raw.send(OP_PING, b"1")
            raw.send(OP_CONT, b"men", fin=False)
            raw.send(OP_PING, b"2")
            raw.send(OP_CONT, b"ted")
            assert await raw.frame() == (OP_PONG, b"1")
            assert await raw.frame() == (OP_PONG, b"2")
            assert await raw.frame() == (OP_TEXT, b"fragmented")
            raw.writer.close()

    run(scenario())


def test_abrupt_loss_and_half_close_are_1006(run) -> None:
    async def scenario() -> None:
        async with serving() as (echo, port):
            raw, _ = await Raw.connect(port)
            raw.writer.transport.abort()
            await echo.ended.wait()
            echo.ended.clear()
            raw, _ = await Raw.connect(port)
            raw.writer.write_eof()
            assert await raw.closed()
            await echo.ended.wait()
            assert echo.closes == [(1006, ""), (1006, "")]

    run(scenario())


def test_unanswered_server_close_is_aborted_after_the_timeout(run) -> None:
    async def scenario() -> None:
        async with serving(close_timeout=0.05) as (echo, port):
            raw, _ = await Raw.connect(port)
            raw.send(OP_TEXT, b"close")
            assert (await raw.frame())[0] == OP_CLOSE  # and never answer
            await echo.ended.wait()
            assert echo.closes == [(1000, "done")]
            with contextlib.suppress(ConnectionError):
                assert await raw.closed()

    run(scenario())


def test_idle_connections_are_pinged_and_silent_ones_closed_1011(run) -> None:
    async def scenario() -> None:
        async with serving(ping_interval=0.04, ping_timeout=0.04) as (echo, port):
            url = f"ws://127.0.0.1:{port}/ws"
            async with websockets.connect(url, ping_interval=None) as ws:  # answers pings
                raw, _ = await Raw.connect(port)
                assert await raw.frame() == (OP_PING, b"")  # and never answer
                opcode, payload = await raw.frame()
                assert (opcode, payload) == (OP_CLOSE, close_body(1011, "keepalive ping timeout"))
                assert await raw.closed()
                await echo.ended.wait()
                assert echo.closes == [(1011, "keepalive ping timeout")]
                await ws.send("still here")
                assert await ws.recv() == "still here"

    run(scenario())


def test_other_paths_fall_through_to_http(run) -> None:
    async def scenario() -> None:
        async with serving() as (echo, port):
            raw, head = await Raw.connect(port, path=b"/other?x=1")
            assert head.startswith(b"HTTP/1.1 200 ")
            assert await raw.reader.readexactly(11) == b"HTTP /other"
            assert echo.opened == []

    run(scenario())


def test_refused_handshake_is_answered_and_closed(run) -> None:
    async def scenario() -> None:
        async with serving() as (echo, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(HANDSHAKE % (b"/ws", b"8", b""))
            response = await reader.read()
            assert response.startswith(b"HTTP/1.1 426 Upgrade Required\r\n")
            assert b"\r\nSec-WebSocket-Version: 13\r\n" in response
            assert response.endswith(b'{"error":"Sec-WebSocket-Version must be 13"}')
            assert echo.opened == []
            writer.close()

    run(scenario())


def test_idle_connection_holds_no_parser_timer_or_task(run) -> None:
    async def scenario() -> None:
        async with serving() as (echo, port):
            tasks = len(asyncio.all_tasks())
            raw, _ = await Raw.connect(port)
            await asyncio.sleep(0.01)
            conn = echo.opened[0]
            assert (conn._parser, conn._timer, conn.outbox_pending) == (None, None, None)
            assert not hasattr(conn, "__dict__")
            assert len(asyncio.all_tasks()) == tasks
            raw.writer.close()

    run(scenario())
