"""A page from another site cannot join the chat (docs/decisions.md, decision 19).

examples/WebChat runs as a real process; a client sending a foreign ``Origin`` (what a
browser sends for a page on another site) is refused with 403 and receives no broadcast,
while the chat's own page, a client without ``Origin`` and an origin listed in
``--ws-allowed-origins`` all join and receive it.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.support.live import ROOT, launch

WEBCHAT = ROOT / "examples" / "WebChat"
EVIL = "https://evil.example"


def _post(port: int, text: str) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/messages",
        data=f"message={text}".encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201


async def _refusal(port: int, origin: str) -> tuple[int, dict]:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"ws://127.0.0.1:{port}/ws", origin=origin, open_timeout=10):
            pass
    response = refused.value.response
    return response.status_code, json.loads(response.body)


async def _received(port: int, origins: list[str | None]) -> list[dict]:
    """Connect one client per origin, post once, and answer what each received."""
    url = f"ws://127.0.0.1:{port}/ws"
    clients = [await connect(url, origin=origin, open_timeout=10) for origin in origins]
    try:
        await asyncio.to_thread(_post, port, "hello")
        return [json.loads(await asyncio.wait_for(ws.recv(), 10)) for ws in clients]
    finally:
        for ws in clients:
            await ws.close()


def test_a_foreign_origin_gets_403_and_the_own_page_and_non_browsers_get_the_chat() -> None:
    with launch(WEBCHAT, "--port", "0") as app:
        port = app.port()
        status, body = asyncio.run(_refusal(port, EVIL))
        assert status == 403
        assert body == {"error": f"Origin {EVIL} may not open a WebSocket on this server"}
        own = f"http://127.0.0.1:{port}"
        received = asyncio.run(_received(port, [own, None]))
        assert [message["message"] for message in received] == ["hello", "hello"]
        _, lines = app.terminate()
    assert lines.count("[Handle WebSocket Connect] WebSocket client connected") == 2


def test_listed_origins_are_let_in_and_others_still_refused() -> None:
    listed = "https://app.example.com"
    with launch(WEBCHAT, "--port", "0", env={"ARO_WS_ALLOWED_ORIGINS": listed}) as app:
        port = app.port()
        assert asyncio.run(_refusal(port, EVIL))[0] == 403
        received = asyncio.run(_received(port, [listed]))
        assert received[0]["message"] == "hello"
    with launch(WEBCHAT, "--port", "0", "--ws-allowed-origins", "*") as app:
        received = asyncio.run(_received(app.port(), [EVIL]))
        assert received[0]["message"] == "hello"
