"""The ``system`` capability: shell commands for ``Exec`` and the machine's load for
``Retrieve the <stats> from the <system>``.

Commands run as asyncio subprocesses, so a handler waiting for one never blocks the event loop
(a server keeps serving meanwhile).  Metrics come from Linux's /proc and ``statvfs``; where
/proc is missing (another system) the numbers are zero, not an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Any

SHELL = "/bin/sh"
BYTES_PER_GB = 1 << 30
KB_PER_GB = 1 << 20
#: /proc/stat's first eight cpu columns (user nice system idle iowait irq softirq steal); the
#: guest columns are already counted in user and nice.
CPU_COLUMNS = 8
IDLE_COLUMNS = (3, 4)  # idle, iowait


class HostSystem:
    """Commands and metrics of the machine this process runs on."""

    def __init__(self, proc: Path = Path("/proc"), disk: str = "/") -> None:
        self._proc = proc
        self._disk = disk
        # CPU load is a difference of two samples: the first Retrieve measures since start-up.
        self._cpu_sample = self._cpu_ticks()

    async def execute(
        self, command: str, cwd: str | None, env: Mapping[str, str] | None, timeout: float
    ) -> dict[str, Any]:
        environment = {**os.environ, **env} if env else None
        try:
            process = await asyncio.create_subprocess_exec(
                SHELL, "-c", command, cwd=cwd, env=environment,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                start_new_session=True,  # its own process group: a timeout stops it all
            )  # fmt: skip
        except OSError as error:
            return exec_result(command, -1, "", "", f"Failed to start process: {error.strerror}")
        try:
            stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
        except TimeoutError:
            _kill_group(process.pid)
            await process.wait()
            return exec_result(command, -1, "", "", f"Command timed out after {timeout:g} s")
        except asyncio.CancelledError:  # the application is stopping: take the command along
            _kill_group(process.pid)
            raise
        return exec_result(command, process.returncode, _text(stdout), _text(stderr))

    def metrics(self) -> dict[str, Any]:
        return {"cpu": self._cpu_percent(), "memory": self._memory(), "disk": self._disk_usage()}

    def _cpu_percent(self) -> int:
        previous, current = self._cpu_sample, self._cpu_ticks()
        self._cpu_sample = current
        total = current[1] - previous[1]
        return round((current[0] - previous[0]) * 100 / total) if total > 0 else 0

    def _cpu_ticks(self) -> tuple[int, int]:
        """(busy, total) clock ticks of all CPUs since boot."""
        try:
            first = (self._proc / "stat").read_text().splitlines()[0].split()
        except (OSError, IndexError):
            return (0, 0)
        ticks = [int(field) for field in first[1 : 1 + CPU_COLUMNS]]
        idle = sum(ticks[column] for column in IDLE_COLUMNS if column < len(ticks))
        return (sum(ticks) - idle, sum(ticks))

    def _memory(self) -> dict[str, int]:
        fields: dict[str, int] = {}
        try:
            for line in (self._proc / "meminfo").read_text().splitlines():
                name, _, rest = line.partition(":")
                fields[name] = int(rest.split()[0])
        except (OSError, ValueError, IndexError):
            pass
        total_kb = fields.get("MemTotal", 0)
        used_kb = total_kb - fields.get("MemAvailable", fields.get("MemFree", 0))
        return usage(used_kb // KB_PER_GB, total_kb // KB_PER_GB)

    def _disk_usage(self) -> dict[str, int]:
        try:
            stats = os.statvfs(self._disk)
        except OSError:
            return usage(0, 0)
        total = stats.f_blocks * stats.f_frsize
        used = total - stats.f_bfree * stats.f_frsize
        return usage(used // BYTES_PER_GB, total // BYTES_PER_GB)


def usage(used: int, total: int) -> dict[str, int]:
    """Whole gigabytes and the share used, in percent (as the reference reports them)."""
    percent = min(100, used * 100 // total) if total > 0 else 0
    return {"used": used, "total": total, "percent": percent}


def exec_result(
    command: str, exit_code: int, stdout: str, stderr: str, failure: str = ""
) -> dict[str, Any]:
    """Exec's result: a failing command shows its stderr, a succeeding one its stdout (or its
    stderr when it printed only that), and both when it printed to both."""
    failed = bool(failure) or exit_code != 0
    if failed and stderr:
        output = stderr
    elif stdout and stderr:
        output = f"{stdout}\n{stderr}"
    else:
        output = stdout or stderr
    if not failure:
        failure = f"Command failed with exit code {exit_code}" if failed else ""
    return {
        "command": command,
        "error": failed,
        "exitCode": exit_code,
        "message": failure or "Command executed successfully",
        "output": output,
    }


def _kill_group(pid: int) -> None:
    """Kill the shell and whatever it started (a pipeline, a command it forked)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace").strip()
