"""``Start the <file-monitor>``: File Event Handlers hear changes under a directory."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from aro.lang.compiler import compile_source
from aro.runtime.app import Application
from aro.runtime.file_monitor import monitored_path

WAIT_S = 10.0  # generous: notifications arrive in milliseconds, the box may be loaded

PROGRAM = """
(Application-Start: Watcher) {
    Start the <file-monitor> with "%s".
    Log "watching" to the <console>.
    Keepalive the <application> for the <events>.
    Return an <OK: status> for the <startup>.
}
(Handle File Created: File Event Handler) {
    Extract the <path> from the <event: path>.
    Log "created ${path}" to the <console>.
}
(Handle File Modified: File Event Handler) {
    Log "modified ${<event: path>}" to the <console>.
}
(Handle File Deleted: File Event Handler) {
    Log "deleted ${<event: path>}" to the <console>.
}
"""


async def _until(output: io.StringIO, text: str) -> None:
    async def poll() -> None:
        while text not in output.getvalue():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), WAIT_S)


def test_created_modified_deleted_reach_their_handlers(tmp_path: Path) -> None:
    watched = tmp_path / "watched"
    watched.mkdir()
    target = watched / "note.txt"
    stdout = io.StringIO()
    app = Application(compile_source(PROGRAM % watched, "main.aro"), None, {}, {}, stdout=stdout)

    async def scenario() -> int:
        running = asyncio.create_task(app.run())
        await _until(stdout, "watching")
        target.write_text("one")
        await _until(stdout, f"created {target}")
        await asyncio.sleep(0.2)  # a separate change, not folded into the creation
        with target.open("a") as file:
            file.write("two")
        await _until(stdout, f"modified {target}")
        target.unlink()
        await _until(stdout, f"deleted {target}")
        app.request_shutdown()
        return await asyncio.wait_for(running, WAIT_S)

    assert asyncio.run(scenario()) == 0
    assert "[Handle File Created] created" in stdout.getvalue()


def test_hidden_files_are_not_modified(tmp_path: Path) -> None:
    hidden = tmp_path / ".swap"
    hidden.write_text("x")
    stdout = io.StringIO()
    app = Application(compile_source(PROGRAM % tmp_path, "main.aro"), None, {}, {}, stdout=stdout)

    async def scenario() -> None:
        running = asyncio.create_task(app.run())
        await _until(stdout, "watching")
        hidden.write_text("changed")
        (tmp_path / "visible.txt").write_text("x")  # a later change proves the first was seen
        await _until(stdout, "created")
        app.request_shutdown()
        await asyncio.wait_for(running, WAIT_S)

    asyncio.run(scenario())
    assert "modified" not in stdout.getvalue()


def test_a_missing_directory_is_an_error(tmp_path: Path) -> None:
    stdout = io.StringIO()
    source = PROGRAM % (tmp_path / "missing")
    app = Application(compile_source(source, "main.aro"), None, {}, {}, stdout=stdout)
    assert asyncio.run(asyncio.wait_for(app.run(), WAIT_S)) == 1
    assert "Cannot start the file-monitor" in stdout.getvalue()


@pytest.mark.parametrize(
    ("with_value", "path"),
    [("./a", "./a"), ({"directory": "b"}, "b"), ({"path": "c"}, "c"), (None, ".")],
)
def test_the_path_comes_from_the_with_value(with_value: object, path: str) -> None:
    assert monitored_path(with_value) == path
