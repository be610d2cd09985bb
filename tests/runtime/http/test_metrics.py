"""The metrics of one worker: plain counts on the request path, handed to prometheus_client
only by ``flush``, which adds what changed since the last flush (so flushing twice counts
nothing twice), and a snapshot of the server's totals."""

from __future__ import annotations

from aro.runtime.http.metrics import Metrics


def sample_lines(text: str, name: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(name)]


def test_flushes_add_only_what_changed() -> None:
    metrics = Metrics("3")
    metrics.record("listMessages", 200, 0.002)
    metrics.flush()
    metrics.flush()
    metrics.record("listMessages", 200, 0.2)
    metrics.record("postMessage", 400, 7.0)
    metrics.errors += 1
    snapshot = metrics.snapshot()
    text = snapshot["prometheus"]
    assert sample_lines(text, "aro_http_requests_total") == [
        'aro_http_requests_total{operation="listMessages",status="200",worker="3"} 2.0',
        'aro_http_requests_total{operation="postMessage",status="400",worker="3"} 1.0',
    ]
    buckets = sample_lines(text, "aro_http_request_duration_seconds_bucket")
    assert buckets[1] == 'aro_http_request_duration_seconds_bucket{le="0.005",worker="3"} 1.0'
    assert buckets[5] == 'aro_http_request_duration_seconds_bucket{le="0.5",worker="3"} 2.0'
    assert buckets[-1] == 'aro_http_request_duration_seconds_bucket{le="+Inf",worker="3"} 3.0'
    assert 'aro_handler_errors_total{worker="3"} 1.0' in text
    assert (snapshot["requestsTotal"], snapshot["handlerErrors"], snapshot["workers"]) == (3, 1, 1)
    assert snapshot["averageLatencyMs"] == round(7.202 / 3 * 1000, 3)


def test_a_worker_without_a_name_is_worker_0() -> None:
    assert 'worker="0"' in Metrics().snapshot()["prometheus"]


def test_a_latency_on_a_bound_counts_in_that_bucket_and_beyond_the_last_overflows() -> None:
    metrics = Metrics()
    for seconds in (0.0, 0.001, 0.0011, 5.0, 5.1):
        metrics.record("op", 200, seconds)
    assert metrics.latency_buckets == [2, 1, 0, 0, 0, 0, 0, 1, 1]
