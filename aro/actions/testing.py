"""Given, When, Then and Assert: the steps of test feature sets (``aro test``).

A test binds its inputs with Given, runs the feature set under test with When (only
``aro test`` provides ``frame.services.testing``), and checks values with Then or Assert.  A
check that finds another value raises ``AssertionFailed``, which the test runner reports as
a failed test rather than an error.
"""

from __future__ import annotations

from typing import Any

from aro.vm import values
from aro.vm.errors import ActionError, AssertionFailed
from aro.vm.frame import UNBOUND, Frame
from aro.vm.plan import Plan
from aro.vm.registry import action

#: How close two numbers must be to count as equal in a check.
NUMBER_TOLERANCE = 1e-4


def _stated_value(plan: Plan, frame: Frame) -> Any:
    """What a step states: the ``with`` value, else the object expression, else the object
    variable, else the object's name as text."""
    if plan.with_fn is not None:
        return plan.with_fn(frame)
    if plan.object_fn is not None:
        return plan.object_fn(frame)
    if plan.obj is None:
        return None
    value = frame.load_or_unbound(plan.obj.slot)
    return plan.obj.base if value is UNBOUND else value


@action("given", prepositions=("with",))
def given(plan: Plan, frame: Frame) -> Any:
    """``Given the <text> with "hello".``: bind a test input."""
    plan.check_preposition()
    return _stated_value(plan, frame)


@action("when", prepositions=("from",))
async def when(plan: Plan, frame: Frame) -> Any:
    """``When the <len> from the <get-length>.``: run that feature set with the test's
    variables; the result is its response's value of the same name, else its first value,
    else the callee's own variable of that name, else the response itself."""
    plan.check_preposition()
    testing = frame.services.testing
    if testing is None:
        raise ActionError("When needs a test run (use the 'aro test' command)")
    if plan.obj is None:
        raise ActionError("When needs the feature set to run as its object")
    callee = await testing.run_feature_set(plan.obj.base, frame)
    response = callee.response
    payload = response.payload if response is not None else {}
    name = plan.result.base
    if name in payload:
        return payload[name]
    if payload:
        return next(iter(payload.values()))
    own = callee.find(name)
    if own is not UNBOUND:
        return own
    if response is None:
        return {"status": "OK", "reason": "success"}
    return {"status": response.status, "reason": response.reason}


def _checked_pair(plan: Plan, frame: Frame) -> tuple[Any, Any]:
    """(actual, expected) of a Then or Assert; an unbound result fails the check."""
    actual = frame.load_or_unbound(plan.result.slot)
    if actual is UNBOUND:
        raise AssertionFailed(f"Variable '{plan.result.base}' is undefined")
    return actual, _stated_value(plan, frame)


def checks_equal(actual: Any, expected: Any) -> bool:
    """Equality for checks: two booleans, two strings or two integers exactly, other
    numbers within a tolerance, anything else by its text."""
    kinds = {type(actual), type(expected)}
    if kinds <= {int, float}:
        if kinds == {int}:
            return actual == expected
        return abs(actual - expected) < NUMBER_TOLERANCE
    if kinds == {bool} or kinds == {str}:
        return actual == expected
    return values.describe(actual) == values.describe(expected)


@action("then", prepositions=("with",))
def then(plan: Plan, frame: Frame) -> Any:
    """``Then the <len> with 5.``"""
    actual, expected = _checked_pair(plan, frame)
    if not checks_equal(actual, expected):
        raise AssertionFailed(
            f"Expected {plan.result.base} to be {values.describe(expected)}, "
            f"but was {values.describe(actual)}"
        )
    return UNBOUND


@action("assert", prepositions=("for", "with"))
def assert_(plan: Plan, frame: Frame) -> Any:
    """``Assert the <count> with 5.``"""
    actual, expected = _checked_pair(plan, frame)
    if not checks_equal(actual, expected):
        raise AssertionFailed(
            f"Assertion failed: {plan.result.base} is {values.describe(actual)}, "
            f"expected {values.describe(expected)}"
        )
    return UNBOUND
