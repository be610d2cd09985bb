"""WebSocket runtime wiring: handler choice, settings, and examples/WebSocketEcho end to end.

The end-to-end tests run ``aro run examples/WebSocketEcho --port 0`` in a real process and
talk to it with the ``websockets`` client library (a strict peer), raw sockets and HTTP.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import textwrap
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from aro.config import Config
from aro.lang.compiler import compile_source
from aro.net.websocket import WebSocketSettings
from aro.runtime.handlers import classify
from aro.runtime.websocket_service import close_reason, websocket_settings
from tests.support.live import ROOT, LiveApp, launch

ECHO = ROOT / "examples" / "WebSocketEcho"
TIMEOUT = 10.0


# -- handler choice, payload words, settings ------------------------------------------------


def _handler_names(source: str) -> dict[str, list[str]]:
    program = compile_source(textwrap.dedent(source), "main.aro")
    return {k: [c.name for c in codes] for k, codes in classify(program).websocket.items()}


def test_handlers_are_chosen_by_name_message_then_disconnect_then_connect() -> None:
    names = _handler_names(
        """
        (Handle Connect: WebSocket Event Handler) { Log "a" to the <console>. }
        (Disconnect Message Relay: WebSocket Event Handler) { Log "b" to the <console>. }
        (reconnect DISCONNECT: WebSocket Event Handler) { Log "c" to the <console>. }
        (CONNECTED user: WebSocket Event Handler) { Log "d" to the <console>. }
        (Greeter: WebSocket Event Handler) { Log "e" to the <console>. }
        (Client Connect: Socket Event Handler) { Log "f" to the <console>. }
        (Message Log: Message Handler) { Log "g" to the <console>. }
        """
    )
    assert names == {
        "connect": ["Handle Connect", "CONNECTED user"],
        "message": ["Disconnect Message Relay"],
        "disconnect": ["reconnect DISCONNECT"],
    }


def test_disconnect_reason_keeps_the_peers_text_else_names_how_it_ended() -> None:
    assert close_reason(4000, "bye now") == "bye now"
    assert close_reason(1000, "") == "client closed"
    assert close_reason(1005, "") == "client closed"
    assert close_reason(1006, "") == "connection closed"


def test_websocket_is_on_at_ws_unless_moved_or_turned_off() -> None:
    config = Config()
    assert websocket_settings({}, config).path == "/ws"
    assert websocket_settings(None, config).path == "/ws"
    assert websocket_settings(8081, config).path == "/ws"
    assert websocket_settings({"websocket": "/chat"}, config).path == "/chat"
    assert websocket_settings({"websocket": "chat"}, config).path == "/chat"
    assert websocket_settings({"websocket": False}, config) is None


def test_command_line_limits_reach_the_settings() -> None:
    config = Config(ws_max_message=64, ws_ping_interval=0, ws_compression=False)
    settings = websocket_settings({}, config)
    assert (settings.max_message, settings.ping_interval, settings.compression) == (64, 0, False)
    defaults = websocket_settings({}, Config())
    assert (defaults.max_message, defaults.compression) == (1 << 20, True)
    listed = Config(ws_allowed_origins=("https://app.example.com",))
    assert websocket_settings({}, listed).allowed_origins == ("https://app.example.com",)
    assert defaults.allowed_origins == ()  # the server's own origin and non-browsers only


def test_the_config_defaults_are_the_transport_defaults() -> None:
    """Config states the defaults users see; the transport's own must not drift from them."""
    transport, config = WebSocketSettings(), websocket_settings({}, Config())
    assert config == transport


# -- end to end --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def echo() -> LiveApp:
    with launch(ECHO, "--port", "0") as app:
        app.port()
        yield app


def _url(app: LiveApp, path: str = "/ws") -> str:
    return f"ws://127.0.0.1:{app.port()}{path}"


def _talk(body: Callable[[], Awaitable[object]]) -> object:
    return asyncio.run(asyncio.wait_for(body(), TIMEOUT))


async def _join(app: LiveApp, path: str = "/ws") -> tuple[ClientConnection, str]:
    """Connect and read the welcome; answer the client and its connection id."""
    client = await connect(_url(app, path))
    welcome = await client.recv()
    assert welcome.startswith("welcome ")
    return client, welcome.removeprefix("welcome ")


def _post(app: LiveApp, path: str, payload: dict) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", app.port(), timeout=TIMEOUT)
    try:
        body = json.dumps(payload)
        connection.request("POST", path, body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_connect_runs_the_connect_handler_with_path_and_address(echo: LiveApp) -> None:
    async def body() -> str:
        client, connection_id = await _join(echo)
        await client.close()
        return connection_id

    connection_id = _talk(body)
    echo.wait_for(
        rf"^\[Handle WebSocket Connect\] connected {connection_id} on /ws from 127\.0\.0\.1$"
    )


def test_message_echoes_to_the_sender_and_broadcasts_json_to_everyone(echo: LiveApp) -> None:
    async def body() -> None:
        alice, alice_id = await _join(echo)
        bob, _ = await _join(echo)
        await alice.send("hello")
        assert await alice.recv() == "hello"
        chat = {"sender": alice_id, "text": "hello"}
        assert json.loads(await alice.recv()) == chat
        assert json.loads(await bob.recv()) == chat
        await alice.send(b"\x00\xff")
        assert await alice.recv() == b"\x00\xff"
        await asyncio.gather(alice.close(), bob.close())

    _talk(body)
    echo.wait_for(r"^\[Handle WebSocket Message\] message from \S+: hello$")


def test_one_connections_events_are_handled_in_order(echo: LiveApp) -> None:
    count = 200

    async def body() -> tuple[list[str], str]:
        client, connection_id = await _join(echo)
        for number in range(count):
            await client.send(f"m{number}")
        echoes = []
        while len(echoes) < count:
            message = await client.recv()
            if not message.startswith("{"):
                echoes.append(message)
        await client.close()
        return echoes, connection_id

    echoes, connection_id = _talk(body)
    assert echoes == [f"m{number}" for number in range(count)]
    echo.wait_for(rf"disconnected {connection_id} ")
    mine = [line for line in echo.lines if connection_id in line]
    assert mine[0].startswith("[Handle WebSocket Connect]")
    assert [line.rsplit(": ", 1)[1] for line in mine[1:-1]] == echoes
    assert mine[-1].startswith("[Handle WebSocket Disconnect]")


def test_disconnect_handler_sees_the_close_code_and_reason(echo: LiveApp) -> None:
    async def body() -> str:
        client, connection_id = await _join(echo)
        await client.close(4000, "bye now")
        return connection_id

    connection_id = _talk(body)
    echo.wait_for(rf"^\[Handle WebSocket Disconnect\] disconnected {connection_id} 4000 bye now$")


def test_a_dropped_connection_disconnects_with_1006(echo: LiveApp) -> None:
    async def body() -> str:
        client, connection_id = await _join(echo)
        client.transport.abort()
        return connection_id

    connection_id = _talk(body)
    echo.wait_for(rf"disconnected {connection_id} 1006 connection closed$")


def test_broadcast_from_an_http_handler_reaches_every_socket(echo: LiveApp) -> None:
    async def body() -> None:
        clients = [(await _join(echo))[0] for _ in range(3)]
        status, payload = await asyncio.to_thread(_post, echo, "/announce", {"text": "news"})
        assert (status, payload) == (200, {"announced": "news"})
        assert [await client.recv() for client in clients] == ["news"] * 3
        await asyncio.gather(*(client.close() for client in clients))

    _talk(body)


def test_send_reaches_one_connection_and_an_unknown_id_fails_the_statement(
    echo: LiveApp,
) -> None:
    async def body() -> None:
        alice, alice_id = await _join(echo)
        bob, _ = await _join(echo)
        sent = await asyncio.to_thread(
            _post, echo, "/whisper", {"target": alice_id, "text": "psst"}
        )
        assert sent == (200, {"sent": "psst", "target": alice_id})
        assert await alice.recv() == "psst"
        status, error = await asyncio.to_thread(
            _post, echo, "/whisper", {"target": "nobody", "text": "psst"}
        )
        assert status == 500
        assert error["error"].startswith(
            "Runtime Error: Cannot send the text to the websocket-connection: target."
        )
        await bob.send("still here")  # bob got no whisper: its next frame is its own echo
        assert await bob.recv() == "still here"
        await asyncio.gather(alice.close(), bob.close())

    _talk(body)


def _raw_get(port: int, path: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
        return data


def test_the_websocket_path_without_upgrade_answers_426(echo: LiveApp) -> None:
    response = _raw_get(echo.port(), "/ws?x=1")
    assert response.startswith(b"HTTP/1.1 426 Upgrade Required\r\n")
    assert b"\r\nUpgrade: websocket\r\n" in response
    assert response.endswith(b'{"error":"Upgrade Required"}')
    assert _raw_get(echo.port(), "/health").startswith(b"HTTP/1.1 200 OK")
    assert _raw_get(echo.port(), "/elsewhere").startswith(b"HTTP/1.1 404 ")


def test_sigterm_closes_every_client_with_1001_and_runs_disconnect_handlers() -> None:
    with launch(ECHO, "--port", "0") as app:

        async def body() -> tuple[list[int], list[str]]:
            joined = [await _join(app) for _ in range(3)]
            app.sigterm()
            codes = []
            for client, _ in joined:
                with pytest.raises(ConnectionClosed):
                    while True:
                        await client.recv()
                codes.append(client.close_code)
            return codes, [connection_id for _, connection_id in joined]

        codes, ids = _talk(body)
        exit_code, lines = app.terminate()
    assert codes == [1001, 1001, 1001]
    assert exit_code == 0
    stopped = lines.index("[Application-End] WebSocket Echo stopped")
    for connection_id in ids:
        line = (
            f"[Handle WebSocket Disconnect] disconnected {connection_id} 1001 server shutting down"
        )
        assert lines.index(line) < stopped
    assert lines[-1] == "[OK] startup"


# -- configuration -----------------------------------------------------------------------------


def _app(tmp_path: Path, start_config: str, handlers: str = "") -> Path:
    (tmp_path / "main.aro").write_text(
        "(Application-Start: Configured) {\n"
        f"    Start the <http-server> with {start_config}.\n"
        '    Create the <greeting> with "hello".\n'
        "    Broadcast the <greeting> to the <websocket>.\n"
        "    Keepalive the <application> for the <events>.\n"
        "    Return an <OK: status> for the <startup>.\n"
        "}\n" + textwrap.dedent(handlers)
    )
    return tmp_path


RELAY_HANDLERS = """
    (Relay Connect: WebSocket Event Handler) {
        Extract the <who> from the <event: connectionId>.
        Send the <greeting> to the <who>.
    }

    (Relay Message: WebSocket Event Handler) {
        Extract the <text> from the <event: message>.
        Extract the <sender> from the <event: connectionId>.
        Emit a <Relayed: event> with <text>.
        Close the <connection> with the <sender> when <text> == "quit".
    }

    (Relay: Relayed Handler) {
        Extract the <text> from the <event: text>.
        Create the <relayed> with "relayed ${text}".
        Broadcast the <relayed> to the <ws>.
    }
"""


def test_start_with_a_websocket_path_moves_the_endpoint(tmp_path: Path) -> None:
    app_dir = _app(tmp_path, '{ websocket: "/chat" }', RELAY_HANDLERS)
    with launch(app_dir, "--port", "0") as app:
        app.wait_for(r"^HTTP Server started on port \d+ \(WebSocket enabled on /chat\)$")

        async def body() -> tuple[str, str, int, str]:
            async with connect(_url(app, "/chat")) as client:
                # Send to a variable holding the id, of a value bound by Application-Start
                assert await client.recv() == "hello"
                await client.send("hi")
                relayed = await client.recv()  # Broadcast from a domain event handler
                await client.send("quit")
                last = await client.recv()
                with pytest.raises(ConnectionClosed):
                    await client.recv()
                return relayed, last, client.close_code, client.close_reason

        assert _talk(body) == ("relayed hi", "relayed quit", 1000, "closed by the server")
        assert b" 426 " in _raw_get(app.port(), "/chat").split(b"\r\n")[0]
        assert _raw_get(app.port(), "/ws").startswith(b"HTTP/1.1 200 OK")  # no contract: 200


def test_start_with_websocket_false_turns_it_off(tmp_path: Path) -> None:
    with launch(_app(tmp_path, "{ websocket: false }"), "--port", "0") as app:
        line = app.wait_for(r"^HTTP Server started on port \d+.*$").group(0)
        assert "WebSocket" not in line

        async def body() -> None:
            async with connect(_url(app)):
                pass

        with pytest.raises(Exception, match="200"):
            _talk(body)


def test_ws_max_message_and_no_compression_flags(tmp_path: Path) -> None:
    app_dir = _app(tmp_path, "{}", RELAY_HANDLERS)
    with launch(app_dir, "--port", "0", "--ws-max-message", "8", "--ws-no-compression") as app:

        async def body() -> tuple[str | None, int | None]:
            async with connect(_url(app)) as client:
                extensions = client.response.headers.get("Sec-WebSocket-Extensions")
                assert await client.recv() == "hello"
                await client.send("more than eight bytes")
                with pytest.raises(ConnectionClosed):
                    await client.recv()
                return extensions, client.close_code

        assert _talk(body) == (None, 1009)


def _raw_upgrade(port: int) -> tuple[socket.socket, bytes]:
    """A raw WebSocket client after its handshake, and the bytes that followed the 101."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    sock.sendall(
        b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, rest = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101 ")
    return sock, rest


def test_shutdown_drops_a_client_that_never_answers_the_close() -> None:
    with launch(ECHO, "--port", "0") as app:
        sock, _ = _raw_upgrade(app.port())  # and never reads again
        connection_id = app.wait_for(r"connected (\S+) on /ws").group(1)
        exit_code, lines = app.terminate()
        sock.close()
    assert exit_code == 0
    assert (
        f"[Handle WebSocket Disconnect] disconnected {connection_id} 1001 server shutting down"
        in lines
    )
    assert lines[-1] == "[OK] startup"


def _frames(sock: socket.socket, data: bytes = b"") -> Iterator[tuple[int, bytes]]:
    """Server frames (unmasked, short) as (opcode, payload), read as they come."""
    while True:
        while len(data) < 2 or len(data) < 2 + (data[1] & 0x7F):
            data += sock.recv(65536)
        size = data[1] & 0x7F
        yield data[0] & 0x0F, data[2 : 2 + size]
        data = data[2 + size :]


def test_ws_ping_interval_makes_the_server_ping_a_silent_client() -> None:
    with launch(ECHO, "--port", "0", "--ws-ping-interval", "0.2") as app:
        sock, rest = _raw_upgrade(app.port())
        frames = _frames(sock, rest)
        assert next(frames)[0] == 0x1  # the welcome
        assert next(frames)[0] == 0x9
        sock.close()


def test_compression_is_negotiated_by_default(echo: LiveApp) -> None:
    async def body() -> str:
        async with connect(_url(echo)) as client:
            return client.response.headers.get("Sec-WebSocket-Extensions", "")

    assert _talk(body).startswith("permessage-deflate")
