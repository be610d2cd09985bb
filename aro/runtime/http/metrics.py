"""What `<metrics>` reports of the HTTP server: requests by operation and status, latencies,
handler errors and open connections, as a snapshot and in the Prometheus text format."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aro.net.server import HttpServer

LATENCY_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0)


class Metrics:
    """Request counts, latencies and errors, rendered for `<metrics>`."""

    __slots__ = ("errors", "latency_buckets", "latency_sum", "requests", "server")

    def __init__(self) -> None:
        self.requests: dict[tuple[str, int], int] = {}
        self.errors = 0
        self.latency_sum = 0.0
        self.latency_buckets = [0] * (len(LATENCY_BUCKETS) + 1)
        self.server: HttpServer | None = None

    def record(self, operation: str, status: int, seconds: float) -> None:
        key = (operation, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        self.latency_sum += seconds
        for index, bound in enumerate(LATENCY_BUCKETS):
            if seconds <= bound:
                self.latency_buckets[index] += 1
                return
        self.latency_buckets[-1] += 1

    def snapshot(self) -> dict[str, Any]:
        total = sum(self.requests.values())
        return {
            "requestsTotal": total,
            "handlerErrors": self.errors,
            "openConnections": self.server.open_connections if self.server else 0,
            "averageLatencyMs": round(self.latency_sum / total * 1000, 3) if total else 0,
            "prometheus": self.prometheus(),
        }

    def prometheus(self) -> str:
        """The Prometheus text exposition format (version 0.0.4)."""
        lines = [
            "# HELP aro_http_requests_total HTTP requests handled, by operation and status.",
            "# TYPE aro_http_requests_total counter",
        ]
        for (operation, status), count in sorted(self.requests.items()):
            lines.append(
                f'aro_http_requests_total{{operation="{operation}",status="{status}"}} {count}'
            )
        lines += [
            "# HELP aro_http_request_duration_seconds Time from request to response.",
            "# TYPE aro_http_request_duration_seconds histogram",
        ]
        cumulative = 0
        for bound, count in zip((*LATENCY_BUCKETS, "+Inf"), self.latency_buckets, strict=True):
            cumulative += count
            lines.append(f'aro_http_request_duration_seconds_bucket{{le="{bound}"}} {cumulative}')
        lines.append(f"aro_http_request_duration_seconds_sum {self.latency_sum:.6f}")
        lines.append(f"aro_http_request_duration_seconds_count {cumulative}")
        open_connections = self.server.open_connections if self.server else 0
        lines += [
            "# HELP aro_http_open_connections Connections currently open.",
            "# TYPE aro_http_open_connections gauge",
            f"aro_http_open_connections {open_connections}",
            "# HELP aro_handler_errors_total Feature sets that failed while handling a request.",
            "# TYPE aro_handler_errors_total counter",
            f"aro_handler_errors_total {self.errors}",
        ]
        return "\n".join(lines) + "\n"
