"""File reads run off the event loop: while one WebSocket client's handler reads a file, the
server's other clients are answered.

One test makes the read wait as long as the test likes (a named pipe with no writer yet: the
read cannot finish, so any answer to the other client proves the loop is free); the other
reads a large file and checks the other client's round trips stay short.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect

from tests.support.live import LiveApp, launch

TIMEOUT = 30.0
LARGE_FILE_BYTES = 40 * 1024 * 1024
#: Generous on a loaded two-core box; a stalled loop would take the whole read and more.
PING_BOUND_S = 2.0

PROGRAM = """
(Application-Start: Reader) {
    Start the <http-server> with {}.
    Keepalive the <application> for the <events>.
    Return an <OK: status> for the <startup>.
}

(Answer WebSocket Message: WebSocket Event Handler) {
    Extract the <text> from the <event: message>.
    Extract the <sender> from the <event: connectionId>.
    Send the <text> to the <websocket-connection: sender> when <text> != "read".
    Read the <content: raw> from "%s" when <text> == "read".
    Create the <done> with "read done" when <text> == "read".
    Send the <done> to the <websocket-connection: sender> when <text> == "read".
}
"""


def _app(tmp_path: Path, source: Path) -> Path:
    app = tmp_path / "app"
    app.mkdir()
    (app / "main.aro").write_text(PROGRAM % source)
    return app


async def _client(live: LiveApp) -> ClientConnection:
    return await connect(f"ws://127.0.0.1:{live.port()}/ws")


async def _round_trip(client: ClientConnection, text: str) -> float:
    started = time.monotonic()
    await client.send(text)
    assert await client.recv() == text
    return time.monotonic() - started


def test_a_read_that_waits_leaves_other_clients_answered(tmp_path: Path) -> None:
    pipe = tmp_path / "slow.txt"
    os.mkfifo(pipe)

    async def scenario() -> None:
        reader, other = await _client(live), await _client(live)
        await reader.send("read")  # its handler now waits for the pipe's writer
        for n in range(5):
            assert await _round_trip(other, f"ping {n}") < PING_BOUND_S
        await asyncio.to_thread(pipe.write_text, "finally some text")
        assert await reader.recv() == "read done"
        await reader.close()
        await other.close()

    with launch(_app(tmp_path, pipe), "--port", "0") as live:
        asyncio.run(asyncio.wait_for(scenario(), TIMEOUT))
        assert live.terminate()[0] == 0


def test_reading_a_large_file_keeps_other_clients_round_trips_short(tmp_path: Path) -> None:
    large = tmp_path / "large.txt"
    line = b"0123456789abcdef" * 4 + b"\n"
    large.write_bytes(line * (LARGE_FILE_BYTES // len(line)))

    async def scenario() -> list[float]:
        reader, other = await _client(live), await _client(live)
        reply = asyncio.ensure_future(reader.recv())
        await reader.send("read")
        latencies = []
        while not reply.done():
            latencies.append(await _round_trip(other, "ping"))
        assert reply.result() == "read done"
        latencies.append(await _round_trip(other, "ping"))
        await reader.close()
        await other.close()
        return latencies

    with launch(_app(tmp_path, large), "--port", "0") as live:
        latencies = asyncio.run(asyncio.wait_for(scenario(), TIMEOUT))
        assert live.terminate()[0] == 0
    assert max(latencies) < PING_BOUND_S, latencies
