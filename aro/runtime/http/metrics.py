"""What `<metrics>` reports of the server: requests by operation and status, latencies, handler
errors, open connections, WebSocket connections and broadcasts, each labelled with the worker
that counted it; as a snapshot of the whole server and in the Prometheus text format.

The request path only adds to plain counters of this process (``record``): no lock, no file.
``flush`` hands what was added since the last flush to ``prometheus_client``, every second and
before each rendering.  Under ``aro serve`` the workers share ``prometheus_client``'s
multiprocess mode (its directory in :data:`MULTIPROCESS_VARIABLE`): each worker's values live
in files there, and whichever worker answers `/metrics` reads them all, so the answer describes
the whole server (values of other workers are at most a second old).  Under ``aro run`` one
process's registry is read directly.
"""

from __future__ import annotations

import asyncio
import os
from bisect import bisect_left
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aro.net.server import HttpServer
    from aro.runtime.websocket_service import WebSocketService

LATENCY_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0)
MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
FLUSH_SECONDS = 1.0
SINGLE_WORKER = "0"


def _prometheus() -> Any:
    """prometheus_client, imported on first use: a program that starts no HTTP server does not
    pay for its import (a tenth of a second on this project's 2-core box)."""
    import prometheus_client

    # `_created` series: start times nobody asked for, in every family
    prometheus_client.disable_created_metrics()
    return prometheus_client


def worker_exited(pid: int, directory: str) -> None:
    """Drop a dead worker's live gauges (its counters stay in the sums)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid, directory)


class _Families:
    """The metric families, in one registry per Metrics (tests run many apps in a process)."""

    def __init__(self) -> None:
        prometheus = _prometheus()
        self.registry = registry = prometheus.CollectorRegistry()
        self.requests = prometheus.Counter(
            "aro_http_requests",
            "HTTP requests handled, by operation and status.",
            ["operation", "status", "worker"],
            registry=registry,
        )
        self.duration = prometheus.Histogram(
            "aro_http_request_duration_seconds",
            "Time from request to response.",
            ["worker"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.errors = prometheus.Counter(
            "aro_handler_errors",
            "Feature sets that failed while handling a request.",
            ["worker"],
            registry=registry,
        )
        self.open_connections = prometheus.Gauge(
            "aro_http_open_connections",
            "Connections currently open (HTTP and WebSocket).",
            ["worker"],
            multiprocess_mode="livesum",
            registry=registry,
        )
        self.websockets = prometheus.Gauge(
            "aro_websocket_connections",
            "WebSocket connections currently open.",
            ["worker"],
            multiprocess_mode="livesum",
            registry=registry,
        )
        self.broadcasts = prometheus.Counter(
            "aro_websocket_broadcasts",
            "Broadcasts handed to this worker's WebSocket clients (from any worker).",
            ["worker"],
            registry=registry,
        )


class Metrics:
    """Counts of one worker, flushed to ``prometheus_client`` and rendered for `<metrics>`."""

    __slots__ = (
        "_families",
        "_flushed",
        "_timer",
        "errors",
        "latency_buckets",
        "latency_sum",
        "requests",
        "server",
        "websocket",
        "worker",
    )

    def __init__(self, worker: str = "") -> None:
        self.worker = worker or SINGLE_WORKER
        self.requests: dict[tuple[str, int], int] = {}
        self.errors = 0
        self.latency_sum = 0.0
        self.latency_buckets = [0] * (len(LATENCY_BUCKETS) + 1)
        self.server: HttpServer | None = None
        self.websocket: WebSocketService | None = None
        self._families = _Families()
        self._flushed: dict[Any, float] = {}  # what each counter had at the last flush
        self._timer: asyncio.TimerHandle | None = None

    def record(self, operation: str, status: int, seconds: float) -> None:
        key = (operation, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        self.latency_sum += seconds
        # the first bucket whose bound is at least ``seconds`` (past the last: the overflow)
        self.latency_buckets[bisect_left(LATENCY_BUCKETS, seconds)] += 1

    def start(self) -> None:
        """Flush every second from now on (so that other workers' answers see our counts)."""
        self.flush()
        self._timer = asyncio.get_running_loop().call_later(FLUSH_SECONDS, self.start)  # again

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.flush()

    def flush(self) -> None:
        """Hand the counts added since the last flush to ``prometheus_client``."""
        families, worker = self._families, self.worker
        for (operation, status), count in self.requests.items():
            child = families.requests.labels(operation, str(status), worker)
            self._add(("requests", operation, status), count, child.inc)
        duration = families.duration.labels(worker)
        self._add("latency_sum", self.latency_sum, duration._sum.inc)
        # prometheus_client has no public way to add a count to a bucket: its own
        # ``observe`` does just this, one observation at a time
        for index, count in enumerate(self.latency_buckets):
            self._add(("bucket", index), count, duration._buckets[index].inc)
        self._add("errors", self.errors, families.errors.labels(worker).inc)
        open_connections = self.server.open_connections if self.server is not None else 0
        families.open_connections.labels(worker).set(open_connections)
        websocket = self.websocket
        families.websockets.labels(worker).set(len(websocket.hub) if websocket else 0)
        broadcasts = websocket.broadcasts if websocket else 0
        self._add("broadcasts", broadcasts, families.broadcasts.labels(worker).inc)

    def _add(self, key: Any, total: float, add: Any) -> None:
        delta = total - self._flushed.get(key, 0)
        if delta:
            add(delta)
            self._flushed[key] = total

    def snapshot(self) -> dict[str, Any]:
        """The whole server's figures (every worker's, summed), with the Prometheus text."""
        self.flush()
        prometheus = _prometheus()
        registry = self._families.registry
        if MULTIPROCESS_VARIABLE in os.environ:
            from prometheus_client import multiprocess

            registry = prometheus.CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        families = {family.name: family for family in registry.collect()}
        total = _sum(families, "aro_http_requests", "_total")
        latency = _sum(families, "aro_http_request_duration_seconds", "_sum")
        return {
            "requestsTotal": int(total),
            "handlerErrors": int(_sum(families, "aro_handler_errors", "_total")),
            "openConnections": int(_sum(families, "aro_http_open_connections", "")),
            "websocketConnections": int(_sum(families, "aro_websocket_connections", "")),
            "broadcasts": int(_sum(families, "aro_websocket_broadcasts", "_total")),
            "workers": len(_workers(families)),
            "averageLatencyMs": round(latency / total * 1000, 3) if total else 0,
            "prometheus": prometheus.generate_latest(registry).decode(),
        }


def _sum(families: dict[str, Any], name: str, suffix: str) -> float:
    family = families.get(name)
    if family is None:
        return 0.0
    return sum(sample.value for sample in family.samples if sample.name == name + suffix)


def _workers(families: dict[str, Any]) -> set[str]:
    return {
        sample.labels["worker"]
        for family in families.values()
        for sample in family.samples
        if "worker" in sample.labels
    }
