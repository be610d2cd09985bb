"""Connect: open a TCP connection to another server.

``Connect the <conn> to the <host> with { port: 9001 }`` binds ``conn`` to the connection's id;
``Send the <message> to the <conn>`` writes to it and ``Close the <conn>`` closes it
(``aro/actions/net.py``).  What the server sends back runs the Socket Event Handlers, with the
bytes as ``packet`` as for the socket server's own clients.
"""

from __future__ import annotations

from typing import Any

from aro.vm import values
from aro.vm.errors import ActionError
from aro.vm.frame import UNBOUND, Frame
from aro.vm.plan import Plan
from aro.vm.registry import action

DEFAULT_HOST = "localhost"
DEFAULT_PORT = 8080


@action("connect", prepositions=("to", "with"))
async def connect(plan: Plan, frame: Frame) -> str:
    plan.check_preposition()
    return await frame.services.sockets.connect(_host(plan, frame), _port(plan, frame))


def _host(plan: Plan, frame: Frame) -> str:
    """``to the <host>`` (a variable holding the name), ``to "example.org"``, or
    ``to the <host: "example.org">``; a name no variable holds is the host itself."""
    if plan.object_fn is not None:
        return str(plan.object_fn(frame))
    obj = plan.obj
    if obj is None:
        return DEFAULT_HOST
    if obj.base == "host" and obj.specifiers:
        return obj.specifiers[0]
    value = frame.load_or_unbound(obj.slot)
    return obj.base if value is UNBOUND else str(value)


def _port(plan: Plan, frame: Frame) -> int:
    """``with 9001`` or ``with { port: 9001 }``; 8080 otherwise, as in the reference."""
    value: Any = None if plan.with_fn is None else plan.with_fn(frame)
    if type(value) is dict:
        value = value.get("port", DEFAULT_PORT)
    if value is None:
        return DEFAULT_PORT
    port = values.as_number(value)
    if port is None or not 0 < port < 65536 or port != int(port):
        raise ActionError(f"Invalid value '{values.describe(value)}' for port")
    return int(port)
