"""Clear, Show, Render and Repaint: the terminal as a screen.

On a terminal, ``Clear the <screen|line|cursor> for the <terminal>`` and ``Show the <cursor> for
the <terminal>`` write their control sequences, and ``Render the <menu> to the <console>`` draws
the section ``menu``, redrawing it in place the next time.  When the output is not a terminal
(a pipe, a file, a test), Clear and Show do nothing and Render prints its value as it is,
without the ``[feature set]`` prefix of Log.  Repaint updates a value inside a rendered section;
without a terminal it does nothing, and on one it redraws nothing either, since rendered text
keeps no record of where each value landed (Render the section again instead).

``Clear`` on anything but the terminal is Delete's synonym (``Clear the <all> from the
<messages-repository>``).
"""

from __future__ import annotations

from typing import Any

from aro.actions.repository import delete
from aro.vm import values
from aro.vm.errors import ActionError
from aro.vm.frame import UNBOUND, Frame
from aro.vm.plan import Plan
from aro.vm.registry import action

TERMINAL = "terminal"
CLEARABLE = {"screen": "clear-screen", "line": "clear-line", "cursor": "hide-cursor"}


def _on_terminal(plan: Plan) -> bool:
    return plan.obj is not None and plan.obj.base.lower() == TERMINAL


@action("clear", prepositions=("for", "from"))
async def clear(plan: Plan, frame: Frame) -> Any:
    if not _on_terminal(plan):
        return await delete(plan, frame)
    target = plan.result.base.lower()
    command = CLEARABLE.get(target)
    if command is None:
        raise ActionError(f"Clear action supports 'screen', 'line', or 'cursor', not '{target}'")
    frame.services.terminal.control(command)
    return target


@action("show", prepositions=("for",))
def show(plan: Plan, frame: Frame) -> str:
    plan.check_preposition()
    target = plan.result.base.lower()
    if target != "cursor":
        raise ActionError(f"Show action supports 'cursor', not '{target}'")
    frame.services.terminal.control("show-cursor")
    return target


@action("render", prepositions=("to",))
def render(plan: Plan, frame: Frame) -> Any:
    plan.check_preposition()
    value = plan.result_value(frame, default="")
    text = value if type(value) is str else values.format_log(value)
    frame.services.terminal.render(plan.result.base, text)
    return UNBOUND


@action("repaint", "patch", prepositions=("at", "to"))
def repaint(plan: Plan, frame: Frame) -> dict[str, str]:
    plan.check_preposition()
    section = plan.obj.base if plan.obj is not None else ""
    return {"variable": plan.result.base, "sectionName": section}
