"""WebSocket codec throughput against picows' and websockets' own codecs, in the same run.

Run: python -m pytest bench/test_bench_codec.py --benchmark-enable
(``--benchmark-group-by=group --benchmark-columns=min,median,ops`` for a compact table.)

Every contender ends with the same result: parse yields each payload as a ``bytes`` object,
encode hands a finished frame to an in-memory transport, broadcast delivers one 64-byte text
frame to each of 1,000 in-memory transports. Peers are skipped when not installed; they are
measured, never depended on.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import itertools
import logging
import os

import pytest

from tests.support.codec import client_frame, load_build

SIZES = {"16B": 16, "125B": 125, "4KiB": 4096, "64KiB": 65536}
SUBSCRIBERS = 1000
BROADCAST_MESSAGE = b"x" * 64
OURS = ["compiled", "pure"]
PEERS = ["picows", "websockets"]


class MemoryTransport:
    """The slice of an asyncio transport the writers use, kept in memory. Its methods are C
    callables, as uvloop's are, so what is measured is the writers' own work."""

    def __init__(self) -> None:
        self.last = collections.deque(maxlen=1)  # the latest write, for checks
        self.write = self.last.append
        self.writelines = self.last.extend
        # Non-zero keeps picows from calling send(2) on the socket it would otherwise use.
        self.get_write_buffer_size = itertools.repeat(1).__next__
        self.is_closing = bool  # bool() is False

    def get_extra_info(self, name: str, default=None):
        return FakeSocket() if name == "socket" else default


class FakeSocket:
    def fileno(self) -> int:
        return -1

    def setsockopt(self, *args) -> None:
        pass

    def getsockopt(self, *args) -> int:
        return 0


class Subscriber:
    """A connection as ``Outbox`` sees it."""

    __slots__ = ("closing", "outbox_pending", "transport", "write_limit")

    def __init__(self, transport: MemoryTransport) -> None:
        self.transport = transport
        self.closing = False
        self.write_limit = 1 << 30
        self.outbox_pending = None

    def overflow(self) -> None:
        raise AssertionError("no subscriber should overflow in the benchmark")


class IdleLoop:
    """Outbox schedules its flush here; the benchmark flushes by hand instead."""

    def call_soon(self, callback, *args) -> None:
        pass


def masked(size: int, count: int = 1) -> bytes:
    payload = bytes(i % 251 for i in range(size))
    return client_frame(2, payload, mask=os.urandom(4)) * count


# --- parse + unmask -------------------------------------------------------------------------


def parse_ours(build: str):
    parser = load_build(build).FrameParser(max_message_size=1 << 20)
    return parser.feed


def parse_websockets():
    protocol = pytest.importorskip("websockets.protocol")
    server = protocol.Protocol(protocol.Side.SERVER, max_size=1 << 20)

    def feed(data: bytes) -> list:
        server.receive_data(data)
        return [frame.data for frame in server.events_received()]

    return feed


def parse_picows():
    """picows parses in its protocol's receive buffer: copy the chunk in (what recv_into does
    on a socket) and let its C parser call a listener that takes the payload as bytes."""
    picows = pytest.importorskip("picows")

    class Listener(picows.WSListener):
        def on_ws_frame(self, transport, frame) -> None:
            self.payloads.append(frame.get_payload_as_bytes())

    listener = Listener()
    listener.payloads = []
    protocol = picows_server_protocol(picows, lambda request: listener)
    receive(
        protocol,
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )

    def feed(data: bytes) -> list:
        receive(protocol, data)
        payloads, listener.payloads = listener.payloads, []
        return payloads

    return feed


def picows_server_protocol(picows, listener_factory):
    """A server-side picows protocol on an in-memory transport, handshake pending."""
    from picows.picows import WSAutoPingStrategy, WSProtocol

    async def create():  # its constructor asks for the running loop
        return WSProtocol(
            host_port=None,
            ws_path=None,
            is_client_side=False,
            ws_listener_factory=listener_factory,
            logger=quiet_logger(),
            disconnect_on_exception=True,
            websocket_handshake_timeout=None,
            enable_auto_ping=False,
            auto_ping_idle_timeout=10,
            auto_ping_reply_timeout=10,
            auto_ping_strategy=WSAutoPingStrategy.PING_WHEN_IDLE,
            enable_auto_pong=False,
            max_frame_size=1 << 20,
            extra_headers=None,
            read_buffer_init_size=1 << 20,
        )

    protocol = picows_loop().run_until_complete(create())
    protocol.connection_made(MemoryTransport())
    return protocol


@functools.cache
def picows_loop() -> asyncio.AbstractEventLoop:
    """One loop for every picows object: they only create futures on it."""
    return asyncio.new_event_loop()


def receive(protocol, data: bytes) -> None:
    buffer = protocol.get_buffer(-1)
    buffer[: len(data)] = data
    protocol.buffer_updated(len(data))


def quiet_logger() -> logging.Logger:
    logger = logging.getLogger("bench.picows")
    logger.disabled = True
    return logger


def parser_for(contender: str):
    if contender in OURS:
        return parse_ours(contender)
    return parse_websockets() if contender == "websockets" else parse_picows()


@pytest.mark.parametrize("contender", OURS + PEERS)
@pytest.mark.parametrize("size", list(SIZES))
def test_parse_unmask(benchmark, contender: str, size: str) -> None:
    benchmark.group = f"parse+unmask {size}"
    feed, frame = parser_for(contender), masked(SIZES[size])
    events = benchmark(feed, frame)
    assert len(events) == 1


@pytest.mark.parametrize("contender", OURS + PEERS)
def test_parse_100_small_frames_in_one_chunk(benchmark, contender: str) -> None:
    benchmark.group = "parse+unmask 100 x 16B in one chunk"
    feed, chunk = parser_for(contender), masked(16, count=100)
    assert len(benchmark(feed, chunk)) == 100


# --- encode ---------------------------------------------------------------------------------


def encoder_for(contender: str):
    """A callable that frames a binary payload and hands the frame to a transport; and that
    transport."""
    transport = MemoryTransport()
    if contender in OURS:
        encode_frame, opcode = load_build(contender).encode_frame, 2
        return lambda payload: transport.write(encode_frame(opcode, payload)), transport
    if contender == "websockets":
        protocol = pytest.importorskip("websockets.protocol")
        server = protocol.Protocol(protocol.Side.SERVER)

        def send(payload: bytes) -> None:
            server.send_binary(payload)
            for data in server.data_to_send():
                transport.write(data)

        return send, transport
    picows = pytest.importorskip("picows")
    sender, binary = picows_transport(picows, transport), picows.WSMsgType.BINARY
    return lambda payload: sender.send(binary, payload), transport


def picows_transport(picows, transport: MemoryTransport):
    return picows.WSTransport(False, transport, quiet_logger(), picows_loop())


@pytest.mark.parametrize("contender", OURS + PEERS)
@pytest.mark.parametrize("size", list(SIZES))
def test_encode(benchmark, contender: str, size: str) -> None:
    benchmark.group = f"encode {size}"
    (send, transport), payload = encoder_for(contender), os.urandom(SIZES[size])
    benchmark(send, payload)
    assert bytes(transport.last[0]).endswith(payload)


# --- broadcast ------------------------------------------------------------------------------


def broadcaster_for(contender: str):
    """A callable that sends one text message to SUBSCRIBERS in-memory connections; and their
    transports."""
    transports = [MemoryTransport() for _ in range(SUBSCRIBERS)]
    if contender in OURS:
        codec = load_build(contender)
        outbox, subscribers = codec.Outbox(IdleLoop()), [Subscriber(t) for t in transports]

        def broadcast(message: bytes) -> None:
            outbox.broadcast(subscribers, codec.encode_frame(codec.OP_TEXT, message))
            outbox.flush()

        return broadcast, transports
    if contender == "websockets":
        return websockets_broadcast(transports), transports
    picows = pytest.importorskip("picows")
    senders, text = [picows_transport(picows, t) for t in transports], picows.WSMsgType.TEXT

    def send_to_all(message: bytes) -> None:  # picows' documented broadcast: a send() loop
        for sender in senders:
            sender.send(text, message)

    return send_to_all, transports


def websockets_broadcast(transports: list[MemoryTransport]):
    """What ``websockets.broadcast`` does per connection, on its sans-I/O protocol."""
    protocol = pytest.importorskip("websockets.protocol")
    connections = [(protocol.Protocol(protocol.Side.SERVER), t) for t in transports]

    def broadcast(message: bytes) -> None:
        for server, transport in connections:
            server.send_text(message)
            for data in server.data_to_send():
                transport.write(data)

    return broadcast


@pytest.mark.parametrize("contender", OURS + PEERS)
def test_broadcast_1000(benchmark, contender: str) -> None:
    benchmark.group = f"broadcast 64B to {SUBSCRIBERS} transports"
    broadcast, transports = broadcaster_for(contender)
    benchmark(broadcast, BROADCAST_MESSAGE)
    assert all(bytes(t.last[0]) == b"\x81\x40" + BROADCAST_MESSAGE for t in transports)
