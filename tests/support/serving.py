"""HTTP helpers over a live ``aro run`` (tests/support/live.py runs the process)."""

from __future__ import annotations

import http.client
import json
import re
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.live import ROOT, LiveApp, launch

__all__ = ["ROOT", "Served", "serve"]


@dataclass
class Served:
    app: LiveApp
    port: int

    @property
    def process(self) -> subprocess.Popen:
        return self.app.process

    def request(
        self, method: str, path: str, body: bytes | str | None = None, headers: dict | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def json(self, method: str, path: str, payload: object = None) -> tuple[int, object]:
        body = None if payload is None else json.dumps(payload)
        headers = {} if payload is None else {"Content-Type": "application/json"}
        status, _, data = self.request(method, path, body, headers)
        return status, json.loads(data) if data else None

    def raw(self, data: bytes, expect_responses: int = 1, timeout: float = 5.0) -> bytes:
        """Send raw bytes; read until the connection closes or enough responses arrived."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            sock.sendall(data)
            received = b""
            while received.count(b"HTTP/1.1 ") < expect_responses or not _complete(received):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
            return received

    def stop(self) -> str:
        """SIGTERM, wait, and return everything the app printed."""
        _, lines = self.app.terminate()
        return "\n".join(lines) + "\n"


def _complete(received: bytes) -> bool:
    """Whether the last response's body (by Content-Length) has fully arrived."""
    head, separator, body = received.rpartition(b"\r\n\r\n")
    if not separator:
        return False
    match = re.search(rb"content-length: (\d+)", head.rsplit(b"HTTP/1.1 ", 1)[-1], re.I)
    return match is None or len(body) >= int(match.group(1))


@contextmanager
def serve(app: Path | str, *arguments: str, env: dict | None = None) -> Iterator[Served]:
    """The app on an ephemeral port, ready for requests."""
    with launch(app, "--port", "0", *arguments, env=env) as live:
        yield Served(live, live.port())
