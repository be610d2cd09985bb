"""The scenarios of ``python -m bench``: each runs ours and the peers in this same run, through
the existing harnesses (``ws_load``, ``http_load`` and the pytest-benchmark files), and answers
its tables.  Every harness bounds its loops in count and time, uses 127.0.0.1 only and stops
each server it started by PID."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from bench import http_load, ws_load
from bench.report import OURS, Table
from bench.test_bench_repository import ROWS_FOR_MEMORY, memory_per_stored_message

ROOT = Path(__file__).resolve().parent.parent
WS_SERVERS = ("ours", "picows", "websockets")
COMPILE_TARGET_US = 20.0  # per statement, issue 14
PYTEST_TIMEOUT_S = 300
QUICK_STORED_ROWS = 5000

Scenario = Callable[[bool], list[Table]]


def _label(server: str) -> str:
    if server in ws_load.WORKER_SERVERS:  # serve-2-redis: aro-py serve-2-redis
        return f"{OURS} {server}"
    return OURS if server in ("ours", "aro") else server


# -- micro-benchmarks through pytest-benchmark -------------------------------------------------


def _pytest_benchmarks(selection: list[str], quick: bool, timer: str | None = None) -> list[dict]:
    """Run pytest-benchmark on ``selection`` (files or node ids); its JSON report's entries."""
    timing = ["--benchmark-max-time=0.05", "--benchmark-min-rounds=3"] if quick else []
    timing += [f"--benchmark-timer={timer}"] if timer else []
    with tempfile.TemporaryDirectory(prefix="aro-bench-") as workdir:
        report = Path(workdir) / "benchmarks.json"
        command = [
            sys.executable, "-m", "pytest", *selection, "-q", "-p", "no:cacheprovider",
            "--benchmark-enable", f"--benchmark-json={report}", *timing,
        ]  # fmt: skip
        # pytest-benchmark measures nothing inside an xdist worker, which it tells by these
        # variables: a run started from one (our own test of this) must not inherit them.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
        done = subprocess.run(command, cwd=ROOT, timeout=PYTEST_TIMEOUT_S, capture_output=True,
                              text=True, env=env)  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"pytest {' '.join(selection)} failed:\n{done.stdout[-2000:]}")
        return json.loads(report.read_text())["benchmarks"]


def codec(quick: bool) -> list[Table]:
    """WebSocket frame parse/encode and a 1,000-subscriber broadcast, ours (compiled and the
    pure-Python twin) against picows' and websockets' codecs."""
    names = {"compiled": OURS, "pure": f"{OURS} (pure)"}
    table = Table("codec", "WebSocket codec", "µs per call (median)", lower_is_better=True)
    for entry in _pytest_benchmarks(["bench/test_bench_codec.py"], quick):
        params = dict(entry.get("params") or {})
        contender = params.pop("contender")
        case = entry["name"].split("[")[0].removeprefix("test_").replace("_", " ")
        case = " ".join([case, *params.values()])
        table.add(case, names.get(contender, contender), entry["stats"]["median"] * 1e6)
    return [table]


def compile_speed(quick: bool) -> list[Table]:
    """A 1,000-statement application compiled cold and loaded from the compile cache, against
    the target; the figure is per statement."""
    from bench.test_bench_compile import STATEMENTS

    table = Table("compile", "Compile speed, 1,000 statements", "µs per statement",
                  lower_is_better=True)  # fmt: skip
    cases = {
        "test_load_1000_statements_cold": "cold: lex, parse, compile",
        "test_load_1000_statements_from_the_cache": "from the compile cache",
    }
    # CPU time of the process, not wall time: a shared box's other work only adds wall time
    # to a run this long (tens of milliseconds), and it is not what compiling costs.
    for entry in _pytest_benchmarks(["bench/test_bench_compile.py"], quick, "time.process_time"):
        case = cases[entry["name"]]
        table.add(case, OURS, entry["stats"]["min"] * 1e6 / STATEMENTS)
        table.add(case, "target", COMPILE_TARGET_US)
    table.notes.append("process CPU time, min of the rounds")
    return [table]


def stored_message(quick: bool) -> list[Table]:
    """Bytes each stored chat message costs: our repository against the plain list of dicts
    with an id that the aiohttp peer keeps."""
    ours, plain = memory_per_stored_message(QUICK_STORED_ROWS if quick else ROWS_FOR_MEMORY)
    table = Table("stored", "Memory per stored chat message", "bytes (tracemalloc)",
                  lower_is_better=True)  # fmt: skip
    table.add("per stored message", OURS, ours)
    table.add("per stored message", "list of dicts (aiohttp peer)", plain)
    return [table]


# -- servers under load --------------------------------------------------------------------------


@contextlib.contextmanager
def _load_client() -> Iterator[None]:
    """The load client on CPU 1 (servers run on CPU 0) with every file descriptor it may
    open; the affinity is restored afterwards."""
    before = os.sched_getaffinity(0)
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if len(before) >= 2:
        os.sched_setaffinity(0, {ws_load.CLIENT_CPU})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def _ws_runs(mode: str, options: list[str], table: Table,
             servers: tuple[str, ...] = WS_SERVERS) -> dict[str, dict]:
    """ws_load's ``mode`` against every server; a server that fails becomes a note."""
    args = ws_load.parse_args([mode, *options])
    results = {}
    with _load_client():
        for server in servers:
            try:
                results[_label(server)] = ws_load.run_one(server, args)
            except (RuntimeError, OSError) as error:
                table.notes.append(f"{server} failed: {error}")
    return results


def echo(quick: bool) -> list[Table]:
    options = ["--messages", "10000", "--warmup", "500", "--duration", "2"] if quick else []
    table = Table("echo", "WebSocket echo, 16 connections, 64 B", "server CPU µs per message",
                  lower_is_better=True)  # fmt: skip
    for name, result in _ws_runs("echo", options, table).items():
        table.add("echo", name, result["server_cpu_us_per_msg"])
        table.notes.append(f"{name}: {result['msgs_per_s']:,.0f} msg/s, "
                           f"p99 {result['p99_ms']:.2f} ms")  # fmt: skip
    return [table]


FANOUT_RATE = 40  # broadcasts per second: 40,000 deliveries/s, which every peer sustains here


def fanout(quick: bool) -> list[Table]:
    cpu = Table("fanout", "Broadcast fan-out, 4 broadcasts in flight",
                "server CPU µs per delivery", lower_is_better=True)  # fmt: skip
    p99 = Table("fanout_p99", "Broadcast fan-out: delivery latency p99", "ms",
                lower_is_better=True)  # fmt: skip
    for subscribers in (1000, 5000):
        # Quick: 50,000 deliveries and a short warm-up; opening the connections and
        # starting each server is most of the time then.
        broadcasts = (50 if quick else 1000) * 1000 // subscribers
        options = ["--subs", str(subscribers), "--messages", str(broadcasts)]
        if quick:
            options += ["--warmup", str(max(2, 5000 // subscribers)), "--duration", "2"]
        case = f"{subscribers:,} subscribers"
        # aro serve's workers too: --workers 1, 2 on the relay, 2 on a private Redis.
        servers = WS_SERVERS + tuple(ws_load.WORKER_SERVERS)
        for name, result in _ws_runs("fanout", options, cpu, servers).items():
            cpu.add(case, name, result["server_cpu_us_per_delivery"])
            p99.add(case, name, result["p99_ms"])
            cpu.notes.append(f"{case}, {name}: {result['deliveries_per_s']:,.0f} deliveries/s")
    # Each server above runs at its own pace, so a faster one queues more at the client and
    # its p99 grows with its speed; at one rate every server carries the same load.
    rate = FANOUT_RATE
    options = ["--subs", "1000", "--rate", str(rate), "--messages", str(rate * (1 if quick else 5))]
    if quick:
        options += ["--warmup", "5", "--duration", "2"]
    case = f"1,000 subscribers, {rate} broadcasts/s"
    for name, result in _ws_runs("fanout", options, cpu).items():
        cpu.add(case, name, result["server_cpu_us_per_delivery"])
        p99.add(case, name, result["p99_ms"])
    return [cpu, p99]


def latency(quick: bool) -> list[Table]:
    """A quiet chat: 10 subscribers, one broadcast at a time (the next only once every
    subscriber got the last)."""
    options = ["--subs", "10", "--window", "1", "--warmup", "20"]
    options += ["--messages", "100" if quick else "2000", "--duration", "2" if quick else "10"]
    table = Table("latency", "Low-rate delivery latency, 10 subscribers, one at a time",
                  "ms from POST to delivery", lower_is_better=True)  # fmt: skip
    for name, result in _ws_runs("fanout", options, table).items():
        table.add("p50", name, result["p50_ms"])
        table.add("p99", name, result["p99_ms"])
    return [table]


def idle_websocket(quick: bool) -> list[Table]:
    options = ["--conns", "1000", "--settle", "0.5"] if quick else []
    table = Table("idle", "Memory per idle WebSocket", "KiB of server RSS per connection",
                  lower_is_better=True)  # fmt: skip
    for name, result in _ws_runs("memory", options, table).items():
        table.add(f"{result['conns']:,} idle connections", name, result["kib_per_conn"])
    return [table]


def _wrk_bests(quick: bool, options: list[str], table: Table) -> dict[str, dict]:
    """http_load's best run per server and scenario (``{server: {scenario: WrkResult}}``); what
    cannot run, or has no clean run, becomes a note of ``table``."""
    missing = http_load.missing_prerequisites()
    if missing:
        table.notes += [f"skipped: {problem}" for problem in missing]
        return {}
    # wrk takes whole seconds only.
    timing = ["--duration", "2", "--warmup", "0.5", "--quiet-wait", "0"] if quick else []
    parsed = http_load.parse_options(timing + options)
    with tempfile.TemporaryDirectory(prefix="aro-http-load-") as workdir:
        runs, _ = http_load.run_rounds(parsed, Path(workdir))
    bests: dict[str, dict] = {}
    for server, scenarios in runs.items():
        for scenario, results in scenarios.items():
            best = http_load.best(results)
            if best is None:
                problems = "; ".join(p for result in results for p in result.problems)
                table.notes.append(f"{server} {scenario}: no clean run ({problems[:300]})")
                continue
            bests.setdefault(server, {})[scenario] = best
    return bests


def http(quick: bool) -> list[Table]:
    """GET /messages (20 stored) and POST /messages (store + 201) under wrk, against
    FastAPI/uvicorn and aiohttp, each storing every message under a fresh id."""
    rate = Table("http", "HTTP, wrk 64 connections", "requests per second",
                 lower_is_better=False)  # fmt: skip
    cpu = Table("http_cpu", "HTTP: server CPU per request", "µs", lower_is_better=True)
    for server, scenarios in _wrk_bests(quick, [], rate).items():
        for scenario, best in scenarios.items():
            rate.add(f"{scenario} /messages", _label(server), best.rps)
            cpu.add(f"{scenario} /messages", _label(server), best.server_cpu_us)
    return [rate, cpu] if rate.rows else [rate]


def http_workers(quick: bool) -> list[Table]:
    """GET /messages with one and two worker processes on one port: ``aro serve`` on a SQLite
    store, and aiohttp run the same way (a parent, N processes, SO_REUSEPORT), plain and
    HTTP/1.1-pipelined, wrk unpinned on the same two cores."""
    rate = Table("http_workers", "HTTP GET /messages, 1 and 2 worker processes",
                 "requests per second", lower_is_better=False)  # fmt: skip
    scaling = Table("http_workers_scaling", "HTTP GET: 2 workers / 1 worker, on 2 cores",
                    "times the 1-worker rate", lower_is_better=False)  # fmt: skip
    options = ["--servers", "aro-w1,aro-w2,aiohttp-w1,aiohttp-w2", "--no-pin",
               "--scenarios", "GET,GET-pipelined"]  # fmt: skip
    bests = _wrk_bests(quick, options, rate)
    for family, contender in (("aro", OURS), ("aiohttp", "aiohttp")):
        one, two = bests.get(f"{family}-w1", {}), bests.get(f"{family}-w2", {})
        for scenario in set(one) & set(two):
            rate.add(f"{scenario}, 1 worker", contender, one[scenario].rps)
            rate.add(f"{scenario}, 2 workers", contender, two[scenario].rps)
            scaling.add(scenario, contender, two[scenario].rps / one[scenario].rps)
            scaling.add(scenario, "target", http_load.WORKERS_TARGET)
            ceiling = http_load.two_core_ceiling(one[scenario], two[scenario])
            scaling.notes.append(f"{contender} {scenario}: 2-core ceiling {ceiling:.2f}x (server "
                                 f"{two[scenario].server_cpu_us:.0f} µs, wrk "
                                 f"{two[scenario].client_cpu_us:.0f} µs per request)")  # fmt: skip
    return [rate, scaling] if scaling.rows else [rate]


SCENARIOS: dict[str, Scenario] = {
    "codec": codec,
    "compile": compile_speed,
    "stored": stored_message,
    "echo": echo,
    "fanout": fanout,
    "latency": latency,
    "http": http,
    "http_workers": http_workers,
    "idle": idle_websocket,
}


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run every benchmark against the peers in one run; print ratio tables "
        "and draw them as charts.",
    )
    parser.add_argument("--quick", action="store_true", help="short runs: under two minutes")
    parser.add_argument("--only", nargs="+", choices=list(SCENARIOS), metavar="NAME",
                        help=f"run only these: {', '.join(SCENARIOS)}")  # fmt: skip
    parser.add_argument("--charts", type=Path, default=ROOT / "bench" / "charts",
                        help="directory for the PNG charts (bench/charts)")  # fmt: skip
    return parser.parse_args(argv)
