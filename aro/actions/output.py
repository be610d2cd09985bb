"""Log (print output debug): write one formatted message (docs/semantics.md, Output)."""

from __future__ import annotations

from typing import Any

from aro.actions.core import statement_expression
from aro.vm import values
from aro.vm.errors import ActionError
from aro.vm.frame import UNBOUND, Frame
from aro.vm.plan import Plan
from aro.vm.registry import action

METRICS = "metrics"


def formatted_metrics(frame: Frame, specifiers: tuple[str, ...]) -> str:
    """``<metrics: short|table|plain|prometheus>`` as text (``plain`` when no format is named)."""
    return frame.services.magic(METRICS, specifiers[:1] or ("plain",))


@action("log", "print", "output", "debug", prepositions=("to", "for", "with"))
def log(plan: Plan, frame: Frame) -> Any:
    """Message: the sink expression (``Log "x" to …``), else the object expression or ``with``
    value, else the result variable's value, else the result's name; ``<metrics: format>``
    is the metrics report in that format.  Target ``<console>``
    writes to stdout with the feature-set prefix, ``<console: error>`` and ``<stderr>`` to
    stderr, ``<template>`` into the template being rendered."""
    plan.check_preposition()
    message = _message(plan, frame)
    obj = plan.obj
    target = obj.base.lower() if obj is not None else ""
    qualifier = obj.specifiers[0].lower() if obj is not None and obj.specifiers else ""
    if target == "template":
        template_output = getattr(frame.services, "template_output", None)
        if template_output is None:
            raise ActionError("No template is being rendered")
        template_output(message)
        return UNBOUND
    stream = "stderr" if target == "stderr" or qualifier == "error" else "stdout"
    frame.services.console.log(frame.code.name, message, stream)
    return UNBOUND


def _message(plan: Plan, frame: Frame) -> str:
    if plan.result.base == METRICS:
        return formatted_metrics(frame, plan.result.specifiers)
    if plan.sink_fn is not None:
        return values.format_log(plan.sink_fn(frame))
    value = statement_expression(plan, frame)
    if value is UNBOUND:
        value = frame.load_or_unbound(plan.result.slot)
    if value is UNBOUND:
        return plan.result.full_name
    return values.format_log(value)
