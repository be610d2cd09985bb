"""Start, Stop and Keepalive: the verbs that drive the application's long-running services."""

from __future__ import annotations

from typing import Any

from aro.actions.listen import KEYBOARD
from aro.vm.frame import UNBOUND, Frame
from aro.vm.plan import Plan
from aro.vm.registry import action


def _service_config(plan: Plan, frame: Frame) -> Any:
    """What follows `with`: a port number, a config map, or nothing."""
    if plan.with_fn is not None:
        return plan.with_fn(frame)
    if plan.object_fn is not None:
        return plan.object_fn(frame)
    return None


@action("start", prepositions=("with", "on", "at", "for"))
async def start(plan: Plan, frame: Frame) -> Any:
    plan.check_preposition()
    return await frame.services.servers.start(plan.result.base, _service_config(plan, frame))


@action("stop", prepositions=("with", "for", "on"))
async def stop(plan: Plan, frame: Frame) -> Any:
    plan.check_preposition()
    if plan.result.base.lower() in KEYBOARD:  # what Listen started: no service to stop
        frame.services.keyboard.stop()
        return UNBOUND
    await frame.services.servers.stop(plan.result.base, _service_config(plan, frame))
    return UNBOUND


@action("keepalive", "wait", "block")
async def keepalive(plan: Plan, frame: Frame) -> Any:
    await frame.services.servers.keepalive()
    return UNBOUND
