"""Event sources: background tasks that bring events into the application from outside.

A server-sent-event subscription, an outbound socket connection and a timer each run as a task
here.  While any runs, ``Keepalive`` waits for a signal instead of returning once the event bus
is idle; when the application ends, every one is cancelled and awaited.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from aro.vm.services import Events


class EventSources:
    """The application's running event sources."""

    __slots__ = ("_tasks",)

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task:
        """Run ``coroutine`` as an event source until it returns or the application ends."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def close(self) -> None:
        """Cancel every source and wait until each has cleaned up."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)


class EventTimers:
    """The ``timers`` capability: ``Schedule`` emits an empty domain event at each interval."""

    __slots__ = ("_events", "_sources")

    def __init__(self, events: Events, sources: EventSources) -> None:
        self._events = events
        self._sources = sources

    def schedule(self, event_name: str, interval: float) -> None:
        self._sources.spawn(self._tick(event_name, interval))

    async def _tick(self, event_name: str, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            await self._events.emit(event_name, {}, wait=False)
