"""Events: Emit publishes a domain event and waits for its handlers (docs/semantics.md, Events);
Notify sends a notification to each recipient; Receive reads the data an event delivered."""

from __future__ import annotations

from typing import Any

from aro.vm import values
from aro.vm.frame import UNBOUND, Frame
from aro.vm.plan import Plan
from aro.vm.registry import action

# The key of a payload that is neither a named variable nor a map literal.
ANONYMOUS_KEY = "data"
#: The channel of notifications: the bus delivers them to ``NotificationSent Handler``s with
#: the recipient's fields bound for their guards.
NOTIFICATION_SENT = "notification.sent"
_MISSING: Any = object()  # a default that tells "unbound" apart from a bound value


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


# -- Receive -----------------------------------------------------------------------------------


@action("receive", prepositions=("from", "via"))
def receive(plan: Plan, frame: Frame) -> Any:
    """``Receive the <payload> from the <event>``: the object's value, as delivered."""
    plan.check_preposition()
    return plan.object_value(frame)


# -- Notify ------------------------------------------------------------------------------------


@action("notify", "alert", "signal", prepositions=("to", "for", "with"))
async def notify(plan: Plan, frame: Frame) -> Any:
    """``Notify the <user> with "…"``: one ``NotificationSent`` event per recipient (each item
    when the result names a list), waiting for its handlers.  The handler's ``event`` holds
    ``message``, ``target`` (the result's name) and the recipient under the target's name and
    under ``user``; a recipient's fields are what its declaration guard reads."""
    plan.check_preposition()
    target = plan.result.base
    recipient = plan.result_value(frame, default=None)
    message = notification_text(plan, frame)
    recipients = recipient if type(recipient) is list else [] if recipient is None else [recipient]
    events = frame.services.events
    for item in recipients:
        payload = {"message": message, "target": target, "user": item, target: item}
        await events.emit(NOTIFICATION_SENT, payload)
    return UNBOUND


def notification_text(plan: Plan, frame: Frame) -> str:
    """The object's value as text; an unbound object noun is its own name."""
    value = plan.object_value(frame, default=_MISSING)
    if value is _MISSING:
        return plan.obj.base if plan.obj is not None else ""
    return value if isinstance(value, str) else values.describe(value)
