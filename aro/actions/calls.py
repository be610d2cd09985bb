"""``Namespace.Verb`` statements: user-defined actions (``Application.Name``) and plugin
actions (``Hash.DJB2``).  The action only describes the call; the application finds the
feature set or plugin that answers it."""

from __future__ import annotations

from typing import Any

from aro.vm.frame import Frame
from aro.vm.plan import Plan
from aro.vm.registry import namespaced_action
from aro.vm.services import ActionCall


@namespaced_action
async def call_namespaced(plan: Plan, frame: Frame) -> Any:
    namespace, _, verb = plan.info.verb.partition(".")
    obj = plan.obj
    object_value = plan.object_value(frame, default=None)
    if plan.with_fn is not None:
        with_value = plan.with_fn(frame)
    else:  # `Application.X the <r> with {…}.`: the map is the object, its preposition `with`
        with_value = object_value if plan.prep == "with" else None
    call = ActionCall(
        namespace=namespace,
        verb=verb,
        result=plan.result.base,
        preposition=plan.prep,
        object_name=obj.base if obj is not None else plan.info.object_var,
        object_value=object_value,
        with_value=with_value,
        caller=frame,
    )
    return await frame.services.actions.call_action(call)
