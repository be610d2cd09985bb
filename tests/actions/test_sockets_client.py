"""Connect: an outbound TCP connection, Send to it, and its data in Socket Event Handlers."""

from __future__ import annotations

import socketserver
import threading

import pytest

from tests.support.inproc import run_program


class Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(4096):
            self.request.sendall(data)


@pytest.fixture(scope="module")
def echo_port():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join(10)


def test_connect_send_and_receive_through_a_socket_event_handler(echo_port):
    outcome = run_program(f"""
        (Application-Start: Client) {{
            Connect the <conn> to the <host: "localhost"> with {{ port: {echo_port} }}.
            Send "ping" to the <conn>.
            Keepalive the <application> for the <events>.
            Return an <OK: status> for the <startup>.
        }}

        (Echo Received: Socket Event Handler) {{
            Extract the <text> from the <packet: message>.
            Log "got ${{text}}" to the <console>.
            Extract the <id> from the <packet: connectionId>.
            Close the <connection> with <id>.
            Return an <OK: status> for the <packet>.
        }}
    """)
    assert outcome.exit_code == 0, outcome.stdout + outcome.stderr
    assert "[Echo Received] got ping" in outcome.lines
    assert outcome.lines[-1] == "[OK] startup"


def test_a_refused_connection_fails_the_statement():
    outcome = run_program("""
        (Application-Start: Client) {
            Connect the <conn> to "127.0.0.1" with 1.
            Return an <OK: status> for the <startup>.
        }
    """)
    assert outcome.exit_code == 1
    assert "Cannot connect the conn to the _expression_." in outcome.stdout
    assert "Traceback" not in outcome.stdout + outcome.stderr
