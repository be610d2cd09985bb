"""A private ``redis-server`` for a test: a free port on 127.0.0.1, a temporary directory, stopped
by PID. Nothing here assumes a Redis already running; tests skip when the binary is missing
(``.ci/run`` installs Debian's ``redis-server``)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

REDIS_BINARY = "redis-server"
START_TIMEOUT = 10.0
START_ATTEMPTS = 3


@dataclass(frozen=True)
class RedisServer:
    port: int
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def redis_server(directory: Path) -> Iterator[RedisServer]:
    """Start ``redis-server`` in ``directory`` and stop it (by PID) on exit; skip without one."""
    binary = shutil.which(REDIS_BINARY)
    if binary is None:
        pytest.skip("redis-server is not installed (.ci/run installs it)")
    server = _start(binary, directory)
    try:
        yield server
    finally:
        _stop(server.process)


def _start(binary: str, directory: Path) -> RedisServer:
    """A redis-server answering PING.  Redis cannot bind port 0 and report it, so the port is
    probed free first; when the suite runs in parallel another process may take it in between
    (redis-server then exits at once), and a fresh port is tried, a bounded number of times."""
    for _ in range(START_ATTEMPTS):
        port = free_port()
        argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory),
                "--save", "", "--appendonly", "no", "--protected-mode", "no"]
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers_ping(port):
            if process.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        else:
            return RedisServer(port, process)
        _stop(process)
    raise RuntimeError(f"redis-server did not start in {START_ATTEMPTS} attempts")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
