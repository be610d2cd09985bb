"""Feature-set metrics: what is counted, and the four formats of ``<metrics: …>``."""

import time

from aro.runtime.execution_metrics import FeatureSetStats, ProcessMetrics, Snapshot, process_metrics
from aro.runtime.metrics_formats import render
from tests.support.inproc import run_program


def stats(name: str, activity: str, durations: list[float], failures: int = 0) -> FeatureSetStats:
    figures = FeatureSetStats(name, activity)
    figures.executions, figures.failures = len(durations), failures
    figures.total = sum(durations)
    figures.shortest, figures.longest = min(durations), max(durations)
    return figures


START = 1_700_000_000.0
SNAPSHOT = Snapshot(
    [stats("Application-Start", "Shop", [0.010]),
     stats("Handle Order", "OrderPlaced Handler", [0.002, 0.004], failures=1)],
    ProcessMetrics(1.25, 0.5, 100 * 1_048_576, 30 * 1_048_576, 12, 1024, START),
    3.456,
)  # fmt: skip
STARTED = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(START))


def test_short_is_one_line_of_totals():
    assert render(SNAPSHOT, "short") == (
        "metrics: 3 executions, 2 featuresets, avg=5.3ms, uptime=3.5s, cpu=1.75s, mem=30.0MB,"
        " fds=12/1024"
    )




def test_table_has_a_row_per_feature_set_a_total_and_the_system_figures():
    assert render(SNAPSHOT, "TABLE").splitlines() == [
        '+-------------------+---------+-----------+----------+-----------+-----------+',
        '| Feature Set       | Count   | Success   | Failed   | Avg(ms)   | Max(ms)   |',
        '+-------------------+---------+-----------+----------+-----------+-----------+',
        '| Application-Start |       1 |         1 |        0 |     10.00 |     10.00 |',
        '| Handle Order      |       2 |         1 |        1 |      3.00 |      4.00 |',
        '+-------------------+---------+-----------+----------+-----------+-----------+',
        '| TOTAL             |       3 |         2 |        1 |      5.33 |     10.00 |',
        '+-------------------+---------+-----------+----------+-----------+-----------+',
        '',
        '+--------------------------+----------------------+',
        '| System Metrics           | Value                |',
        '+--------------------------+----------------------+',
        '| CPU User Time            |               1.250s |',
        '| CPU System Time          |               0.500s |',
        '| CPU Total Time           |               1.750s |',
        '| Virtual Memory           |            100.00 MB |',
        '| Resident Memory          |             30.00 MB |',
        '| File Descriptors         |            12 / 1024 |',
        f"| Process Start Time       | {STARTED:>20} |",
        '| Uptime                   |                3.46s |',
        '+--------------------------+----------------------+',
    ]


def test_plain_describes_each_feature_set_then_the_process():
    assert render(SNAPSHOT, "plain").splitlines() == [
        'Feature Set Metrics (3 total executions, uptime: 3.5s)',
        '',
        'Application-Start (Shop)',
        '  Executions: 1 (success: 1, failed: 0)',
        '  Duration: avg=10.0ms, min=10.0ms, max=10.0ms',
        '',
        'Handle Order (OrderPlaced Handler)',
        '  Executions: 2 (success: 1, failed: 1)',
        '  Duration: avg=3.0ms, min=2.0ms, max=4.0ms',
        '',
        'System Metrics:',
        '  CPU: user=1.250s, system=0.500s, total=1.750s',
        '  Memory: virtual=100.00MB, resident=30.00MB',
        '  File Descriptors: 12 / 1024',
        f"  Process Start: {STARTED}",
    ]
    assert render(SNAPSHOT, "unknown") == render(SNAPSHOT, "plain")


def test_prometheus_has_a_help_and_type_per_series_and_labels_per_feature_set():
    blocks = render(SNAPSHOT, "prometheus").split("\n\n")
    assert len(blocks) == 14
    assert blocks[2].splitlines() == [
        "# HELP aro_featureset_failures_total Total failed executions",
        "# TYPE aro_featureset_failures_total counter",
        'aro_featureset_failures_total{featureset="Application-Start",activity="Shop"} 0',
        'aro_featureset_failures_total{featureset="Handle Order",activity="OrderPlaced Handler"} 1',
    ]
    assert blocks[5].splitlines()[-1].endswith("} 2.00")  # the shortest run of Handle Order
    assert blocks[-1].splitlines()[-1] == "aro_process_start_time_seconds 1700000000.00"


def test_nothing_run_yet_is_said_so():
    empty = Snapshot([], SNAPSHOT.process, 0.0)
    assert render(empty, "table") == "No metrics collected yet."
    assert render(empty, "plain").splitlines()[2] == "No feature sets executed yet."
    assert render(empty, "short").startswith("metrics: 0 executions, 0 featuresets, avg=0.0ms")


def test_the_process_figures_come_from_the_system():
    figures = process_metrics()
    assert figures.cpu_total > 0 and figures.resident_bytes > 0
    assert 0 < figures.open_fds < figures.max_fds
    assert figures.started_at <= time.time()


def test_every_feature_set_run_is_counted_with_its_failures():
    outcome = run_program(
        """
        (Application-Start: Shop) {
            Emit a <OrderPlaced: event> with { id: 1 }.
            Emit a <OrderPlaced: event> with { id: 2 }.
        }
        (Handle Order: OrderPlaced Handler) {
            Throw a <Conflict: error> for the <order> when <event: id> == 2.
        }
        (Application-End: Success) {
            Log the <metrics: prometheus> to the <console>.
            Log the <metrics> to the <console>.
        }
        """
    )
    text = outcome.stdout
    handler = 'featureset="Handle Order",activity="OrderPlaced Handler"'
    assert f"aro_featureset_executions_total{{{handler}}} 2" in text
    assert f"aro_featureset_failures_total{{{handler}}} 1" in text
    assert 'aro_featureset_success_total{featureset="Application-Start",activity="Shop"} 1' in text
    assert "[Application-End] Feature Set Metrics (3 total executions" in text  # plain by default
