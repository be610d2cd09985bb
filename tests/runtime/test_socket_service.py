"""The TCP socket server and Socket Event Handlers.

The end-to-end tests run examples/EchoTCP (and small generated apps) in a real process and
talk to them over raw sockets; the per-connection dispatcher has its own tests
(test_dispatch.py).
"""

from __future__ import annotations

import http.client
import json
import socket
import textwrap
from pathlib import Path

import pytest

from aro.config import Config
from aro.lang.compiler import compile_source
from aro.runtime.handlers import classify
from aro.runtime.socket_service import resolve_socket_port
from tests.support.live import HTTP_STARTED, ROOT, SOCKET_STARTED, LiveApp, launch

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
    names = {kind: [c.name for c in codes] for kind, codes in classify(program).socket.items()}
    assert names == {
        "connect": ["Client Connected"],
        "data": ["Data Received", "Message Arrived", "Bytes Received"],
        "disconnect": ["Client Disconnected"],
    }


def test_socket_port_precedence() -> None:
    unset, given = Config(), Config(socket_port=9400)  # given: by --socket-port or ARO_SOCKET_PORT
    assert resolve_socket_port(unset, None) == 9000
    assert resolve_socket_port(unset, {}) == 9000
    assert resolve_socket_port(unset, {"port": 9100}) == 9100
    assert resolve_socket_port(unset, 9200) == 9200
    assert resolve_socket_port(given, {"port": 9100}) == 9400
    assert resolve_socket_port(given, 9200) == 9400
    assert resolve_socket_port(unset, True) == 9000


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
    with launch(ECHO_TCP, "--socket-port", "0") as app:
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
    with launch(ECHO_TCP, "--socket-port", "0") as app:
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
    with launch(ECHO_TCP, env={"ARO_SOCKET_PORT": str(free)}) as app:
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
    with launch(tmp_path, "--port", "0") as app:
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
