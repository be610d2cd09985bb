"""``<metrics: short|table|plain|prometheus>``: a metrics snapshot as the reference prints it.

Durations print in milliseconds; dates in local time as ``yyyy-MM-dd HH:mm:ss``.  An unknown
format prints as ``plain``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from aro.runtime.execution_metrics import FeatureSetStats, ProcessMetrics, Snapshot

MEGABYTE = 1_048_576


def _ms(seconds: float) -> float:
    return seconds * 1000


def _shortest_ms(stats: FeatureSetStats) -> float:
    return _ms(stats.shortest) if stats.executions else 0.0


def _local(moment: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(moment))


# -- short -------------------------------------------------------------------------------------


def short(snapshot: Snapshot) -> str:
    process = snapshot.process
    return (
        f"metrics: {snapshot.executions} executions, {len(snapshot.feature_sets)} featuresets, "
        f"avg={_ms(snapshot.average):.1f}ms, uptime={snapshot.uptime:.1f}s, "
        f"cpu={process.cpu_total:.2f}s, mem={process.resident_bytes / MEGABYTE:.1f}MB, "
        f"fds={process.open_fds}/{process.max_fds}"
    )


# -- plain -------------------------------------------------------------------------------------


def plain(snapshot: Snapshot) -> str:
    lines = [
        f"Feature Set Metrics ({snapshot.executions} total executions, "
        f"uptime: {snapshot.uptime:.1f}s)",
        "",
    ]
    if not snapshot.feature_sets:
        lines.append("No feature sets executed yet.")
    for stats in snapshot.feature_sets:
        shortest = f"{_shortest_ms(stats):.1f}ms" if stats.executions else "N/A"
        lines += [
            f"{stats.name} ({stats.activity})",
            f"  Executions: {stats.executions} (success: {stats.successes}, "
            f"failed: {stats.failures})",
            f"  Duration: avg={_ms(stats.average):.1f}ms, min={shortest}, "
            f"max={_ms(stats.longest):.1f}ms",
            "",
        ]
    process = snapshot.process
    lines += [
        "System Metrics:",
        f"  CPU: user={process.cpu_user:.3f}s, system={process.cpu_system:.3f}s, "
        f"total={process.cpu_total:.3f}s",
        f"  Memory: virtual={process.virtual_bytes / MEGABYTE:.2f}MB, "
        f"resident={process.resident_bytes / MEGABYTE:.2f}MB",
        f"  File Descriptors: {process.open_fds} / {process.max_fds}",
        f"  Process Start: {_local(process.started_at)}",
    ]
    return "\n".join(lines)


# -- table -------------------------------------------------------------------------------------

_COLUMNS = (("Count", 7), ("Success", 9), ("Failed", 8), ("Avg(ms)", 9), ("Max(ms)", 9))
_LABEL_WIDTH, _VALUE_WIDTH = 24, 20


def _rule(*widths: int) -> str:
    return "+" + "+".join("-" * (width + 2) for width in widths) + "+"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def table(snapshot: Snapshot) -> str:
    if not snapshot.feature_sets:
        return "No metrics collected yet."
    name_width = max(13, *(len(stats.name) for stats in snapshot.feature_sets))
    rule = _rule(name_width, *(width for _, width in _COLUMNS))
    header = [title.ljust(width) for title, width in _COLUMNS]
    lines = [rule, _row(["Feature Set".ljust(name_width), *header]), rule]

    def numbers(name: str, count: int, failed: int, average: float, longest: float) -> str:
        figures = (count, count - failed, failed, f"{_ms(average):.2f}", f"{_ms(longest):.2f}")
        widths = (width for _, width in _COLUMNS)
        cells = [str(figure).rjust(width) for figure, width in zip(figures, widths, strict=True)]
        return _row([name.ljust(name_width), *cells])

    for stats in snapshot.feature_sets:
        lines.append(
            numbers(stats.name, stats.executions, stats.failures, stats.average, stats.longest)
        )
    total = snapshot
    lines += [
        rule,
        numbers("TOTAL", total.executions, total.failures, total.average, total.longest),
        rule,
        "",
        _system_table(snapshot.process, snapshot.uptime),
    ]
    return "\n".join(lines)


def _system_table(process: ProcessMetrics, uptime: float) -> str:
    rule = _rule(_LABEL_WIDTH, _VALUE_WIDTH)
    rows = (
        ("CPU User Time", f"{process.cpu_user:.3f}s"),
        ("CPU System Time", f"{process.cpu_system:.3f}s"),
        ("CPU Total Time", f"{process.cpu_total:.3f}s"),
        ("Virtual Memory", f"{process.virtual_bytes / MEGABYTE:.2f} MB"),
        ("Resident Memory", f"{process.resident_bytes / MEGABYTE:.2f} MB"),
        ("File Descriptors", f"{process.open_fds} / {process.max_fds}"),
        ("Process Start Time", _local(process.started_at)),
        ("Uptime", f"{uptime:.2f}s"),
    )
    lines = [rule, _row(["System Metrics".ljust(_LABEL_WIDTH), "Value".ljust(_VALUE_WIDTH)]), rule]
    lines += [_row([label.ljust(_LABEL_WIDTH), value.rjust(_VALUE_WIDTH)]) for label, value in rows]
    lines.append(rule)
    return "\n".join(lines)


# -- prometheus --------------------------------------------------------------------------------


def _label(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


# name, help, type, the value of one feature set
_PER_FEATURE_SET: tuple[tuple[str, str, str, Callable[[FeatureSetStats], str]], ...] = (
    ("aro_featureset_executions_total", "Total number of feature set executions", "counter",
     lambda s: str(s.executions)),
    ("aro_featureset_success_total", "Total successful executions", "counter",
     lambda s: str(s.successes)),
    ("aro_featureset_failures_total", "Total failed executions", "counter",
     lambda s: str(s.failures)),
    ("aro_featureset_duration_ms_avg", "Average execution duration in milliseconds", "gauge",
     lambda s: f"{_ms(s.average):.2f}"),
    ("aro_featureset_duration_ms_max", "Maximum execution duration in milliseconds", "gauge",
     lambda s: f"{_ms(s.longest):.2f}"),
    ("aro_featureset_duration_ms_min", "Minimum execution duration in milliseconds", "gauge",
     lambda s: f"{_shortest_ms(s):.2f}"),
)  # fmt: skip


def _process_samples(snapshot: Snapshot) -> tuple[tuple[str, str, str, str], ...]:
    process = snapshot.process
    return (
        ("aro_application_uptime_seconds", "Application uptime in seconds", "gauge",
         f"{snapshot.uptime:.2f}"),
        ("aro_process_cpu_user_seconds", "CPU time spent in user mode", "counter",
         f"{process.cpu_user:.4f}"),
        ("aro_process_cpu_system_seconds", "CPU time spent in system mode", "counter",
         f"{process.cpu_system:.4f}"),
        ("aro_process_virtual_memory_bytes", "Virtual memory size in bytes", "gauge",
         str(process.virtual_bytes)),
        ("aro_process_resident_memory_bytes", "Resident memory size in bytes", "gauge",
         str(process.resident_bytes)),
        ("aro_process_open_fds", "Number of open file descriptors", "gauge",
         str(process.open_fds)),
        ("aro_process_max_fds", "Maximum number of file descriptors", "gauge",
         str(process.max_fds)),
        ("aro_process_start_time_seconds", "Process start time in Unix epoch seconds", "gauge",
         f"{process.started_at:.2f}"),
    )  # fmt: skip


def prometheus(snapshot: Snapshot) -> str:
    """The Prometheus text format: one block per metric, blocks separated by a blank line."""
    blocks = []
    for name, help_text, kind, value in _PER_FEATURE_SET:
        block = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
        for stats in snapshot.feature_sets:
            labels = f'featureset="{_label(stats.name)}",activity="{_label(stats.activity)}"'
            block.append(f"{name}{{{labels}}} {value(stats)}")
        blocks.append("\n".join(block))
    for name, help_text, kind, sample in _process_samples(snapshot):
        blocks.append(f"# HELP {name} {help_text}\n# TYPE {name} {kind}\n{name} {sample}")
    return "\n\n".join(blocks)


FORMATS: dict[str, Callable[[Snapshot], str]] = {
    "short": short,
    "plain": plain,
    "table": table,
    "prometheus": prometheus,
}


def render(snapshot: Snapshot, form: str) -> str:
    return FORMATS.get(form.lower(), plain)(snapshot)
