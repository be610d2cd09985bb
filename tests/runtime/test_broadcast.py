"""The broadcast seam: serialize once, hand the payload to this worker's clients, and say
"no open connection" for an id nobody holds.  Fakes stand in for the WebSocket and socket
services, so these tests see exactly what reaches them."""

from __future__ import annotations

from typing import Any

import pytest

from aro.lang.compiler import compile_source
from aro.net.websocket.connection import CLOSING, OPEN
from aro.runtime import broadcast
from aro.runtime.broadcast import (
    BUSES,
    SOCKET_CHANNEL,
    WEBSOCKET_CHANNEL,
    Connections,
    LocalBus,
    LocalClients,
    as_message,
    serialize,
)
from aro.runtime.http.responses import encode_body
from aro.vm.errors import ActionError
from aro.vm.machine import linked
from tests.support.inproc import run_body


class FakeService:
    """What Broadcast, Send and Close ask of a WebSocket or socket service."""

    def __init__(self, *open_ids: str, clients: int = 3) -> None:
        self.open_ids = set(open_ids)
        self.clients = clients
        self.hub = [object()] * clients  # what a broadcast asks first: is anyone open here
        self.broadcasts: list[Any] = []  # what a TCP service was given
        self.payloads: list[tuple[bytes, bool]] = []  # what a WebSocket service was given
        self.sent: list[tuple[str, Any]] = []
        self.closed: list[str] = []

    def broadcast(self, data: Any) -> int:
        self.broadcasts.append(data)
        return self.clients

    def broadcast_payload(self, payload: bytes, text: bool) -> int:
        self.payloads.append((payload, text))
        return len(self.hub)

    def send(self, connection_id: str, data: Any) -> bool:
        if connection_id not in self.open_ids:
            return False
        self.sent.append((connection_id, data))
        return True

    def close(self, connection_id: str) -> bool:
        if connection_id not in self.open_ids:
            return False
        self.closed.append(connection_id)
        return True


def connections(
    websocket: FakeService | None = None, sockets: FakeService | None = None
) -> Connections:
    return Connections(LocalClients(lambda: websocket, lambda: sockets))


@pytest.fixture
def json_calls(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every value the JSON serializer is asked for."""
    calls: list[Any] = []
    to_json = broadcast.values.to_json

    def counting(value: Any) -> bytes:
        calls.append(value)
        return to_json(value)

    monkeypatch.setattr(broadcast.values, "to_json", counting)
    return calls


def test_serialize_strings_as_text_bytes_as_binary_other_values_as_json() -> None:
    assert serialize("héllo") == ("héllo".encode(), True)
    assert serialize(b"\x00\x01") == (b"\x00\x01", False)
    assert serialize({"b": 1, "a": "x/y"}) == (b'{"a":"x\\/y","b":1}', True)
    assert serialize(3) == (b"3", True)
    assert as_message("héllo") == "héllo"
    assert as_message(b"\x00") == b"\x00"
    assert as_message([1, "a"]) == '[1,"a"]'


def test_a_broadcast_is_serialized_once_and_reaches_the_channels_clients(json_calls) -> None:
    websocket, sockets = FakeService(clients=5), FakeService(clients=2)
    reach = connections(websocket, sockets)
    assert reach.broadcast(WEBSOCKET_CHANNEL, {"text": "hi"}) == 5
    assert reach.broadcast(SOCKET_CHANNEL, {"text": "hi"}) == 2
    assert json_calls == [{"text": "hi"}, {"text": "hi"}]
    assert websocket.payloads == [(b'{"text":"hi"}', True)]
    assert sockets.broadcasts == [b'{"text":"hi"}']


def test_a_broadcast_nobody_here_would_receive_is_counted_but_not_serialized(json_calls) -> None:
    websocket = FakeService(clients=0)
    assert connections(websocket).broadcast(WEBSOCKET_CHANNEL, {"text": "hi"}) == 0
    assert json_calls == []
    assert websocket.payloads == [(b"", True)]  # the service counts it; no frame is made


def test_text_stays_text_and_bytes_stay_binary_on_every_channel() -> None:
    websocket, sockets = FakeService(), FakeService()
    reach = connections(websocket, sockets)
    reach.broadcast(WEBSOCKET_CHANNEL, "héllo")
    reach.broadcast(WEBSOCKET_CHANNEL, b"\xff\x00")
    reach.broadcast(SOCKET_CHANNEL, "héllo")
    assert websocket.payloads == [("héllo".encode(), True), (b"\xff\x00", False)]
    assert sockets.broadcasts == ["héllo".encode()]


def test_no_server_running_means_no_clients() -> None:
    assert connections().broadcast(WEBSOCKET_CHANNEL, "x") == 0
    assert connections().broadcast(SOCKET_CHANNEL, "x") == 0


def test_send_frames_a_string_as_text_at_the_websocket_and_encodes_it_for_tcp() -> None:
    websocket, sockets = FakeService("ws-1"), FakeService("tcp-1")
    reach = connections(websocket, sockets)
    reach.send("ws-1", "hi")
    reach.send("ws-1", {"n": 1})
    reach.send("tcp-1", "hi")
    reach.send("tcp-1", b"\x01")
    assert websocket.sent == [("ws-1", "hi"), ("ws-1", '{"n":1}')]
    assert sockets.sent == [("tcp-1", b"hi"), ("tcp-1", b"\x01")]


def test_an_id_no_worker_holds_is_a_statement_error() -> None:
    reach = connections(FakeService("ws-1"), FakeService("tcp-1"))
    with pytest.raises(ActionError, match=r"^No open connection with id nope$"):
        reach.send("nope", "hi")
    with pytest.raises(ActionError, match=r"^No open WebSocket connection with id tcp-1$"):
        reach.send("tcp-1", "hi", websocket_only=True)
    with pytest.raises(ActionError, match=r"^No open connection with id nope$"):
        reach.close("nope")
    with pytest.raises(ActionError, match=r"^No open connection with id x$"):
        connections().send("x", "hi")


def test_close_reaches_whichever_service_holds_the_id() -> None:
    websocket, sockets = FakeService("ws-1"), FakeService("tcp-1")
    reach = connections(websocket, sockets)
    reach.close("tcp-1")
    reach.close("ws-1")
    assert (websocket.closed, sockets.closed) == (["ws-1"], ["tcp-1"])


def test_buses_are_chosen_by_name_and_the_bus_gets_only_ids_this_worker_lacks() -> None:
    assert type(Connections(LocalClients(lambda: None, lambda: None)).bus) is LocalBus
    with pytest.raises(KeyError):
        Connections(LocalClients(lambda: None, lambda: None), bus="carrier-pigeon")

    class RecordingBus:
        def __init__(self, local: LocalClients, url: str, log: object) -> None:
            self.local = local
            self.url = url
            self.calls: list[tuple] = []

        def publish(self, channel: str, payload: bytes, text: bool) -> int:
            self.calls.append(("publish", channel, payload, text))
            return self.local.deliver(channel, payload, text)

        def send(self, connection_id: str, payload: bytes, text: bool, websocket_only: bool):
            self.calls.append(("send", connection_id, payload, text, websocket_only))

        def close(self, connection_id: str) -> None:
            self.calls.append(("close", connection_id))

    websocket = FakeService("here", clients=0)  # no client here: other workers may have some
    BUSES["recording"] = RecordingBus
    try:
        reach = Connections(LocalClients(lambda: websocket, lambda: None), "recording:x")
    finally:
        del BUSES["recording"]
    assert reach.bus.url == "recording:x"  # the scheme chooses, the bus gets the whole URL
    reach.broadcast(WEBSOCKET_CHANNEL, [1])
    reach.send("here", "local")
    reach.send("elsewhere", "remote", websocket_only=True)
    reach.close("elsewhere")
    assert reach.bus.calls == [
        ("publish", WEBSOCKET_CHANNEL, b"[1]", True),
        ("send", "elsewhere", b"remote", True, True),
        ("close", "elsewhere"),
    ]
    assert websocket.payloads == [(b"[1]", True)]
    assert websocket.sent == [("here", "local")]


class MessageOutbox:
    """The Outbox's one-call reply: what an uncompressed connection's replies go through."""

    def __init__(self) -> None:
        self.sent: list[tuple[FakeReplying, str | bytes]] = []

    def send_message(self, conn: FakeReplying, message: str | bytes) -> None:
        self.sent.append((conn, message))


class FakeReplying:
    """The connection whose message is being handled: what Connections.send writes through."""

    def __init__(self, conn_id: str, state: int = OPEN) -> None:
        self.id = conn_id
        self.state = state
        self.frames: list[str | bytes] = []
        self.message_outbox: MessageOutbox | None = None  # None: compressed, via frame_for

    def frame_for(self, data: str | bytes) -> str | bytes:
        return data

    def write(self, frame: str | bytes) -> None:
        self.frames.append(frame)


def test_a_send_to_the_replying_connection_is_written_through_it_without_a_lookup() -> None:
    websocket = FakeService("c1", "c2")
    conns = connections(websocket)
    conns.replying = replying = FakeReplying("c1")
    conns.send("c1", {"n": 1}, True)
    conns.send("c1", "hi", True)
    assert replying.frames == ['{"n":1}', "hi"]
    assert websocket.sent == []
    conns.send("c2", "other", True)  # another id: found by id as before
    assert websocket.sent == [("c2", "other")]


def test_an_uncompressed_replying_connection_is_answered_by_its_outbox_in_one_call() -> None:
    conns = connections(FakeService("c1"))
    conns.replying = replying = FakeReplying("c1")
    replying.message_outbox = outbox = MessageOutbox()
    conns.send("c1", {"n": 1}, True)
    conns.send("c1", b"raw", True)
    assert outbox.sent == [(replying, '{"n":1}'), (replying, b"raw")]
    assert replying.frames == []


def test_a_replying_connection_that_has_closed_is_not_written_to() -> None:
    conns = connections(FakeService())
    conns.replying = replying = FakeReplying("c1", CLOSING)
    with pytest.raises(ActionError, match="No open WebSocket connection with id c1"):
        conns.send("c1", "late", True)
    assert replying.frames == []


class ChatServices:
    """Just enough of an application for a handler that broadcasts and returns."""

    class NoRepositories:
        suspends = False

    published: dict[str, Any] = {}

    def __init__(self, websocket: FakeService) -> None:
        self.connections = connections(websocket)
        self.repositories = self.NoRepositories()
        self.events = self


BROADCAST_THEN_RETURN = (
    "<Create> the <message> with { text: <text>, n: 1 }.\n"
    "<Broadcast> the <message> to the <websocket>.\n"
    "<Return> a <Created: status> with <message>.\n"
)


def test_a_return_right_after_a_broadcast_of_its_map_answers_with_the_broadcast_json(
    json_calls,
) -> None:
    websocket = FakeService()
    ran = run_body(BROADCAST_THEN_RETURN, ChatServices(websocket), {"text": "a/b"})
    ((payload, _),) = websocket.payloads
    assert ran.response.json is payload and payload == b'{"n":1,"text":"a\\/b"}'
    status, _, body = encode_body(ran.response, "/messages")
    assert (status, body) == (201, payload) and len(json_calls) == 1


def test_the_201_is_written_anew_where_its_body_differs_from_the_broadcast() -> None:
    websocket = FakeService()
    # a JSON-looking string is embedded as JSON in an HTTP body, not in a broadcast
    ran = run_body(BROADCAST_THEN_RETURN, ChatServices(websocket), {"text": "[1]"})
    ((payload, _),) = websocket.payloads
    assert payload == b'{"n":1,"text":"[1]"}'
    assert encode_body(ran.response, "/messages")[2] == b'{"n":1,"text":[1]}'


def test_nothing_is_kept_for_a_return_after_a_broadcast_that_serialized_nothing() -> None:
    ran = run_body(BROADCAST_THEN_RETURN, ChatServices(FakeService(clients=0)), {"text": "x"})
    assert ran.response.json is None
    assert encode_body(ran.response, "/messages")[2] == b'{"n":1,"text":"x"}'


@pytest.mark.parametrize(
    "body",
    [
        # a statement between them could be anything
        BROADCAST_THEN_RETURN.replace("<Return>", '<Log> "x" to the <console>.\n<Return>'),
        # a Broadcast with a condition may not run at all
        BROADCAST_THEN_RETURN.replace("<websocket>.", "<websocket> when <text> = 1."),
        # code with jumps: the Return may be reached without the Broadcast right before it
        "match <text> {\ncase 1 {\n<Log> <text> to the <console>.\n}\n}\n" + BROADCAST_THEN_RETURN,
    ],
)
def test_a_return_is_paired_only_with_a_broadcast_that_always_runs_right_before_it(
    body: str,
) -> None:
    code = compile_source(f"(Test: Action Demo) {{\n{body}\n}}\n", "test.aro").code_objects[0]
    returning = linked(code).plans[-1]
    assert returning.func.__name__ == "return_value"
    paired = compile_source(
        f"(Test: Action Demo) {{\n{BROADCAST_THEN_RETURN}\n}}\n", "test.aro"
    ).code_objects[0]
    assert linked(paired).plans[-1].func.__name__ == "return_broadcast_value"
