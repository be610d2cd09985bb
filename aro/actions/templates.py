"""Template actions: ``Include`` and the path rule shared with ``Transform``.

Rendering itself belongs to the application (``Services.templates``); these actions only
name the template and say where its text goes.
"""

from __future__ import annotations

from typing import Any

from aro.lang.bytecode import NounInfo
from aro.vm.errors import ActionError
from aro.vm.frame import UNBOUND, Frame
from aro.vm.plan import Plan
from aro.vm.registry import action


def template_path(noun: NounInfo, frame: Frame) -> str:
    """The path a ``<template: …>`` noun names.

    The parser splits ``emails/welcome.tpl`` at the dot, so the specifiers are joined again
    with ``.``; a single specifier that names a string variable (``<template: page-path>``)
    stands for that variable's value.
    """
    if not noun.specifiers:
        raise ActionError("A template needs a path: <template: name.html>")
    if len(noun.specifiers) == 1:
        value = frame.find(noun.specifiers[0])
        if type(value) is str:
            return value
    return ".".join(noun.specifiers)


@action("include", "embed", "insert", prepositions=("with", "from"))
async def include(plan: Plan, frame: Frame) -> Any:
    """``Include the <template: partials/h.tpl> [with { k: v }]``: render that template with
    the current variables plus the map's, and append its text to the template being
    rendered."""
    plan.check_preposition()
    insert = getattr(frame.services, "template_insert", None)
    if insert is None:
        raise ActionError("No template is being rendered")
    extra = _bindings(plan, frame)
    insert(await frame.services.templates.render(template_path(plan.result, frame), frame, extra))
    return UNBOUND


def _bindings(plan: Plan, frame: Frame) -> dict | None:
    if plan.object_fn is not None:
        extra = plan.object_fn(frame)
    elif plan.with_fn is not None:
        extra = plan.with_fn(frame)
    else:
        return None
    if type(extra) is not dict:
        raise ActionError("Include takes a map of bindings: with { name: <value> }")
    return extra
