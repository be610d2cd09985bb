"""Connection lifetime and count (docs/decisions.md, decision 17), with real sockets on
127.0.0.1: blank lines do not keep a connection alive, idle ones end on time, and beyond
``max_connections`` the idle ones make room or a newcomer gets a 503 it can read."""

from __future__ import annotations

import asyncio
import json
import resource
import socket
import subprocess
import sys
import time

import websockets

from aro.net.server import default_max_connections
from aro.net.websocket import WebSocket, WebSocketSettings, make_upgrade_handler
from tests.net import test_http
from tests.net.test_http import Client, serving

run = test_http.run  # the fixture: each test on asyncio and on uvloop

GET = b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"


async def dribble(client: Client, every: float, limit: float) -> float:
    """Send a blank line every ``every`` seconds until the server closes; the seconds it took
    (``limit`` bounds the wait, so a server that never closes fails the caller's check)."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        client.writer.write(b"\r\n")
        try:
            data = await asyncio.wait_for(client.reader.read(), every)
        except TimeoutError:
            continue
        except ConnectionError:
            data = b""
        if not data or data.startswith(b"HTTP/1.1 408"):
            break
    return time.monotonic() - started


def test_blank_lines_do_not_extend_the_request_deadline(run) -> None:
    async def scenario() -> None:
        async with serving(request_timeout=0.3, keepalive_timeout=30) as (server, client):
            took = await dribble(client, every=0.05, limit=4)
            assert took < 4  # closed, although a byte came every 50 ms
            await asyncio.sleep(0.05)
            assert server.open_connections == 0

    run(scenario())


def test_idle_keep_alive_counts_from_the_last_response(run) -> None:
    async def scenario() -> None:
        async with serving(request_timeout=30, keepalive_timeout=0.3) as (server, client):
            client.writer.write(GET)
            assert (await client.response())[0] == 200
            took = await dribble(client, every=0.05, limit=4)
            assert took < 4
            await asyncio.sleep(0.05)
            assert server.open_connections == 0

    run(scenario())


async def connect(port: int) -> Client:
    return Client(*await asyncio.open_connection("127.0.0.1", port))


def test_beyond_the_limit_a_newcomer_gets_503_and_the_others_keep_working(run) -> None:
    async def scenario() -> None:
        async with serving(max_connections=2) as (server, first):
            second = await connect(server.port)
            # Both are busy (a request begun), so neither may be shed to make room.
            for client in (first, second):
                client.writer.write(b"GET /busy HTTP/1.1\r\nHost: h\r\n")
            await asyncio.sleep(0.05)
            third = await connect(server.port)
            third.writer.write(GET)
            status, headers, body = await third.response()
            assert (status, headers["Connection"], headers["Retry-After"]) == (503, "close", "1")
            assert "max_connections" in json.loads(body)["error"]
            assert await third.closed()
            assert server.refused == 1
            for client in (first, second):
                client.writer.write(b"\r\n")
                assert (await client.response())[2] == b"GET /busy "

    run(scenario())


def test_the_oldest_idle_connection_makes_room(run) -> None:
    async def scenario() -> None:
        async with serving(max_connections=2) as (server, oldest):
            newer = await connect(server.port)
            for client in (oldest, newer):  # both served, now idle keep-alive
                client.writer.write(GET)
                await client.response()
            newest = await connect(server.port)
            newest.writer.write(GET)
            assert (await newest.response())[0] == 200
            assert await oldest.closed()
            newer.writer.write(GET)
            assert (await newer.response())[0] == 200
            assert server.refused == 0

    run(scenario())


class _Silent:
    """A WebSocket handler that does nothing."""

    def on_open(self, conn: WebSocket) -> None:
        pass

    def on_message(self, conn: WebSocket, data: str | bytes) -> None:
        pass

    def on_close(self, conn: WebSocket, code: int, reason: str) -> None:
        pass


def test_websockets_count_until_they_end(run) -> None:
    upgrade = make_upgrade_handler(WebSocketSettings(ping_interval=0), _Silent())

    async def scenario() -> None:
        async with serving(max_connections=1, upgrade_handler=upgrade) as (server, http):
            http.writer.close()
            await asyncio.sleep(0.05)
            async with websockets.connect(f"ws://127.0.0.1:{server.port}/ws") as chat:
                await chat.ping()
                refused = await connect(server.port)
                refused.writer.write(GET)
                assert (await refused.response())[0] == 503
            await asyncio.sleep(0.05)
            assert server.open_connections == 0
            welcome = await connect(server.port)
            welcome.writer.write(GET)
            assert (await welcome.response())[0] == 200
            welcome.writer.close()

    run(scenario())


def test_the_default_limit_leaves_descriptors_to_spare() -> None:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert default_max_connections() <= soft - 32


# A server in a process with 64 descriptors: by default at most 32 connections.
SERVER = """
import asyncio, resource, sys, uvloop
from aro.net.server import HttpServer

async def hello(request):
    return 200, [], b"hello"

async def main():
    server = HttpServer(hello, port=0)
    print(await server.start(), server.max_connections, flush=True)
    await asyncio.sleep(60)

uvloop.run(main())
"""


def test_a_new_client_is_served_when_idle_connections_exhaust_descriptors() -> None:
    def few_descriptors() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    server = subprocess.Popen(
        [sys.executable, "-c", SERVER], stdout=subprocess.PIPE, preexec_fn=few_descriptors
    )
    idle: list[socket.socket] = []
    try:
        port, limit = map(int, server.stdout.readline().split())
        assert limit == 32
        for _ in range(80):  # more than the process has descriptors
            idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            client.sendall(GET)
            answer = client.recv(4096)
        assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b"hello")
        assert idle[0].recv(1) == b""  # the longest idle was shed
        assert server.poll() is None
    finally:
        for sock in idle:
            sock.close()
        server.kill()
        server.wait()
        server.stdout.close()
