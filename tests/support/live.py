"""Run an ARO app as a real ``aro run`` process and watch its output while talking to it over
sockets (tests/support/inproc.py runs ARO in this process instead)."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HTTP_STARTED = r"HTTP Server started on port (\d+)"
SOCKET_STARTED = r"Socket Server started on port (\d+)"
INHERITED_VARIABLES = ("ARO_HTTP_PORT", "ARO_SOCKET_PORT", "ARO_WORKERS", "ARO_BUS")


class LiveApp:
    """A running ``aro run``: its stdout lines as they come, its stderr at the end."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process
        self.lines: list[str] = []
        self.errors: list[str] = []
        self._signalled = False
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._readers = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_stdout(self) -> None:
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def _read_stderr(self) -> None:
        self.errors.extend(line.rstrip("\n") for line in self.process.stderr)

    def wait_for(self, pattern: str, timeout: float = 10.0) -> re.Match:
        """The first line (seen so far or arriving within ``timeout``) matching ``pattern``."""
        regex = re.compile(pattern)
        for line in self.lines:
            if match := regex.search(line):
                return match
        deadline = time.monotonic() + timeout
        while (line := self._next(deadline)) is not None:
            self.lines.append(line)
            if match := regex.search(line):
                return match
        raise AssertionError(f"no line matching {pattern!r} in:\n" + "\n".join(self.lines))

    def wait_for_all(self, pattern: str, count: int, timeout: float = 20.0) -> list[re.Match]:
        """The first ``count`` lines matching ``pattern``, waiting up to ``timeout`` for them
        (several workers print the same line)."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        index = 0
        found: list[re.Match] = []
        while len(found) < count:
            if index == len(self.lines):
                line = self._next(deadline)
                if line is None:
                    raise AssertionError(
                        f"{len(found)} of {count} lines matching {pattern!r} in:\n"
                        + "\n".join(self.lines)
                    )
                self.lines.append(line)
            if match := regex.search(self.lines[index]):
                found.append(match)
            index += 1
        return found

    def _next(self, deadline: float) -> str | None:
        try:
            return self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return None

    def port(self, pattern: str = HTTP_STARTED) -> int:
        return int(self.wait_for(pattern).group(1))

    def sigterm(self, signum: int = signal.SIGTERM) -> None:
        """Ask for a graceful stop, by SIGTERM or ``signum`` (only once: a second signal
        exits at once)."""
        if not self._signalled and self.process.poll() is None:
            self._signalled = True
            self.process.send_signal(signum)

    def terminate(self, timeout: float = 15.0) -> tuple[int, list[str]]:
        """SIGTERM unless sent already, wait; answer the exit status and every stdout line."""
        self.sigterm()
        code = self.process.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout)
        while (line := self._next(0)) is not None:
            self.lines.append(line)
        return code, self.lines


@contextmanager
def launch(
    app: Path | str, *arguments: str, env: dict | None = None, command: str = "run"
) -> Iterator[LiveApp]:
    """``python -m aro run APP ARGS`` (or another ``command``, such as ``serve``) with
    unbuffered output and ``env`` added to the environment (without inherited port
    variables); killed if still running at the end (``aro serve``'s workers follow it)."""
    environment = {k: v for k, v in os.environ.items() if k not in INHERITED_VARIABLES}
    environment.update(env or {}, PYTHONUNBUFFERED="1")
    command_line = [sys.executable, "-m", "aro", command, str(app), *arguments]
    process = subprocess.Popen(
        command_line,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=environment,
    )
    try:
        yield LiveApp(process)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
