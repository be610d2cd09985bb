"""A handler waiting for a slow HTTP endpoint does not stall the server: the WebSocket clients
of the same process keep getting their answers meanwhile.

The slow endpoint holds its reply until the test releases it, so "meanwhile" is certain rather
than a matter of timing: every WebSocket round trip below happens while the handler's request
is known to be in flight.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import textwrap
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from tests.support.http_stub import stub_server
from tests.support.live import launch

TIMEOUT = 20.0
ROUND_TRIPS = 20

CONTRACT = """
openapi: 3.0.3
info: { title: Relay, version: 1.0.0 }
paths:
  /relay:
    get:
      operationId: relaySlow
      responses: { '200': { description: the slow endpoint's answer } }
"""

PROGRAM = """
(Application-Start: Relay) {
    Start the <http-server> with <contract>.
    Keepalive the <application> for the <events>.
    Return an <OK: status> for the <startup>.
}

(relaySlow: Relay API) {
    Request the <reply> from "{stub}/hold".
    Extract the <body> from the <reply: body>.
    Return an <OK: status> with <body>.
}

(Echo Message: WebSocket Event Handler) {
    Extract the <message> from the <event: message>.
    Send the <message> to the <websocket-connection: connectionId>.
    Return an <OK: status> for the <message>.
}
"""


@pytest.fixture
def relay(tmp_path: Path):
    with stub_server() as stub:
        (tmp_path / "openapi.yaml").write_text(textwrap.dedent(CONTRACT))
        (tmp_path / "main.aro").write_text(PROGRAM.replace("{stub}", stub.url))
        with launch(tmp_path, "--port", "0") as app:
            yield app.port(), stub
            app.terminate()


def _get(port: int, path: str) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


async def _round_trips(port: int) -> list[str]:
    async with connect(f"ws://127.0.0.1:{port}/ws") as client:
        answers = []
        for n in range(ROUND_TRIPS):
            await client.send(f"ping {n}")
            answers.append(await client.recv())
        return answers


async def _until(condition, what: str) -> None:
    for _ in range(int(TIMEOUT * 20)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_websocket_clients_are_served_while_a_handler_waits_for_http(relay) -> None:
    port, stub = relay

    async def scenario() -> tuple[list[str], tuple[int, dict]]:
        pending = asyncio.ensure_future(asyncio.to_thread(_get, port, "/relay"))
        await _until(lambda: stub.held == 1, "the handler's request to reach the slow endpoint")
        answers = await _round_trips(port)
        assert not pending.done()  # still held: the round trips happened meanwhile
        stub.release()
        return answers, await pending

    answers, (status, body) = asyncio.run(asyncio.wait_for(scenario(), TIMEOUT))
    assert answers == [f"ping {n}" for n in range(ROUND_TRIPS)]
    assert (status, body) == (200, {"released": True})
