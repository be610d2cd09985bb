"""The mission chapter's WebChat over real HTTP and WebSocket connections (no browser), on the
memory store and on the stores that outlive the process (a SQLite file, a private Redis)."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets

from tests.support.live import ROOT, launch
from tests.support.redis_server import redis_server

WEBCHAT = ROOT / "examples" / "WebChat"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def post_form(port: int, text: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/messages", data=f"message={text}".encode(), headers=FORM
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def get_json(port: int, path: str) -> object:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        return json.loads(response.read())


async def chat_round(port: int) -> tuple[tuple[int, dict], list[str]]:
    url = f"ws://127.0.0.1:{port}/ws"
    async with websockets.connect(url) as first, websockets.connect(url) as second:
        created = await asyncio.to_thread(post_form, port, "hello+chat")
        received = [await asyncio.wait_for(ws.recv(), 5) for ws in (first, second)]
    return created, received


def test_a_posted_message_is_stored_and_broadcast_to_every_socket() -> None:
    with launch(WEBCHAT, "--port", "0") as app:
        port = app.port()
        (status, message), received = asyncio.run(chat_round(port))
        assert status == 201
        assert message["message"] == "hello chat"
        assert set(message) == {"id", "message", "createdAt"}
        assert received[0] == received[1]
        assert json.loads(received[0]) == message
        assert get_json(port, "/messages") == {"data": [message]}
        app.wait_for(r"\[Handle WebSocket Disconnect\] WebSocket client disconnected")
        assert app.lines.count("[Handle WebSocket Connect] WebSocket client connected") == 2


def test_home_serves_the_chat_page() -> None:
    with launch(WEBCHAT, "--port", "0") as app:
        page = urllib.request.urlopen(f"http://127.0.0.1:{app.port()}/home", timeout=10)
        with page:
            assert page.headers["Content-Type"] == "text/html; charset=utf-8"
            html = page.read().decode()
    assert "new WebSocket(`${protocol}//${location.host}/ws`)" in html
    assert "setTimeout(connect, 3000)" in html


async def hold_socket_until_closed(port: int, closing: asyncio.Event) -> int:
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws") as ws:
        closing.set()
        try:
            await asyncio.wait_for(ws.recv(), 10)
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else 1006
    return -1


def test_sigterm_runs_application_end_and_closes_sockets_with_1001() -> None:
    with launch(WEBCHAT, "--port", "0") as app:
        port = app.port()

        async def scenario() -> int:
            connected = asyncio.Event()
            holder = asyncio.create_task(hold_socket_until_closed(port, connected))
            await connected.wait()
            await asyncio.to_thread(app.wait_for, r"WebSocket client connected")
            app.sigterm()
            return await holder

        assert asyncio.run(scenario()) == 1001
        exit_code, _ = app.terminate()
    assert exit_code == 0
    assert "[Application-End] Web Chat shutting down..." in app.lines
    assert "[Handle WebSocket Disconnect] WebSocket client disconnected" in app.lines
    assert app.lines[-1] == "[OK] startup"


@pytest.fixture(params=["sqlite", "redis"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:{tmp_path / 'chat.sqlite'}"
        return
    with redis_server(tmp_path) as server:
        yield server.url


def test_messages_outlive_a_restart_on_a_shared_store(store_url: str) -> None:
    with launch(WEBCHAT, "--port", "0", "--store", store_url) as app:
        port = app.port()
        first = [post_form(port, text)[1] for text in ("one", "two")]
        assert get_json(port, "/messages") == {"data": first}
    with launch(WEBCHAT, "--port", "0", "--store", store_url) as app:
        port = app.port()
        assert get_json(port, "/messages") == {"data": first}  # same ids, texts and dates
        status, third = post_form(port, "three")
        assert status == 201
        assert get_json(port, "/messages") == {"data": [*first, third]}
