"""Broadcast, Send and Close: how the actions' messages reach the clients.

What goes on the wire (docs/decisions.md, decision 12): a string as UTF-8 text, bytes as a
binary message, any other value as JSON text by the serializer of HTTP bodies.

The path of a Broadcast: the action hands its value to :class:`Connections`, which serializes
it once (:func:`serialize`) and publishes the payload on a :class:`BroadcastBus`.  The bus
delivers it to every worker's clients; in each worker that is one call of
:meth:`LocalClients.deliver`, where the WebSocket hub frames it once for all its clients.  A
Send or Close tries this worker's connections first and asks the bus only about an id this
worker does not hold.

Buses are chosen by the scheme of ``Config.bus`` from :data:`BUSES`: ``local`` (one process,
so publishing is delivering here and any other id is unknown), ``unix`` (the relay of
``aro serve`` between the workers of one machine) and ``redis`` (pub/sub, across machines);
the last two live in ``aro/runtime/buses/``.  A cross-process bus is built from this worker's
:class:`LocalClients`: it ships what is published here to the other workers and hands what they
publish to ``LocalClients.deliver``, once per incoming payload, so each worker frames a message
once however many clients it has.

When the frames leave (the WebSocket Outbox, ``aro._speedups``; no timer anywhere): an idle
server writes a broadcast to at most 128 sockets at once, inside the Broadcast statement, so a
quiet chat's subscribers get the message before the POST's 201 is written.  That write makes
the outbox busy until the end of the loop iteration: every other frame queued in the same
iteration (more broadcasts, replies) waits for one flush at its end, once per socket, and a
flush that found frames keeps it busy for the next iteration too, so work that keeps arriving
together keeps being batched.  A broadcast to more sockets is never written at once: the 201
goes first and the frames leave 128 sockets per loop turn, and a broadcast made between two
turns joins the queue of every socket not yet written (several frames, one write).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from aro.net.websocket.connection import OPEN
from aro.vm import values
from aro.vm.errors import ActionError
from aro.vm.values.json import JUST_WRITTEN

if TYPE_CHECKING:
    from aro.net.websocket import WebSocket
    from aro.runtime.socket_client import SocketClientService
    from aro.runtime.socket_service import SocketService
    from aro.runtime.websocket_service import WebSocketService

WEBSOCKET_CHANNEL = "websocket"  # every WebSocket client
SOCKET_CHANNEL = "socket"  # every TCP socket client
DEFAULT_BUS = "local"


def serialize(value: Any) -> tuple[bytes, bool]:
    """A message as one payload for every client: (bytes, whether it is text).  JSON is kept
    for the statement right after (``JUST_WRITTEN``): a Return of the same map answers with
    it."""
    kind = type(value)
    if kind is str:
        return value.encode(), True
    if kind is bytes:
        return value, False
    data = JUST_WRITTEN.data = values.to_json(value)
    JUST_WRITTEN.value = value
    return data, True


def as_message(value: Any) -> str | bytes:
    """The same message in the form one connection frames (a str is text).  A Send reaches
    one client, so a string stays a str and is encoded once, by the connection."""
    if type(value) is str or type(value) is bytes:
        return value
    return values.to_json(value).decode()


def no_open_connection(connection_id: str, websocket_only: bool = False) -> ActionError:
    kind = "WebSocket connection" if websocket_only else "connection"
    return ActionError(f"No open {kind} with id {connection_id}")


class LocalClients:
    """This worker's clients: the connections of its WebSocket endpoint and socket server,
    found when a message goes out (either server may start or stop at any time)."""

    __slots__ = ("_outbound", "_sockets", "_websocket")

    def __init__(
        self,
        websocket: Callable[[], WebSocketService | None],
        sockets: Callable[[], SocketService | None],
        outbound: Callable[[], SocketClientService | None] = lambda: None,
    ) -> None:
        self._websocket = websocket
        self._sockets = sockets
        self._outbound = outbound

    def deliver(self, channel: str, payload: bytes, text: bool) -> int:
        """Queue a serialized message to every client of ``channel``; answer how many."""
        if channel == WEBSOCKET_CHANNEL:
            websocket = self._websocket()
            if websocket is None:
                return 0
            return websocket.broadcast_payload(payload, text)
        sockets = self._sockets()
        return 0 if sockets is None else sockets.broadcast(payload)

    def deliver_value(self, channel: str, value: Any) -> int:
        """``deliver`` for a message not yet serialized: serialized only when a WebSocket
        client is open here to take it (a broadcast to nobody still counts as one)."""
        if channel == WEBSOCKET_CHANNEL:
            websocket = self._websocket()
            if websocket is None:
                return 0
            if not websocket.hub:  # counted by the service, framed for nobody
                return websocket.broadcast_payload(b"", True)
            payload, text = serialize(value)
            return websocket.broadcast_payload(payload, text)
        payload, text = serialize(value)
        return self.deliver(channel, payload, text)

    def send(self, connection_id: str, message: str | bytes, websocket_only: bool) -> bool:
        """Queue a message to one open connection; False when this worker holds none of
        that id."""
        websocket = self._websocket()
        if websocket is not None and websocket.send(connection_id, message):
            return True
        if websocket_only:
            return False
        data = message.encode() if type(message) is str else message
        sockets, outbound = self._sockets(), self._outbound()
        if sockets is not None and sockets.send(connection_id, data):
            return True
        return outbound is not None and outbound.send(connection_id, data)

    def close(self, connection_id: str) -> bool:
        websocket = self._websocket()
        if websocket is not None and websocket.close(connection_id):
            return True
        sockets, outbound = self._sockets(), self._outbound()
        if sockets is not None and sockets.close(connection_id):
            return True
        return outbound is not None and outbound.close_connection(connection_id)


class BroadcastBus(Protocol):
    """Carries messages between the workers that serve one application."""

    async def start(self) -> None:
        """Join the other workers (before Application-Start); StartupError when it cannot."""

    async def stop(self) -> None:
        """Leave them (after Application-End)."""

    def publish(self, channel: str, payload: bytes, text: bool) -> int:
        """Deliver a serialized message to every client of ``channel`` in every worker;
        answer how many of this worker's clients it was queued to."""

    def send(self, connection_id: str, payload: bytes, text: bool, websocket_only: bool) -> None:
        """Deliver to a connection that this worker does not hold; ActionError when no
        worker holds it."""

    def close(self, connection_id: str) -> None:
        """Close a connection that this worker does not hold; ActionError when no worker
        holds it."""


class LocalBus:
    """One process: publishing is delivering to this worker's clients."""

    __slots__ = ("publish",)

    def __init__(self, local: LocalClients) -> None:
        # no layer of our own on the Broadcast path: publish *is* this worker's deliver
        self.publish: Callable[[str, bytes, bool], int] = local.deliver

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    def send(self, connection_id: str, payload: bytes, text: bool, websocket_only: bool) -> None:
        raise no_open_connection(connection_id, websocket_only)

    def close(self, connection_id: str) -> None:
        raise no_open_connection(connection_id)


Log = Callable[[str], None]


def _relay_bus(local: LocalClients, url: str, log: Log) -> BroadcastBus:
    from aro.runtime.buses.relay import RelayBus

    return RelayBus(local, url, log)


def _redis_bus(local: LocalClients, url: str, log: Log) -> BroadcastBus:
    from aro.runtime.buses.redis import RedisBus

    return RedisBus(local, url, log)


#: Bus implementations by the scheme of ``Config.bus``, each built from this worker's clients,
#: the bus's URL and where it reports (lost and regained connections).
BUSES: dict[str, Callable[[LocalClients, str, Log], BroadcastBus]] = {
    "local": lambda local, url, log: LocalBus(local),
    "unix": _relay_bus,
    "redis": _redis_bus,
}


class Connections:
    """What Broadcast, Send and Close reach: this worker's clients, and the bus to the rest.

    ``replying`` is the WebSocket whose message is being handled right now (the WebSocket
    service sets it around the handlers' eager run): a Send to its id, the usual reply, is
    written straight through it, without finding the connection by id.
    """

    __slots__ = ("bus", "local", "local_only", "replying")

    def __init__(self, local: LocalClients, bus: str = DEFAULT_BUS, log: Log = print) -> None:
        self.local = local
        self.bus = BUSES[bus.partition(":")[0]](local, bus, log)
        # one process: this worker's clients are all the clients there are
        self.local_only = type(self.bus) is LocalBus
        self.replying: WebSocket | None = None

    def broadcast(self, channel: str, value: Any) -> int:
        """Serialize once, publish to every client of ``channel``; answer how many of this
        worker's clients it was queued to.  No server running means no clients.  With no
        other worker, a message nobody here would receive is not serialized at all."""
        JUST_WRITTEN.value = None  # what is kept after this is this broadcast's own JSON
        if self.local_only:
            return self.local.deliver_value(channel, value)
        payload, text = serialize(value)
        return self.bus.publish(channel, payload, text)

    def send(self, connection_id: str, value: Any, websocket_only: bool = False) -> None:
        conn = self.replying
        if conn is not None and conn.id == connection_id and conn.state == OPEN:
            message = value if type(value) is str else as_message(value)
            outbox = conn.message_outbox
            if outbox is None:
                conn.write(conn.frame_for(message))
            else:
                outbox.send_message(conn, message)
            return
        if not self.local.send(connection_id, as_message(value), websocket_only):
            payload, text = serialize(value)
            self.bus.send(connection_id, payload, text, websocket_only)

    def close(self, connection_id: str) -> None:
        if not self.local.close(connection_id):
            self.bus.close(connection_id)
