"""``Start the <file-monitor> with "./dir"``: File Event Handlers for changes under a directory.

The watching is ``watchfiles`` (the operating system's notifications through Rust's
``notify``: inotify on Linux, no polling).  Each change runs the handlers named for it
(``Handle File Created: File Event Handler``) with ``event`` bound to ``{path}``, one change
after another so that handlers see them in order.  As in the reference, a change to a hidden
file (a name starting with ``.``: editors' temporary files) is not a modification.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from typing import Any

import watchfiles

from aro.runtime.dispatch import run_handler
from aro.runtime.handlers import CREATED, DELETED, MODIFIED, HandlerTable
from aro.vm.errors import ActionError
from aro.vm.frame import Frame
from aro.vm.services import Services

EVENT_OF_CHANGE = {
    watchfiles.Change.added: CREATED,
    watchfiles.Change.modified: MODIFIED,
    watchfiles.Change.deleted: DELETED,
}
#: How long changes are gathered after the last one (ms): short, so handlers run promptly.
QUIET_STEP_MS = 50


def monitored_path(with_value: Any) -> str:
    """``with "./dir"``, ``with { directory: … }`` or ``with { path: … }``; else ``"."``."""
    if isinstance(with_value, str):
        return with_value
    if isinstance(with_value, Mapping):
        for key in ("directory", "path"):
            if isinstance(with_value.get(key), str):
                return with_value[key]
    return "."


class FileMonitor:
    """The running watch of one directory tree."""

    def __init__(
        self, services: Services, handlers: HandlerTable, root: Frame | None, path: str
    ) -> None:
        self.services = services
        self.handlers = handlers.files
        self.root = root
        self.path = path
        self.stop_event = asyncio.Event()
        self.task: asyncio.Task | None = None

    async def start(self) -> dict[str, Any]:
        if not os.path.exists(self.path):
            raise ActionError(f"Path not found: {self.path}")
        self.task = asyncio.create_task(self._watch())
        # The task's first step registers the watch (before its first wait): once it has run,
        # no change made after Start is missed.
        await asyncio.sleep(0)
        return {"serverType": "file-monitor", "success": True, "path": self.path}

    async def stop(self) -> None:
        self.stop_event.set()
        if self.task is not None:
            await self.task

    async def _watch(self) -> None:
        changes = watchfiles.awatch(self.path, stop_event=self.stop_event, step=QUIET_STEP_MS)
        async for batch in changes:
            # One batch is a set: created before modified before deleted, then by path.
            for change, path in sorted(batch, key=lambda item: (item[0].value, item[1])):
                await self._deliver(EVENT_OF_CHANGE[change], path)

    async def _deliver(self, event: str, path: str) -> None:
        if event == MODIFIED and os.path.basename(path).startswith("."):
            return
        for code in self.handlers[event]:
            await run_handler(self.services, self.root, code, {"event": {"path": path}})
