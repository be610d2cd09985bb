"""Emit: publish a domain event and wait for its handlers (docs/semantics.md, Events)."""

from __future__ import annotations

from typing import Any

from aro.vm.frame import UNBOUND, Frame
from aro.vm.plan import Plan
from aro.vm.registry import action

# The key of a payload that is neither a named variable nor a map literal.
ANONYMOUS_KEY = "data"


@action("emit", prepositions=("with", "to"))
async def emit(plan: Plan, frame: Frame) -> Any:
    """``Emit a <UserCreated: event> with …``: the event type is the result base.

    Runs every matching handler concurrently and returns when all have finished.
    """
    plan.check_preposition()
    await frame.services.events.emit(plan.result.base, event_payload(plan, frame))
    return UNBOUND


def event_payload(plan: Plan, frame: Frame) -> dict[str, Any]:
    """The payload rules of the reference.

    ``with <user>`` and ``with the <user>`` (also ``<user: name>``: the specifiers are ignored)
    give ``{"user": value}``; a map literal is the payload itself; any other expression or
    literal goes under ``data``.  An unbound object noun gives an empty payload.
    """
    if plan.object_fn is not None:
        value = plan.object_fn(frame)
        name = plan.info.object_var
        if name:
            return {name: value}
        return value if type(value) is dict else {ANONYMOUS_KEY: value}
    if plan.obj is None:
        return {}
    value = frame.load_or_unbound(plan.obj.slot)
    return {} if value is UNBOUND else {plan.obj.base: value}
