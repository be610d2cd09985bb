"""Listen: say what the program listens to (a port, events, a file or directory, the keyboard).

``Listen the <x> for the <port: 8080>`` answers ``{type, target}``.  Ports, events and files
need nothing started here: the services that deliver them (``Start the <http-server>``, event
handlers, the file monitor) do the listening.  The keyboard is the ``keyboard`` capability's:
it reads keys only from a terminal (each one a ``KeyPress`` event), and with stdin not a TTY
(a pipe, a test harness) listening to it does nothing, so Keepalive does not wait for keys
that cannot come.
"""

from __future__ import annotations

from typing import Any

from aro.vm.frame import UNBOUND, Frame
from aro.vm.plan import Plan
from aro.vm.registry import action

# The object's base, lower case → the kind of listener and its default target.
KINDS: dict[str, tuple[str, str]] = {
    "port": ("port", "8080"),
    "events": ("events", "*"),
    "event": ("events", "*"),
    "file": ("file", "."),
    "files": ("file", "."),
    "directory": ("file", "."),
}
KEYBOARD = frozenset(("stdin", "keyboard", "input", "keys"))


@action("listen", "await", prepositions=("on", "for", "to"))
def listen(plan: Plan, frame: Frame) -> dict[str, str]:
    plan.check_preposition()
    base = plan.obj.base.lower() if plan.obj is not None else ""
    if base in KEYBOARD:
        frame.services.keyboard.listen()
        return {"type": "keyboard", "target": "stdin"}
    kind, default = KINDS.get(base, ("generic", base))
    target = _target(plan, frame) if kind != "generic" else default
    return {"type": kind, "target": target or default}


def _target(plan: Plan, frame: Frame) -> str:
    """The object's first specifier: a variable's value when one is bound under that name
    (``<port: port-number>``), else the text itself (``<events: user-created>``)."""
    if plan.obj is None or not plan.obj.specifiers:
        return ""
    name = plan.obj.specifiers[0]
    value: Any = frame.find(name)
    return name if value is UNBOUND else str(value)
