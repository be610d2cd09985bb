"""Return, Throw, Sleep and the Publish action (the HTTP body rules: docs/semantics.md, HTTP)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aro.actions.core import statement_expression
from aro.actions.output import METRICS, formatted_metrics
from aro.vm import values
from aro.vm.errors import ThrownError
from aro.vm.frame import UNBOUND, Frame, Response
from aro.vm.plan import Plan
from aro.vm.registry import action
from aro.vm.statuses import status_code
from aro.vm.values.json import JUST_WRITTEN

# Object names Return never copies into the payload.
INTERNAL_NAMES = frozenset(("_expression_", "_literal_", "status", "response", "application"))
# An otherwise empty payload borrows the first of these that is bound, as ``value``.
FALLBACK_NAMES = ("greeting", "message", "result", "data", "output", "value")
SECONDS_PER_UNIT = {
    "second": 1.0, "seconds": 1.0, "s": 1.0,
    "minute": 60.0, "minutes": 60.0, "min": 60.0,
    "hour": 3600.0, "hours": 3600.0, "h": 3600.0,
    "millisecond": 0.001, "milliseconds": 0.001, "ms": 0.001,
}  # fmt: skip


def _link_return(plan: Plan) -> Callable[[Plan, Frame], Any] | None:
    """``Return a <Created: status> with <x>``, a handler's usual last statement, decided at
    link time: a constant status (its HTTP code looked up once), one value and no object
    noun.  A map of plain values (no nested map to flatten) is the payload as it is, not
    copied key by key; values are never changed in place, so sharing it is sound."""
    expression = plan.object_fn or plan.with_fn
    if plan.bad_preposition or plan.obj is not None or expression is None:
        return None
    status = plan.result.base
    code = status_code(status)

    def return_value(plan: Plan, frame: Frame) -> Any:
        value = expression(frame)
        if type(value) is dict and value and _is_flat(value):
            payload = value
        else:
            payload = {}
            _add_expression(payload, value)
            if not payload:
                _borrow_fallback(payload, frame)
        frame.response = Response(status, "_expression_", payload, None, code)
        return UNBOUND

    if not _after_broadcast(plan):
        return return_value

    def return_broadcast_value(plan: Plan, frame: Frame) -> Any:
        """The same, with the JSON the Broadcast just wrote when the payload is its map."""
        value = expression(frame)
        if type(value) is dict and value and _is_flat(value):
            json = JUST_WRITTEN.data if JUST_WRITTEN.value is value else None
            frame.response = Response(status, "_expression_", value, json, code)
            return UNBOUND
        return return_value(plan, frame)

    return return_broadcast_value


def _after_broadcast(plan: Plan) -> bool:
    """Whether the statement right before always runs just before this one and is a
    Broadcast, with nothing to wait for between them (no repository to prefetch for this
    one): then no statement can change a map between the Broadcast's JSON and this Return."""
    previous = plan.previous
    if previous is None or previous.spec is None or previous.is_async or previous.may_wait:
        return False
    return previous.spec.name == "broadcast" and not plan.reads


def _is_flat(mapping: dict) -> bool:
    """No value is a map (which the payload would spread into dotted keys)."""
    for item in mapping.values():  # noqa: SIM110 - per request: a loop is cheaper than all()
        if isinstance(item, dict):
            return False
    return True


@action("return", "respond", prepositions=("for", "to", "with"), link=_link_return)
def return_(plan: Plan, frame: Frame) -> Any:
    """Set the frame's response: status = result base, reason = object base.

    Payload: the ``with``/expression value (dict → its keys with nested dicts as dotted keys;
    list → ``data``; a string holding a JSON object → its keys; other scalars → ``value``),
    then the object's own value under its name and each object specifier that names a
    variable; if still empty, the first bound of ``greeting message result data output
    value`` as ``value`` (its description when not a string).
    """
    plan.check_preposition()
    payload: dict[str, Any] = {}
    value = statement_expression(plan, frame)
    if value is not UNBOUND:
        _add_expression(payload, value)
    obj = plan.obj
    if obj is not None and obj.base == METRICS:
        payload["value"] = formatted_metrics(frame, obj.specifiers)
    elif obj is not None:
        if obj.base not in INTERNAL_NAMES:
            _add_variable(payload, obj.base, frame.load_or_unbound(obj.slot))
        for specifier in obj.specifiers:
            if specifier not in INTERNAL_NAMES:
                _add_variable(payload, specifier, frame.find(specifier))
    if not payload:
        _borrow_fallback(payload, frame)
    reason = obj.base if obj is not None else "_expression_"
    frame.response = Response(plan.result.base, reason, payload)
    return UNBOUND


def _add_expression(payload: dict[str, Any], value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(payload, key, item)
    elif isinstance(value, list):
        payload["data"] = value
    elif isinstance(value, str):
        spread = _json_object(value)
        if spread is None:
            payload["value"] = value
        else:
            for key, item in spread.items():
                payload[key] = values.to_json(item).decode() if isinstance(item, dict) else item
    elif value is not None:
        payload["value"] = value


def _json_object(text: str) -> dict | None:
    if not text.lstrip().startswith("{"):
        return None
    try:
        parsed = values.from_json(text)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _add_variable(payload: dict[str, Any], name: str, value: Any) -> None:
    if value is not UNBOUND:
        _flatten(payload, name, value)


def _flatten(payload: dict[str, Any], prefix: str, value: Any) -> None:
    """Nested dicts become dotted keys (an empty one disappears); lists stay lists."""
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(payload, f"{prefix}.{key}", item)
    else:
        payload[prefix] = value


def _borrow_fallback(payload: dict[str, Any], frame: Frame) -> None:
    for name in FALLBACK_NAMES:
        value = frame.find(name)
        if value is not UNBOUND:
            payload["value"] = value if isinstance(value, str) else values.describe(value)
            return


@action("throw", "raise", "fail", prepositions=("for",))
def throw(plan: Plan, frame: Frame) -> Any:
    """Always fails with ``Cannot throw the <E> for the <x>.``; HTTP maps ``E`` to a status."""
    plan.check_preposition()
    raise ThrownError(
        status_name=plan.result.base,
        headline=plan.headline,
        feature=plan.feature,
        activity=plan.activity,
        statement=plan.statement,
    )


@action("sleep", "delay", "pause", prepositions=("for", "with"))
async def sleep(plan: Plan, frame: Frame) -> dict:
    """Suspend this feature set only: ``for N [unit]``, ``for <var> seconds``, ``with N``.

    Units: s/second(s), min/minute(s), h/hour(s), ms/millisecond(s); no unit means seconds,
    no number means 1.  Binds ``{slept: N}`` with N as written (500 for 500 ms).
    """
    amount = _duration(plan, frame)
    unit = plan.info.time_unit or (plan.obj.base if plan.obj is not None else "")
    await asyncio.sleep(max(0.0, amount * SECONDS_PER_UNIT.get(unit, 1.0)))
    return {"slept": int(amount)}


def _duration(plan: Plan, frame: Frame) -> float:
    if plan.with_fn is not None:
        value = plan.with_fn(frame)
    else:
        value = plan.object_value(frame, default=None)
    number = values.as_number(value)
    return 1.0 if number is None else number


@action("publish", "export", "expose", "share", prepositions=("with",))
def publish(plan: Plan, frame: Frame) -> Any:
    """``Publish the <alias> with <var>``: make the value visible to later feature sets of the
    same business activity; the alias is bound here too."""
    value = plan.object_value(frame)
    frame.services.events.publish(plan.result.base, value, frame.code.activity)
    return value
