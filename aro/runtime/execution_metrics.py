"""How often each feature set ran, how often it failed and how long it took, with the process's
own figures: what ``<metrics>`` reports (``Log the <metrics: table>``).

Every run of a feature set goes through :meth:`ExecutionMetrics.run` (or ``run_eagerly``):
Application-Start and -End, event and connection handlers, HTTP operations, user-defined
actions; the HTTP server instead reuses the clock reads that time its request
(:meth:`ExecutionMetrics.record`).  Recording is two
clock reads and a few integer updates per run, and nothing per statement.  A run fails when it
raises (a Return with an error status is a successful run, as in the reference).
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from aro._speedups import FeatureSetStats
from aro.lang.bytecode import CodeObject
from aro.vm.frame import Frame, Response
from aro.vm.machine import Wait, advance, execute

perf_counter = time.perf_counter


class ExecutionMetrics:
    """The feature-set figures of one application, by feature-set name."""

    __slots__ = ("by_name", "started")

    def __init__(self) -> None:
        self.by_name: dict[str, FeatureSetStats] = {}
        self.started = time.time()

    async def run(
        self, frame: Frame, outcome: Wait | None = None, started: float = 0.0
    ) -> Response:
        """``execute(frame)``, counted under the frame's feature set; ``outcome`` and
        ``started`` go on with a run that :meth:`run_eagerly` began."""
        if outcome is None:
            started = perf_counter()
        failed = True
        try:
            response = await execute(frame, outcome)
            failed = False
            return response
        finally:
            self.record(frame.code, perf_counter() - started, failed)

    def run_eagerly(self, frame: Frame) -> Response | Coroutine[Any, Any, Response]:
        """Run the feature set now: its Response when it never waited (no coroutine was
        made), else the coroutine that finishes it, to be awaited."""
        started = perf_counter()
        try:
            outcome = advance(frame)
        except BaseException:
            self.record(frame.code, perf_counter() - started, True)
            raise
        if type(outcome) is Response:
            code = frame.code  # record(), inlined: this is every eager handler run
            (self.by_name.get(code.name) or self._stats(code)).add(perf_counter() - started)
            return outcome
        return self.run(frame, outcome, started)

    def record(self, code: CodeObject, elapsed: float, failed: bool) -> None:
        """Count one run of ``code`` that took ``elapsed`` seconds."""
        (self.by_name.get(code.name) or self._stats(code)).add(elapsed, failed)

    def _stats(self, code: CodeObject) -> FeatureSetStats:
        stats = self.by_name.get(code.name)
        if stats is None:
            stats = self.by_name[code.name] = FeatureSetStats(code.name, code.activity)
        return stats

    def snapshot(self) -> Snapshot:
        return Snapshot(
            sorted(self.by_name.values(), key=lambda stats: stats.name),
            process_metrics(),
            time.time() - self.started,
        )


@dataclass(frozen=True, slots=True)
class ProcessMetrics:
    cpu_user: float  # seconds
    cpu_system: float
    virtual_bytes: int
    resident_bytes: int
    open_fds: int
    max_fds: int
    started_at: float  # Unix time

    @property
    def cpu_total(self) -> float:
        return self.cpu_user + self.cpu_system


@dataclass(frozen=True, slots=True)
class Snapshot:
    feature_sets: list[FeatureSetStats]
    process: ProcessMetrics
    uptime: float  # seconds since the application was built

    @property
    def executions(self) -> int:
        return sum(stats.executions for stats in self.feature_sets)

    @property
    def failures(self) -> int:
        return sum(stats.failures for stats in self.feature_sets)

    @property
    def average(self) -> float:
        executions = self.executions
        total = sum(stats.total for stats in self.feature_sets)
        return total / executions if executions else 0.0

    @property
    def longest(self) -> float:
        return max((stats.longest for stats in self.feature_sets), default=0.0)


_PROCESS_STARTED = time.time()  # when /proc cannot say


def process_metrics() -> ProcessMetrics:
    """CPU times and the descriptor limit from the standard library; memory, open descriptors
    and the start time from /proc where the system has it (0, or import time, elsewhere)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    virtual, resident = _memory()
    return ProcessMetrics(
        cpu_user=usage.ru_utime,
        cpu_system=usage.ru_stime,
        virtual_bytes=virtual,
        resident_bytes=resident,
        open_fds=_open_fds(),
        max_fds=resource.getrlimit(resource.RLIMIT_NOFILE)[0],
        started_at=_process_start(),
    )


def _memory() -> tuple[int, int]:
    try:
        with open("/proc/self/statm") as statm:
            pages = statm.read().split()
    except OSError:
        return 0, 0
    page = os.sysconf("SC_PAGE_SIZE")
    return int(pages[0]) * page, int(pages[1]) * page


def _open_fds() -> int:
    try:
        return len(os.listdir("/proc/self/fd")) - 1  # less the one listing the directory
    except OSError:
        return 0


def _process_start() -> float:
    """Boot time plus the process's start tick (field 22 of /proc/self/stat)."""
    try:
        with open("/proc/self/stat") as stat, open("/proc/uptime") as uptime:
            fields = stat.read().rsplit(")", 1)[1].split()
            since_boot = float(uptime.read().split()[0])
    except (OSError, IndexError, ValueError):
        return _PROCESS_STARTED
    ticks = int(fields[19])  # fields after the command name start at field 3
    return time.time() - since_boot + ticks / os.sysconf("SC_CLK_TCK")


def as_dict(snapshot: Snapshot) -> dict[str, Any]:
    """The snapshot as an ARO map (``<metrics>`` without a format, JSON over HTTP)."""
    process = snapshot.process
    return {
        "totalExecutions": snapshot.executions,
        "totalSuccesses": snapshot.executions - snapshot.failures,
        "totalFailures": snapshot.failures,
        "uptimeSeconds": round(snapshot.uptime, 3),
        "featureSets": [
            {
                "name": stats.name,
                "businessActivity": stats.activity,
                "executionCount": stats.executions,
                "successCount": stats.successes,
                "failureCount": stats.failures,
                "averageDurationMs": round(stats.average * 1000, 3),
                "minDurationMs": round(stats.shortest * 1000, 3),
                "maxDurationMs": round(stats.longest * 1000, 3),
            }
            for stats in snapshot.feature_sets
        ],
        "processMetrics": {
            "cpuUserTime": round(process.cpu_user, 3),
            "cpuSystemTime": round(process.cpu_system, 3),
            "virtualMemoryBytes": process.virtual_bytes,
            "residentMemoryBytes": process.resident_bytes,
            "openFileDescriptors": process.open_fds,
            "maxFileDescriptors": process.max_fds,
            "processStartTime": round(process.started_at, 3),
        },
    }
