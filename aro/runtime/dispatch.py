"""Running handler feature sets: the one way events (domain, repository, state, connection)
become handler runs.

A handler runs in a fresh frame that is a child of the Application-Start frame (its variables
are visible).  Its failure is reported on one stderr line under its name and never reaches
whoever triggered it.

Connection events (TCP and WebSocket) differ from domain events in one way that matters: the
events of one connection must reach the handlers in the order they happened (connect, each
message, disconnect), while different connections run concurrently.
:class:`ConnectionDispatcher` runs an event's handlers at once, as plain calls while they do
not wait; a handler that waits goes on in a task, and the connection's later events queue
behind it until that task has drained them: an idle connection, or one whose handlers never
wait, costs no task and no queue.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Coroutine
from typing import Any

from aro.lang.bytecode import CodeObject
from aro.net.aio import start_eagerly
from aro.runtime.handlers import Handlers
from aro.vm import values
from aro.vm.errors import StatementError
from aro.vm.expressions import Evaluator
from aro.vm.frame import Frame, Response
from aro.vm.machine import linked
from aro.vm.services import Services


def error_text(error: BaseException, *, one_line: bool = True) -> str:
    """A failure as the user reads it: a failed statement's headline, else the message.

    ``one_line`` folds the message's whitespace for a log line; Application-End's
    ``shutdown`` value keeps the message as raised.  A statement headline is never folded.
    """
    if isinstance(error, StatementError):
        return f"Runtime Error: {error.headline}"
    return " ".join(str(error).split()) if one_line else str(error)


async def run_handler(
    services: Services,
    root: Frame | None,
    code: CodeObject,
    bindings: dict[str, Any],
    guard: Evaluator | None = None,
) -> None:
    """Run ``code`` as a child of ``root`` with ``bindings``.  A ``when`` guard that is false
    or fails skips it silently; a failure of the handler is one stderr line."""
    frame = Frame(code, services, root, bindings)  # positional: keywords build a dict
    if guard is not None:
        reads = linked(code).guard_reads  # the guard reads synchronously
        if reads and services.repositories.suspends:
            await services.repositories.prefetch(reads)
        if not _guard_passes(guard, frame):
            return
    try:
        await services.executions.run(frame)
    except Exception as error:  # a failing handler never reaches what triggered it
        report_failure(services, code, error)


def report_failure(services: Services, code: CodeObject, error: BaseException) -> None:
    """A handler's failure: one stderr line under its name."""
    services.console.log(code.name, f"Handler error: {error_text(error)}", "stderr")


def _guard_passes(guard: Evaluator, frame: Frame) -> bool:
    try:
        return values.truthy(guard(frame))
    except Exception:
        return False


class ConnectionDispatcher:
    """Runs handler feature sets for connection events, in order per connection."""

    __slots__ = ("_loop", "_queues", "_root", "_services", "_tasks")

    def __init__(self, services: Services, root: Frame | None) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._services = services
        self._root = root
        self._queues: dict[str, collections.deque[tuple[Handlers, str, Any]]] = {}
        self._tasks: set[asyncio.Task] = set()

    def deliver(self, connection_id: str, handlers: Handlers, name: str, value: Any) -> None:
        """Run one event of a connection now, handler after handler, with ``name`` (``event``,
        ``packet``, ``connection``) bound to ``value``; a handler that waits goes on in a
        task, and the connection's later events queue behind it (so a queue exists only while
        a handler of that connection is waiting)."""
        if not handlers:
            return
        queue = self._queues.get(connection_id)
        if queue is not None:
            queue.append((handlers, name, value))
            return
        services, root = self._services, self._root
        started = 0  # handlers started so far: the ones after a handler that waits queue
        for code in handlers:  # (no enumerate: its tuples cost more than the counter)
            started += 1
            frame = Frame(code, services, root)  # positional: keywords would build a dict
            slot = code.slot_index.get(name)  # a handler that reads the event has its slot
            if slot is None:
                frame.bind_name(name, value)
            else:
                frame.slots[slot] = value
            try:
                running = services.executions.run_eagerly(frame)
            except Exception as error:  # a failing handler never reaches what triggered it
                report_failure(services, code, error)
                continue
            if type(running) is not Response:
                queue = self._queues[connection_id] = collections.deque()
                if started < len(handlers):
                    queue.append((handlers[started:], name, value))
                self._wait_for(connection_id, queue, code, running)
                return

    def _wait_for(
        self,
        connection_id: str,
        queue: collections.deque,
        code: CodeObject,
        running: Coroutine[Any, Any, Response],
    ) -> None:
        """Go on with a handler that waits, then with the connection's queue, in a task (its
        first step now: most waits are short)."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        task = start_eagerly(self._loop, self._drain(connection_id, queue, code, running))
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _drain(
        self,
        connection_id: str,
        queue: collections.deque,
        code: CodeObject,
        running: Coroutine[Any, Any, Response],
    ) -> None:
        services, root = self._services, self._root
        try:
            await running
        except Exception as error:
            report_failure(services, code, error)
        while queue:
            handlers, name, value = queue.popleft()
            for code in handlers:
                frame = Frame(code, services, root)
                frame.bind_name(name, value)
                try:
                    await services.executions.run(frame)
                except Exception as error:
                    report_failure(services, code, error)
        del self._queues[connection_id]  # no await since the last check: nothing was missed

    def pending(self) -> int:
        """Connections with events still queued or running (for tests and metrics)."""
        return len(self._queues)

    async def idle(self) -> None:
        """Return once every queued event has been handled."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))
