"""Start a coroutine eagerly: run its first step now, and make a task only if it suspends.

Most handlers never suspend, and skipping the task saves its creation, its registration and
an extra loop turn.  The first step runs in its own copy of the context, as in a task; but
``asyncio.current_task()`` is None until the first suspension, so ``asyncio.timeout()``
belongs after an ``await``.
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import Coroutine, Generator
from contextvars import Context, copy_context
from typing import Any, TypeVar

from aro._speedups import step_in_context

__all__ = ["Suspended", "first_step", "first_step_in", "start_eagerly"]

T = TypeVar("T")


class Suspended:
    """A coroutine that suspended in its first step: await ``rest`` in a task that runs in
    ``context`` (``loop.create_task(..., context=suspended.context)``) to go on with it."""

    __slots__ = ("context", "rest")

    def __init__(self, rest: Generator[Any, Any, Any], context: Context) -> None:
        self.rest = rest
        self.context = context


def first_step(coro: Coroutine[Any, Any, T]) -> T | Suspended:
    """Run ``coro`` until it finishes or first suspends: its result, or a :class:`Suspended`.

    Callers on a hot path test ``type(result) is Suspended``. The step is the codec
    extension's (``step_in_context``): a coroutine that finishes, as most handlers do, is
    not made to raise StopIteration.
    """
    return step_in_context(coro, copy_context(), _suspended)


def first_step_in(coro: Coroutine[Any, Any, T], context: Context) -> T | Suspended:
    """:func:`first_step` in a given context: for a coroutine that goes on with work already
    begun in ``context`` (its rest, if it suspends, runs there too)."""
    return step_in_context(coro, context, _suspended)


def _suspended(coro: Coroutine[Any, Any, Any], context: Context, yielded: Any) -> Suspended:
    blocking = getattr(yielded, "_asyncio_future_blocking", False)
    if blocking:
        # Cleared now, as a task would: a future still marked cannot be awaited by anyone else.
        yielded._asyncio_future_blocking = False
    return Suspended(_resume(coro, yielded, blocking), context)


def start_eagerly(loop: asyncio.AbstractEventLoop, coro: Coroutine) -> asyncio.Task | None:
    """Run a coroutine's first step now; only if it suspends does it go on in a task (None
    when it already finished, its result dropped)."""
    step = first_step(coro)
    if type(step) is not Suspended:
        return None
    return loop.create_task(step.rest, context=step.context)


@types.coroutine
def _resume(coro: Coroutine[Any, Any, T], yielded: Any, blocking: bool) -> Generator[Any, Any, T]:
    """Go on awaiting a coroutine whose first step already ran outside any task.

    ``yielded`` is what that first ``send(None)`` produced (a future, or None for a bare
    yield); it is handed to the task driving us, exactly as ``await`` would have done.
    ``blocking`` restores the future's "awaited" mark that :func:`first_step` cleared.
    """
    if blocking:
        yielded._asyncio_future_blocking = True
    while True:
        try:
            sent = yield yielded
        except GeneratorExit:
            coro.close()
            raise
        except BaseException as exc:
            try:
                yielded = coro.throw(exc)
            except StopIteration as stop:
                return stop.value
        else:
            try:
                yielded = coro.send(sent)
            except StopIteration as stop:
                return stop.value
