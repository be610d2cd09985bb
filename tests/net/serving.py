"""Start an ARO app in a real process on an ephemeral port and talk HTTP to it."""

from __future__ import annotations

import http.client
import json
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STARTED = re.compile(r"HTTP Server started on port (\d+)")


@dataclass
class Served:
    port: int
    process: subprocess.Popen
    output: list[str] = field(default_factory=list)

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
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        rest, _ = self.process.communicate(timeout=15)
        return "".join(self.output) + rest


def _complete(received: bytes) -> bool:
    """Whether the last response's body (by Content-Length) has fully arrived."""
    head, separator, body = received.rpartition(b"\r\n\r\n")
    if not separator:
        return False
    match = re.search(rb"content-length: (\d+)", head.rsplit(b"HTTP/1.1 ", 1)[-1], re.I)
    return match is None or len(body) >= int(match.group(1))


@contextmanager
def serve(app: Path | str, *arguments: str, env: dict | None = None) -> Iterator[Served]:
    command = [sys.executable, "-m", "aro", "run", str(app), "--port", "0", *arguments]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env
    )
    served = Served(0, process)
    try:
        for line in process.stdout:
            served.output.append(line)
            match = STARTED.search(line)
            if match:
                served.port = int(match.group(1))
                break
        else:
            raise AssertionError(f"server did not start: {''.join(served.output)}"
                                 f"{process.stderr.read()}")  # fmt: skip
        yield served
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
