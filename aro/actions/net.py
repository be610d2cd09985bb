"""Broadcast, Send and Close: messages to WebSocket and TCP socket clients.

docs/decisions.md, decision 12, says where they work and what goes on the wire.

The actions only pick the target and the value; the application's services serialize it (a
string as text, bytes as a binary message, any other value as JSON) and own the connections.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aro.vm import values
from aro.vm.errors import ActionError
from aro.vm.frame import UNBOUND, Frame
from aro.vm.plan import Plan
from aro.vm.registry import action

WEBSOCKET = "websocket"
SOCKET = "socket"
WEBSOCKET_CONNECTION = "websocket-connection"
SOCKET_SERVER = "socket-server"
ID_KEYS = ("connectionId", "id")


def _message(plan: Plan, frame: Frame) -> Any:
    """The result's value, or the expression written in its place (``Send "hi" to …``)."""
    return plan.sink_fn(frame) if plan.sink_fn is not None else plan.result_value(frame)


def _object_name(plan: Plan) -> str:
    if plan.obj is not None:
        return plan.obj.base.lower()
    return (plan.info.object_var or "").lower()


def is_websocket_target(name: str) -> bool:
    """``<websocket>``, ``<ws>`` and any name containing "websocket" mean the WebSocket clients."""
    return name == "ws" or WEBSOCKET in name


def _link_broadcast(plan: Plan) -> Callable[[Plan, Frame], Any] | None:
    """The channel is the statement's object: chosen once, at link time."""
    if plan.bad_preposition:
        return None
    channel = WEBSOCKET if is_websocket_target(_object_name(plan)) else SOCKET

    def broadcast_to_channel(plan: Plan, frame: Frame) -> Any:
        frame.services.connections.broadcast(channel, _message(plan, frame))
        return UNBOUND

    return broadcast_to_channel


@action("broadcast", prepositions=("to", "via"), link=_link_broadcast)
def broadcast(plan: Plan, frame: Frame) -> Any:
    """To every WebSocket client (``to the <websocket>``), else to every TCP client."""
    plan.check_preposition()
    channel = WEBSOCKET if is_websocket_target(_object_name(plan)) else SOCKET
    frame.services.connections.broadcast(channel, _message(plan, frame))
    return UNBOUND


def _link_send(plan: Plan) -> Callable[[Plan, Frame], Any] | None:
    """``Send the <x> to the <websocket-connection: id>``: the target's kind, decided once;
    ``id`` read from its slot when it is a variable of the handler (``sender``) holding the
    id, else looked up as ``_named_connection`` does."""
    obj = plan.obj
    if plan.bad_preposition or obj is None or plan.object_fn is not None:
        return None
    if obj.base.lower() != WEBSOCKET_CONNECTION:
        return None
    specifiers = obj.specifiers
    named = plan.slot_index.get(specifiers[0], -1) if len(specifiers) == 1 else -1
    message = -1 if plan.sink_fn is not None else plan.result.slot

    def send_to_websocket(plan: Plan, frame: Frame) -> Any:
        slots = frame.slots
        connection = slots[named] if named >= 0 else UNBOUND
        if type(connection) is not str:
            connection = _named_connection(frame, specifiers)
        value = slots[message] if message >= 0 else UNBOUND
        if value is UNBOUND:
            value = _message(plan, frame)
        frame.services.connections.send(connection, value, True)
        return UNBOUND

    return send_to_websocket


@action("send", "dispatch", prepositions=("to", "via", "with"), link=_link_send)
def send(plan: Plan, frame: Frame) -> Any:
    """To one connection: ``<websocket-connection: id>`` names a WebSocket connection;
    any other object holds a connection id (WebSocket or TCP).  A closed or unknown id fails
    the statement."""
    plan.check_preposition()
    obj = plan.obj
    if obj is not None and plan.object_fn is None and obj.base.lower() == WEBSOCKET_CONNECTION:
        connection, websocket_only = _named_connection(frame, obj.specifiers), True
    else:
        connection, websocket_only = connection_id(plan.object_value(frame)), False
    frame.services.connections.send(connection, _message(plan, frame), websocket_only)
    return UNBOUND


def _named_connection(frame: Frame, specifiers: tuple[str, ...]) -> str:
    """The id in ``<websocket-connection: x>``: the variable ``x``, else the handler event's
    field ``x`` (``connectionId``), else ``x`` itself; without ``x``, the event's connection."""
    if not specifiers:
        return connection_id(frame.find("event"))
    name = specifiers[0] if len(specifiers) == 1 else ".".join(specifiers)
    value = frame.find(name)
    if value is UNBOUND:
        event = frame.find("event")
        if type(event) is dict:
            value = event.get(name, UNBOUND)
    return name if value is UNBOUND else connection_id(value)


def connection_id(value: Any) -> str:
    """A connection id from an id string or from a connection/event map holding one."""
    if type(value) is dict:
        value = next((value[key] for key in ID_KEYS if key in value), None)
    if type(value) is not str:
        raise ActionError(f"Not a connection id: {values.describe(value)}")
    return value


@action("close", "disconnect", "terminate", prepositions=("with", "from", "for"))
async def close(plan: Plan, frame: Frame) -> Any:
    """``Close the <socket-server>`` stops the server; ``Close the <client-id>`` (or ``Close
    the <connection> with <client-id>``) closes one WebSocket or TCP connection."""
    plan.check_preposition()
    if plan.result.base.lower() == SOCKET_SERVER:
        await frame.services.servers.stop(SOCKET_SERVER, None)
        return UNBOUND
    target = plan.object_value(frame, None)
    if target is None and plan.with_fn is not None:
        target = plan.with_fn(frame)
    if target is None:
        target = plan.result_value(frame)
    frame.services.connections.close(connection_id(target))
    return UNBOUND
