"""Exec and Schedule: shell commands and timers.

``Exec the <result> for the <command: "df"> with "-h"`` runs ``df -h``; ``Exec the <r> for the
<listing> with <cmd>`` runs the text of ``cmd``; ``with { command, workingDirectory,
environment, timeout }`` (timeout in milliseconds, as in the reference) runs a configured one.
The result is ``{command, error, exitCode, message, output}``: a failing command is a result to
branch on (``when <result: error> == true``), not a failed statement.

``Schedule the <tick> with 2 seconds`` emits the domain event ``tick`` every two seconds until the
application ends (units: seconds, minutes, hours; none means seconds).
"""

from __future__ import annotations

from typing import Any

from aro.actions.response import SECONDS_PER_UNIT
from aro.vm import values
from aro.vm.errors import ActionError
from aro.vm.frame import UNBOUND, Frame
from aro.vm.plan import Plan
from aro.vm.registry import action

DEFAULT_TIMEOUT_MS = 30_000
COMMAND_OBJECT = "command"
MISSING_COMMAND = (
    "Missing required field: command - use '<command: \"cmd\">' or 'with \"command\"' or "
    "'with { command: \"...\" }'"
)


@action("execute", "exec", "run", "shell", prepositions=("on", "with", "for"))
async def execute(plan: Plan, frame: Frame) -> dict[str, Any]:
    plan.check_preposition()
    command, options = _command(plan, frame)
    timeout = values.as_number(options.get("timeout")) or DEFAULT_TIMEOUT_MS
    environment = options.get("environment")
    cwd = options.get("workingDirectory")
    return await frame.services.system.execute(
        command,
        cwd if type(cwd) is str else None,
        {str(k): str(v) for k, v in environment.items()} if type(environment) is dict else None,
        timeout / 1000,
    )


def _command(plan: Plan, frame: Frame) -> tuple[str, dict[str, Any]]:
    """The command line and the options map (empty unless ``with`` gave one)."""
    given = None if plan.with_fn is None else plan.with_fn(frame)
    obj = plan.obj
    if obj is not None and obj.base == COMMAND_OBJECT and obj.specifiers:
        arguments = _arguments(given)
        return " ".join((obj.specifiers[0], *arguments)), {}
    if type(given) is str and given:
        return given, {}
    if type(given) is dict and type(given.get("command")) is str:
        return given["command"], given
    value = UNBOUND if obj is None else frame.load_or_unbound(obj.slot)
    if plan.object_fn is not None:
        value = plan.object_fn(frame)
    if type(value) is str and value:
        return value, {}
    raise ActionError(MISSING_COMMAND)


def _arguments(given: Any) -> tuple[str, ...]:
    if type(given) is str:
        return (given,) if given else ()
    if type(given) is list:
        return tuple(item if type(item) is str else values.describe(item) for item in given)
    return ()


@action("schedule", prepositions=("with",))
def schedule(plan: Plan, frame: Frame) -> int:
    """Binds the interval in whole seconds."""
    plan.check_preposition()
    amount = values.as_number(
        plan.with_fn(frame) if plan.with_fn is not None else plan.object_value(frame, None)
    )
    if amount is None or amount <= 0:
        name = plan.result.base
        raise ActionError(
            "Schedule needs a numeric interval in seconds (optionally with a time unit): "
            f"`Schedule the <{name}> with 60.` or `Schedule the <{name}> with 1 minute.`"
        )
    unit = plan.info.time_unit or (plan.obj.base if plan.obj is not None else "")
    interval = amount * SECONDS_PER_UNIT.get(unit, 1.0)
    frame.services.timers.schedule(plan.result.base, interval)
    return int(interval)
