"""The TCP socket server, Socket Event Handlers and the per-connection dispatcher.

Dispatcher tests replace handler bodies with Python coroutines (``execute`` is patched) to see
order, concurrency and the frames it builds; the end-to-end tests run examples/EchoTCP (and
small generated apps) in a real process and talk to them over raw sockets.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import random
import socket
import textwrap
from pathlib import Path
from typing import Any

import pytest

from aro.lang.bytecode import CodeObject
from aro.lang.compiler import compile_source
from aro.runtime import socket_service
from aro.runtime.socket_service import ConnectionDispatcher, resolve_socket_port, socket_handlers
from aro.vm.errors import StatementError
from aro.vm.frame import Frame, Response
from tests.runtime.live_app import HTTP_STARTED, ROOT, SOCKET_STARTED, LiveApp, run_app

ECHO_TCP = ROOT / "examples" / "EchoTCP"
TIMEOUT = 10.0


# -- handler choice and port -------------------------------------------------------------------


def test_socket_handlers_by_name_and_websocket_handlers_are_not_tcp_handlers() -> None:
    program = compile_source(
        textwrap.dedent(
            """
            (Client Disconnected: Socket Event Handler) { Log "a" to the <console>. }
            (Client Connected: Socket Event Handler) { Log "b" to the <console>. }
            (Data Received: Socket Event Handler) { Log "c" to the <console>. }
            (Message Arrived: Socket Event Handler) { Log "d" to the <console>. }
            (Bytes Received: Socket Event Handler) { Log "e" to the <console>. }
            (Something Else: Socket Event Handler) { Log "f" to the <console>. }
            (WS Connect: WebSocket Event Handler) { Log "g" to the <console>. }
            """
        ),
        "main.aro",
    )
    names = {kind: [c.name for c in codes] for kind, codes in socket_handlers(program).items()}
    assert names == {
        "connect": ["Client Connected"],
        "data": ["Data Received", "Message Arrived", "Bytes Received"],
        "disconnect": ["Client Disconnected"],
    }


def test_socket_port_precedence() -> None:
    assert resolve_socket_port({}, None) == 9000
    assert resolve_socket_port({}, {}) == 9000
    assert resolve_socket_port({}, {"port": 9100}) == 9100
    assert resolve_socket_port({}, 9200) == 9200
    assert resolve_socket_port({"env_port": "9300"}, {"port": 9100}) == 9300
    assert resolve_socket_port({"socket_port": 9400, "env_port": "9300"}, 9200) == 9400
    assert resolve_socket_port({"socket_port": None, "env_port": ""}, True) == 9000


# -- the dispatcher ----------------------------------------------------------------------------


class Services:
    def __init__(self) -> None:
        self.logs: list[tuple[str, str, str]] = []
        self.running = self.most_running = 0  # handlers in flight, now and at most

    def log(self, feature: str, message: str, stream: str = "stdout") -> None:
        self.logs.append((feature, message, stream))

    def published(self, activity: str) -> dict[str, Any]:
        return {}


def _code(name: str) -> CodeObject:
    return CodeObject(name, "Socket Event Handler", "t.aro", slot_names=[], fallback=[])


@pytest.fixture
def handled(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any, Frame]]:
    """Every handler run as (feature name, the ``event`` binding, its frame); each run sleeps
    a random little while so that unordered dispatch would show."""
    runs: list[tuple[str, Any, Frame]] = []
    rng = random.Random(7)

    async def fake_execute(frame: Frame) -> Response:
        services = frame.services
        services.running += 1
        services.most_running = max(services.most_running, services.running)
        await asyncio.sleep(rng.random() / 500)
        services.running -= 1
        if frame.named["event"] == "boom":
            raise StatementError("Cannot fail the test for the\n  fun.", "F", "A", "S")
        runs.append((frame.code.name, frame.named["event"], frame))
        return Response()

    monkeypatch.setattr(socket_service, "execute", fake_execute)
    return runs


def test_events_of_one_connection_run_in_order_connections_concurrently(handled: list) -> None:
    services = Services()
    root = Frame(_code("Application-Start"), services)
    on_event = (_code("Handle Message"),)

    async def scenario() -> ConnectionDispatcher:
        dispatcher = ConnectionDispatcher(services, root)
        for number in range(30):
            for connection in ("a", "b", "c"):
                dispatcher.deliver(connection, on_event, {"event": (connection, number)})
            if number % 7 == 0:
                await asyncio.sleep(0.001)
        await dispatcher.idle()
        return dispatcher

    dispatcher = asyncio.run(scenario())
    for connection in ("a", "b", "c"):
        mine = [number for _, (who, number), _ in handled if who == connection]
        assert mine == list(range(30))
    assert services.most_running == 3
    assert all(frame.parent is root for _, _, frame in handled)
    assert dispatcher.pending() == 0


def test_every_handler_of_an_event_runs_and_none_is_queued_without_handlers(
    handled: list,
) -> None:
    services = Services()
    both = (_code("First Data"), _code("Second Data"))

    async def scenario() -> int:
        dispatcher = ConnectionDispatcher(services, None)
        dispatcher.deliver("a", (), {"event": "ignored"})
        idle_without_handlers = dispatcher.pending()
        dispatcher.deliver("a", both, {"event": "x"})
        await dispatcher.idle()
        return idle_without_handlers

    assert asyncio.run(scenario()) == 0
    assert [(name, event) for name, event, _ in handled] == [
        ("First Data", "x"),
        ("Second Data", "x"),
    ]


def test_a_failing_handler_is_one_stderr_line_and_later_events_still_run(handled: list) -> None:
    services = Services()
    on_event = (_code("Handle Data"),)

    async def scenario() -> None:
        dispatcher = ConnectionDispatcher(services, None)
        for event in ("one", "boom", "two"):
            dispatcher.deliver("a", on_event, {"event": event})
        await dispatcher.idle()

    asyncio.run(scenario())
    assert [event for _, event, _ in handled] == ["one", "two"]
    assert services.logs == [
        (
            "Handle Data",
            "Handler error: Runtime Error: Cannot fail the test for the\n  fun.",
            "stderr",
        )
    ]


# -- end to end --------------------------------------------------------------------------------


class LineClient:
    """A raw TCP client reading newline-terminated lines."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.buffer = b""

    def line(self) -> bytes:
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(self.buffer)
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line + b"\n"

    def until_eof(self) -> bytes:
        while chunk := self.sock.recv(65536):
            self.buffer += chunk
        rest, self.buffer = self.buffer, b""
        return rest

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def echo_tcp() -> LiveApp:
    with run_app(ECHO_TCP, "--socket-port", "0") as app:
        app.port(SOCKET_STARTED)
        yield app


def _welcome(client: LineClient) -> str:
    line = client.line().decode()
    assert line.startswith("welcome ") and line.endswith("\n")
    return line.removeprefix("welcome ").strip()


def test_tcp_echo_connect_data_disconnect(echo_tcp: LiveApp) -> None:
    client = LineClient(echo_tcp.port(SOCKET_STARTED))
    client_id = _welcome(client)
    assert len(client_id) == 36 and client_id == client_id.upper()
    echo_tcp.wait_for(rf"^\[Handle Client Connected\] client connected {client_id}$")
    client.sock.sendall(b"Hello, ARO!\n")
    assert client.line() == b"Hello, ARO!\n"
    echo_tcp.wait_for(rf"^\[Handle Data Received\] echoed 12 bytes to {client_id}$")
    client.close()
    echo_tcp.wait_for(
        rf"^\[Handle Client Disconnected\] client disconnected {client_id}: connection closed$"
    )


def test_close_ends_the_connection_after_the_echo(echo_tcp: LiveApp) -> None:
    client = LineClient(echo_tcp.port(SOCKET_STARTED))
    client_id = _welcome(client)
    client.sock.sendall(b"bye\n")
    assert client.until_eof() == b"bye\n"
    echo_tcp.wait_for(rf"client disconnected {client_id}: connection closed$")
    client.close()


def test_one_clients_chunks_are_echoed_in_order(echo_tcp: LiveApp) -> None:
    client = LineClient(echo_tcp.port(SOCKET_STARTED))
    _welcome(client)
    lines = [f"line {number}\n".encode() for number in range(300)]
    for line in lines:
        client.sock.sendall(line)
    assert [client.line() for _ in lines] == lines
    client.close()


def test_sigterm_closes_tcp_clients_and_runs_their_disconnect_handlers() -> None:
    with run_app(ECHO_TCP, "--socket-port", "0") as app:
        clients = [LineClient(app.port(SOCKET_STARTED)) for _ in range(2)]
        ids = [_welcome(client) for client in clients]
        app.sigterm()
        assert [client.until_eof() for client in clients] == [b"", b""]
        exit_code, lines = app.terminate()
    assert exit_code == 0
    stopped = lines.index("Socket Server stopped")
    for client_id in ids:
        line = f"[Handle Client Disconnected] client disconnected {client_id}: connection closed"
        assert lines.index(line) < stopped
    assert lines[-2:] == ["[Application-End] EchoTCP stopped", "[OK] startup"]


def test_aro_socket_port_overrides_the_programs_port() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    with run_app(ECHO_TCP, env={"ARO_SOCKET_PORT": str(free)}) as app:
        assert app.port(SOCKET_STARTED) == free


BRIDGE = """
(Application-Start: Bridge) {
    Start the <http-server> with { websocket: false }.
    Start the <socket-server> with { port: 0 }.
    Keepalive the <application> for the <events>.
    Return an <OK: status> for the <startup>.
}

(Client Connected: Socket Event Handler) {
    Extract the <client-id> from the <connection: id>.
    Send the <client-id> to the <connection>.
}

(shout: Bridge API) {
    Extract the <text> from the <request: body.text>.
    Create the <news> with { text: <text>, kind: "shout" }.
    Broadcast the <news> to the <socket-server>.
    Return an <OK: status> with { shouted: <text> }.
}

(tell: Bridge API) {
    Extract the <client> from the <request: body.client>.
    Send "private" to the <client>.
    Return an <OK: status> with { told: <client> }.
}
"""

BRIDGE_CONTRACT = """
openapi: 3.0.3
info: {title: Bridge, version: 1.0.0}
paths:
  /shout:
    post: {operationId: shout, responses: {'200': {description: ok}}}
  /tell:
    post: {operationId: tell, responses: {'200': {description: ok}}}
"""


def _post(port: int, path: str, payload: dict) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        connection.request("POST", path, json.dumps(payload), {"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def _read(client: LineClient, size: int) -> bytes:
    while len(client.buffer) < size:
        client.buffer += client.sock.recv(65536)
    data, client.buffer = client.buffer[:size], client.buffer[size:]
    return data


def test_broadcast_and_send_to_tcp_clients_from_http_handlers(tmp_path: Path) -> None:
    (tmp_path / "main.aro").write_text(BRIDGE)
    (tmp_path / "openapi.yaml").write_text(BRIDGE_CONTRACT)
    with run_app(tmp_path, "--port", "0") as app:
        http_port, tcp_port = app.port(HTTP_STARTED), app.port(SOCKET_STARTED)
        clients = [LineClient(tcp_port) for _ in range(2)]
        ids = [_read(client, 36).decode() for client in clients]
        assert _post(http_port, "/shout", {"text": "hi"}) == (200, {"shouted": "hi"})
        news = b'{"kind":"shout","text":"hi"}'
        assert [_read(client, len(news)) for client in clients] == [news, news]
        assert _post(http_port, "/tell", {"client": ids[1]}) == (200, {"told": ids[1]})
        assert _read(clients[1], 7) == b"private"
        status, error = _post(http_port, "/tell", {"client": "NOT-A-CLIENT"})
        assert status == 500
        assert "Cannot send the _result_expression_ to the client." in error["error"]
        for client in clients:
            client.close()
