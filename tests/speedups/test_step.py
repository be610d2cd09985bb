"""step_in_context, which aro.net.aio starts every handler with, against both builds."""

from __future__ import annotations

import contextvars
import types

import pytest

from tests.support.codec import BUILDS, load_build

VARIABLE: contextvars.ContextVar[str] = contextvars.ContextVar("VARIABLE", default="outside")


@pytest.fixture(params=list(BUILDS))
def codec(request):
    return load_build(request.param)


def never(*arguments):
    raise AssertionError(f"suspended: {arguments}")


async def finishes(value: str) -> str:
    VARIABLE.set(value)
    return value


@types.coroutine
def yields(marker: object):
    received = yield marker
    return received


async def suspends(marker: object) -> object:
    return await yields(marker)


async def fails() -> None:
    raise ValueError("inside")


def test_a_coroutine_that_finishes_answers_its_result_in_the_context(codec):
    context = contextvars.copy_context()
    assert codec.step_in_context(finishes("set"), context, never) == "set"
    assert context[VARIABLE] == "set"
    assert VARIABLE.get() == "outside"


def test_a_coroutine_that_suspends_is_handed_over_with_what_it_yielded(codec):
    marker, context = object(), contextvars.copy_context()
    coro = suspends(marker)
    handed = codec.step_in_context(coro, context, lambda *seen: seen)
    assert handed == (coro, context, marker)
    with pytest.raises(StopIteration) as stop:
        coro.send("answer")
    assert stop.value.value == "answer"


def test_a_failure_in_the_first_step_propagates(codec):
    with pytest.raises(ValueError, match="inside"):
        codec.step_in_context(fails(), contextvars.copy_context(), never)
    assert VARIABLE.get() == "outside"
