"""Flow control and lingering close of aro.net.server over real sockets on 127.0.0.1
(docs/decisions.md, decision 23).

Pipelined response amplification: tiny pipelined requests for a large response, sent by a client
that never reads, must not make the server build every response in memory; the requests wait
unparsed or unanswered and are answered in order once the client reads.  A refusal sent while the
client is still sending its body must reach the client instead of being lost to a reset.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time

import pytest
import uvloop

from aro.net.server import HttpServer

PAGE = b'{"id":"0123456789abcdef","message":"a stored chat message of eighty bytes or so"},' * 1000
GET = b"GET /messages HTTP/1.1\r\nHost: x\r\n\r\n"
ATTACK_REQUESTS = 1900  # ~64 KiB of requests asking for ~150 MB of responses
ATTACKERS = 3


def serve_page(request):
    return 200, [(b"Content-Type", b"application/json")], PAGE


@pytest.fixture(params=["asyncio", "uvloop"])
def loop_factory(request: pytest.FixtureRequest):
    return uvloop.new_event_loop if request.param == "uvloop" else asyncio.new_event_loop


def attacker(port: int) -> socket.socket:
    """A client that sends its whole pipeline in one write, then does not read."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    sock.sendall(GET * ATTACK_REQUESTS)
    return sock


def read_responses(sock: socket.socket, count: int) -> list[bytes]:
    """Read ``count`` whole responses; answer their bodies in the order they came."""
    sock.settimeout(30)
    buffer = b""
    bodies = []
    while len(bodies) < count:
        head_end = buffer.find(b"\r\n\r\n")
        if head_end >= 0:
            head = buffer[:head_end].decode()
            length = int(head.split("Content-Length: ")[1].split("\r\n")[0])
            end = head_end + 4 + length
            if len(buffer) >= end:
                assert head.startswith("HTTP/1.1 200 ")
                bodies.append(buffer[head_end + 4 : end])
                buffer = buffer[end:]
                continue
        chunk = sock.recv(1 << 20)
        assert chunk, f"connection closed after {len(bodies)} responses"
        buffer += chunk
    return bodies


def test_pipelined_amplification_is_held_back_and_answered_in_order(loop_factory) -> None:
    async def scenario() -> None:
        server = HttpServer(serve_page, port=0)
        port = await server.start()
        loop = asyncio.get_running_loop()
        sockets = [await loop.run_in_executor(None, attacker, port) for _ in range(ATTACKERS)]
        try:
            await asyncio.sleep(0.5)  # let the server do whatever it does with them
            connections = list(server._connections)
            buffered = [c._transport.get_write_buffer_size() for c in connections]
            # Each connection stopped with one write's worth of unsent output at most (the
            # kernel's socket buffers hold a few MB more), instead of ~150 MB of responses.
            assert all(size < 4 * len(PAGE) for size in buffered), buffered
            assert [c._backlog is not None for c in connections] == [True] * ATTACKERS
            assert not any(c._reading for c in connections)

            # A normal client is answered promptly meanwhile (generous bound: a loaded box).
            started = time.monotonic()
            normal = await loop.run_in_executor(None, socket.create_connection, ("127.0.0.1", port))
            normal.sendall(GET)
            [body] = await loop.run_in_executor(None, read_responses, normal, 1)
            assert body == PAGE
            assert time.monotonic() - started < 5
            normal.close()

            # When an attacker reads at last, every response comes, whole and in order.
            bodies = await loop.run_in_executor(None, read_responses, sockets[0], ATTACK_REQUESTS)
            assert len(bodies) == ATTACK_REQUESTS and set(bodies) == {PAGE}
        finally:
            for sock in sockets:
                sock.close()
            await server.stop(grace=1)

    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(asyncio.wait_for(scenario(), 120))


def test_pipelined_requests_in_a_large_read_are_answered_in_order(loop_factory) -> None:
    """Reads larger than one parse slice, with requests split across slices."""

    def echo_path(request):
        return 200, [], request.path.encode()

    async def scenario() -> None:
        server = HttpServer(echo_path, port=0)
        port = await server.start()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        paths = [f"/{index}/{'x' * (index % 50)}" for index in range(3000)]
        writer.write(b"".join(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for path in paths))
        received = []
        for _ in paths:
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
            received.append((await reader.readexactly(length)).decode())
        assert received == paths
        writer.close()
        await server.stop(grace=1)

    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(asyncio.wait_for(scenario(), 60))


def test_every_client_sending_too_large_a_body_reads_the_413(loop_factory) -> None:
    clients = 50
    body = b"x" * (256 * 1024)  # four times the limit, sent in one go before reading
    request = b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (
        len(body),
        body,
    )

    def send_then_read(port: int) -> bytes:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            # The server may stop reading early: its answer must still arrive.
            with contextlib.suppress(OSError):
                sock.sendall(request)
            received = b""
            while chunk := sock.recv(65536):
                received += chunk
            return received

    async def scenario() -> None:
        server = HttpServer(serve_page, port=0, max_body=64 * 1024)
        port = await server.start()
        loop = asyncio.get_running_loop()
        try:
            answers = await asyncio.gather(
                *(loop.run_in_executor(None, send_then_read, port) for _ in range(clients))
            )
        finally:
            await server.stop(grace=1)
        for answer in answers:
            assert answer.startswith(b"HTTP/1.1 413 Payload Too Large\r\n"), answer[:80]
            assert answer.endswith(b'{"error":"Payload Too Large"}')

    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(asyncio.wait_for(scenario(), 60))
