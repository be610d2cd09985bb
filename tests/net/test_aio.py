"""Starting coroutines eagerly: the first step runs at once, a task only for the rest."""

from __future__ import annotations

import asyncio
from contextvars import ContextVar

import pytest

from aro.net.aio import Suspended, first_step, start_eagerly

seen: ContextVar[str] = ContextVar("seen", default="outside")


async def immediate(value: str) -> str:
    seen.set(value)
    return value


async def sleeping(value: str) -> str:
    seen.set(value)
    await asyncio.sleep(0.01)
    return seen.get()


def test_a_coroutine_that_never_suspends_answers_its_result_in_its_own_context() -> None:
    assert first_step(immediate("done")) == "done"
    assert seen.get() == "outside"


def test_a_suspended_coroutine_goes_on_in_a_task_with_its_context() -> None:
    async def scenario() -> None:
        step = first_step(sleeping("inside"))
        assert type(step) is Suspended
        task = asyncio.get_running_loop().create_task(step.rest, context=step.context)
        assert await task == "inside"
        assert seen.get() == "outside"

    asyncio.run(scenario())


def test_a_suspended_coroutine_sees_exceptions_and_cancellation() -> None:
    async def fails_later() -> None:
        await asyncio.sleep(0)
        raise ValueError("late")

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        failing = first_step(fails_later())
        with pytest.raises(ValueError, match="late"):
            await loop.create_task(failing.rest, context=failing.context)
        slow = start_eagerly(loop, sleeping("slow"))
        await asyncio.sleep(0)
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow

    asyncio.run(scenario())


def test_start_eagerly_makes_a_task_only_for_a_coroutine_that_suspends() -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        assert start_eagerly(loop, immediate("now")) is None
        task = start_eagerly(loop, sleeping("later"))
        assert isinstance(task, asyncio.Task)
        assert await task == "later"

    asyncio.run(scenario())
