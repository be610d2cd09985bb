"""SIGHUP stops examples/WebChat as gracefully as SIGTERM: Application-End runs and every
WebSocket gets 1001, with a line saying that reloading is not available (a closing terminal
used to kill the process, dropping clients with 1006)."""

from __future__ import annotations

import asyncio
import signal

import pytest
import websockets

from aro.runtime.app import RELOAD_NOTICE
from tests.support.live import ROOT, launch

WEBCHAT = ROOT / "examples" / "WebChat"


async def _close_code_after(port: int, send_signal: object) -> int:
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws", open_timeout=10) as ws:
        await asyncio.to_thread(send_signal)
        try:
            await asyncio.wait_for(ws.recv(), 10)
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else 1006
    return -1


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM, signal.SIGINT])
def test_each_stop_signal_runs_application_end_and_closes_sockets_with_1001(
    signum: signal.Signals,
) -> None:
    with launch(WEBCHAT, "--port", "0") as app:
        port = app.port()

        def stop() -> None:
            app.wait_for(r"WebSocket client connected")
            app.sigterm(signum)

        assert asyncio.run(_close_code_after(port, stop)) == 1001
        exit_code, lines = app.terminate()
    assert exit_code == 0
    assert "[Application-End] Web Chat shutting down..." in lines
    assert "[Handle WebSocket Disconnect] WebSocket client disconnected" in lines
    assert (RELOAD_NOTICE.rstrip("\n") in app.errors) == (signum == signal.SIGHUP)
