"""An operation's run has its own context, as a task's would: what an action sets in a
contextvar is seen by the rest of that run, waiting or not, and by no other request."""

from __future__ import annotations

import asyncio
import json
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import pytest

import aro.actions  # noqa: F401 - registers every action
from aro.config import Config
from aro.runtime.app import Application
from aro.runtime.loader import load_program
from aro.vm import registry
from aro.vm.frame import Frame
from aro.vm.plan import Plan
from aro.vm.registry import ActionSpec

MARK: ContextVar[str] = ContextVar("mark", default="unset")
CONTRACT = """
openapi: 3.0.3
info: {title: Context, version: 1.0.0}
paths:
  /plain:
    get: {operationId: plainRun, responses: {'200': {description: ok}}}
  /waiting:
    get: {operationId: waitingRun, responses: {'200': {description: ok}}}
"""
PROGRAM = """
(Application-Start: Context) {
    Start the <http-server> with {}.
    Keepalive the <application> for the <events>.
    Return an <OK: status> for the <startup>.
}
(plainRun: Context API) {
    Create the <mode> with "plain".
    Transform the <seen> from the <mode>.
    Return an <OK: status> with { seen: <seen> }.
}
(waitingRun: Context API) {
    Create the <mode> with "wait".
    Transform the <seen> from the <mode>.
    Return an <OK: status> with { seen: <seen> }.
}
(Application-End: Success) {
    Stop the <http-server> with {}.
}
"""


def mark(plan: Plan, frame: Frame) -> Any:
    """Answers the mark it found and sets it; in "wait" mode, waits and adds the mark seen
    after the wait (the rest of the run)."""
    found = MARK.get()
    MARK.set("set")
    if plan.object_value(frame) != "wait":
        return found
    return _after_a_wait(found)


async def _after_a_wait(found: str) -> str:
    await asyncio.sleep(0)
    return f"{found} then {MARK.get()}"


async def get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str) -> str:
    """One request on a kept-alive connection: the mark its run found."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: h\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(head.lower().partition(b"content-length:")[2].split(b"\r\n")[0])
    return json.loads(await reader.readexactly(length))["seen"]


def test_each_run_has_its_own_context_through_its_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = ActionSpec("transform", mark, None, is_async=False, may_wait=True)
    monkeypatch.setitem(registry.ACTIONS, "transform", spec)
    (tmp_path / "openapi.yaml").write_text(CONTRACT)
    (tmp_path / "main.aro").write_text(PROGRAM)

    async def scenario() -> list[str]:
        app = Application(load_program(tmp_path), tmp_path, config=Config(port=0))
        running = asyncio.ensure_future(app.run())
        while "http-server" not in app.services_running:
            await asyncio.sleep(0.01)
        port = app.services_running["http-server"].port
        # one connection: its requests are handled in the same protocol callbacks' context
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        paths = ["/plain", "/waiting", "/plain", "/waiting", "/plain"]
        seen = [await get(reader, writer, path) for path in paths]
        writer.close()
        app.shutdown_requested.set()
        await running
        return seen

    seen = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert seen == ["unset", "unset then set", "unset", "unset then set", "unset"]
    assert MARK.get() == "unset"
