"""HTTP load benchmark: our server against FastAPI/uvicorn and aiohttp serving the same API.

Every server serves the Messages API (``GET /messages`` lists, ``POST /messages`` stores a JSON
message and answers 201): ours runs ``bench/apps/MessagesAPI`` through the VM, the peers are
``bench/peers/*_app.py``.  Each in turn is started on a free 127.0.0.1 port, seeded with the same
messages, warmed up, loaded with ``wrk`` (GET, then POST) and stopped by its PID, so all figures
come from one run on one machine and only the ratios are meant to be compared (the targets
of docs/performance.md: ours at least 2x FastAPI/uvicorn and 1x aiohttp).

wrk settings for a 2-core box (docs/performance.md, How we measure): one wrk thread, 64 connections,
and the server pinned to CPU 0 with wrk on CPU 1 so the client does not steal the server's core.
The server's CPU time is read from /proc before and after each run, which gives CPU µs per request:
a figure that does not depend on how much CPU the client left over.  The box is shared, so each run
first waits (bounded) for it to be idle, reports the CPU everything else used while it ran, and
``--rounds N`` keeps the best of N runs: a neighbour can only ever slow a run down.

Installs nothing (exit 2 says what is missing; see bench/requirements.txt).  Exit 1 when a server
fails or answers errors.  Run: ``python bench/http_load.py [--duration 5] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib.util
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PATH = "/messages"
SEED_BODY = '{"message":"hello from the seed"}'
POST_BODY = '{"message":"hi"}'
PEER_MODULES = ("fastapi", "uvicorn", "aiohttp", "uvloop", "httptools", "pydantic")
SERVER_CPU, CLIENT_CPU = 0, 1
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 5.0
OTHER_CORES_WARNING = 0.15  # foreign CPU load above which a run is flagged
TARGETS = {"fastapi": 2.0, "aiohttp": 1.0}  # ours / peer, docs/performance.md
SQLITE_TARGET = 0.7  # aro-sqlite / aro: the SQLite store against memory (docs/stores.md)
WORKERS_TARGET = 1.7  # aro-w2 / aro-w1: two workers against one on GET (docs/guide/deploying.md)
POST_LUA = f"""wrk.method = "POST"
wrk.body = '{POST_BODY}'
wrk.headers["Content-Type"] = "application/json"
"""


@dataclass(frozen=True)
class Server:
    """How to start one contender; ``argv`` gets the port to listen on and the run's scratch
    directory."""

    name: str
    label: str
    argv: Callable[[int, Path], list[str]]
    tree: Path = ROOT  # the checkout whose ``aro`` package runs (``--baseline`` sets another)
    pinned: bool = True  # False: several processes that need every core (aro serve's workers)


def aro_server(
    name: str, label: str, tree: Path, sqlite: bool = False, workers: int | None = None
) -> Server:
    """Our server from ``tree``, always serving this checkout's app (the same ARO source);
    with ``sqlite``, its messages in a fresh SQLite file (``--store sqlite:PATH``); with
    ``workers``, ``aro serve --workers N`` instead of ``aro run``."""

    def argv(port: int, workdir: Path) -> list[str]:
        store = ["--store", f"sqlite:{workdir / f'messages-{port}.sqlite'}"] if sqlite else []
        app = str(ROOT / "bench/apps/MessagesAPI")
        command = ["run"] if workers is None else ["serve", "--workers", str(workers)]
        return [sys.executable, "-m", "aro", *command, app, "--port", str(port), *store]

    return Server(name, label, argv, tree, pinned=workers is None)


SERVERS = (
    aro_server("aro", "aro-py (VM)", ROOT),
    aro_server("aro-sqlite", "aro-py sqlite", ROOT, sqlite=True),
    # aro serve, one worker against two, both on one SQLite file so that only the workers differ
    aro_server("aro-w1", "aro serve -w1", ROOT, sqlite=True, workers=1),
    aro_server("aro-w2", "aro serve -w2", ROOT, sqlite=True, workers=2),
    Server(
        "fastapi",
        "FastAPI/uvicorn",
        lambda port, _: [
            sys.executable, str(ROOT / "bench/peers/fastapi_app.py"), "--port", str(port)
        ],
    ),
    Server(
        "aiohttp",
        "aiohttp",
        lambda port, _: [
            sys.executable, str(ROOT / "bench/peers/aiohttp_app.py"), "--port", str(port)
        ],
    ),
)  # fmt: skip


@dataclass
class WrkResult:
    """What one wrk run measured, and what makes the figure wrong or suspect."""

    requests: int = 0
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    server_cpu_us: float = 0.0  # server CPU per request
    client_cores: float = 0.0  # wrk's CPU time / wall time: near 1.0 means wrk was the limit
    other_cores: float = 0.0  # CPU used by everything else on the box during the run
    problems: list[str] = field(default_factory=list)  # errors: the run does not count
    notes: list[str] = field(default_factory=list)  # warnings: the run counts, with care


# -- prerequisites ---------------------------------------------------------------------------


def missing_prerequisites() -> list[str]:
    """What to install before the benchmark can run; empty when everything is there."""
    missing = []
    if shutil.which("wrk") is None:
        missing.append("wrk is not on PATH: apt-get install -y wrk (Debian package 'wrk')")
    absent = [name for name in PEER_MODULES if importlib.util.find_spec(name) is None]
    if absent:
        missing.append(
            f"peer packages not importable ({', '.join(absent)}): "
            "pip install -r bench/requirements.txt"
        )
    return missing


# -- servers ---------------------------------------------------------------------------------


def free_port() -> int:
    """A port the kernel just handed out on 127.0.0.1 (free unless someone races us)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def pinned_to(cpu: int | None) -> Callable[[], None] | None:
    """A ``preexec_fn`` that pins the child to one CPU, or None to leave it."""
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


def start_server(server: Server, port: int, cpu: int | None, log: Path) -> subprocess.Popen:
    """Start the server with its output in ``log``, a file, so that a chatty server can never
    block on a full pipe while wrk runs."""
    env = {**os.environ, "PYTHONPATH": str(server.tree), "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as sink:
        return subprocess.Popen(
            server.argv(port, log.parent),
            cwd=server.tree,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            preexec_fn=pinned_to(cpu),
        )


def wait_accepting(process: subprocess.Popen, port: int, timeout: float) -> None:
    """Return once the port accepts connections; raise if the server dies or is too slow."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with status {process.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"server did not accept on port {port} within {timeout:.0f} s")


def stop_server(process: subprocess.Popen) -> None:
    """SIGTERM the server we started (by its PID), then SIGKILL it if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT_S)


@contextlib.contextmanager
def running(server: Server, cpu: int | None, workdir: Path) -> Iterator[tuple[int, int]]:
    """A started, accepting server as (pid, port); always stopped afterwards."""
    port = free_port()
    log = workdir / f"{server.name}.log"
    process = start_server(server, port, cpu, log)
    try:
        wait_accepting(process, port, START_TIMEOUT_S)
        yield process.pid, port
    except RuntimeError as error:
        tail = log.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{error}\n{tail}") from None
    finally:
        stop_server(process)


# -- HTTP checks and seeding -----------------------------------------------------------------


def request(port: int, method: str, body: str | None = None) -> tuple[int, bytes]:
    """One request on a fresh connection: (status, body)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        connection.request(method, PATH, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def seed(port: int, count: int) -> int:
    """POST ``count`` messages, check the list has them, and return the GET body's size in
    bytes (the peers are written to give the same bytes as ours)."""
    for _ in range(count):
        status, body = request(port, "POST", SEED_BODY)
        if status != 201:
            raise RuntimeError(f"seeding POST answered {status}: {body[:200]!r}")
    status, body = request(port, "GET")
    stored = json.loads(body).get("data") if status == 200 else None
    if not isinstance(stored, list) or len(stored) != count:
        raise RuntimeError(f"GET after seeding answered {status}: {body[:200]!r}")
    return len(body)


# -- wrk -------------------------------------------------------------------------------------

UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_latency(text: str, percentile: str) -> float:
    """A percentile from wrk's ``--latency`` table, in ms (0.0 when absent)."""
    match = re.search(rf"^\s*{percentile}%\s+([\d.]+)(us|ms|s)\s*$", text, re.MULTILINE)
    return float(match.group(1)) * UNIT_MS[match.group(2)] if match else 0.0


def parse_wrk(text: str) -> WrkResult:
    """The figures and the error counters of wrk's report."""
    result = WrkResult()
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.MULTILINE)
    total = re.search(r"^\s*(\d+) requests in", text, re.MULTILINE)
    if rps is None or total is None:
        result.problems.append("no wrk summary:\n" + text[-1000:])
        return result
    result.rps, result.requests = float(rps.group(1)), int(total.group(1))
    result.p50_ms, result.p99_ms = parse_latency(text, "50"), parse_latency(text, "99")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    if non_2xx:
        result.problems.append(f"{non_2xx.group(1)} non-2xx responses")
    errors = re.search(r"Socket errors: (.*)", text)
    if errors:
        result.problems.append(f"socket errors: {errors.group(1)}")
    return result


def wrk(port: int, options: argparse.Namespace, duration: float, script: Path | None) -> str:
    """Run wrk (bounded by its own ``-d`` and a hard timeout) and return its report."""
    argv = ["wrk", f"-t{options.threads}", f"-c{options.connections}", f"-d{duration:g}s"]
    argv += ["--latency", "--timeout", "5s"]
    if script is not None:
        argv += ["-s", str(script)]
    argv.append(f"http://{HOST}:{port}{PATH}")
    client_cpu = CLIENT_CPU if options.pin else None
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=duration + 30,
        preexec_fn=pinned_to(client_cpu), check=False,
    )  # fmt: skip
    return done.stdout + done.stderr


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process and of its live descendants (aro serve's workers), from
    /proc/PID/stat (fields 14 and 15)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:  # a child that exited between the listing and the read
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(child) for child in children_of(pid))


def children_of(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(FileNotFoundError):
            children.extend(int(child) for child in (task / "children").read_text().split())
    return children


def busy_seconds() -> float:
    """CPU time all CPUs spent busy (not idle, not iowait), from /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def children_seconds() -> float:
    """CPU time of our finished children: wrk's, once it has been waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wait_for_quiet(limit_s: float) -> None:
    """Wait (at most ``limit_s``) until the box has been idle for a second: other work on a
    2-core machine takes CPU from the server or from wrk and shows up as lower req/s."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        before = busy_seconds()
        time.sleep(1.0)
        if busy_seconds() - before < OTHER_CORES_WARNING:
            return
    if limit_s > 0:
        print(f"  (box still busy after {limit_s:g} s; measuring anyway)", flush=True)


def measure(pid: int, port: int, options: argparse.Namespace, script: Path | None) -> WrkResult:
    """One counted wrk run, with the server's CPU time per request and the CPU that wrk and
    the rest of the box used: on 2 cores a busy neighbour shows up in req/s, so say so."""
    wait_for_quiet(options.quiet_wait)
    server, client, box, wall = cpu_seconds(pid), children_seconds(), busy_seconds(), time.time()
    result = parse_wrk(wrk(port, options, options.duration, script))
    server, client = cpu_seconds(pid) - server, children_seconds() - client
    box, wall = busy_seconds() - box, time.time() - wall
    if result.requests:
        result.server_cpu_us = server / result.requests * 1e6
    result.client_cores = client / wall
    result.other_cores = max(0.0, box - server - client) / wall
    if busy(result):
        result.notes.append(f"busy box: others used {result.other_cores:.2f} cores")
    return result


# -- the benchmark ---------------------------------------------------------------------------

SCENARIOS = ("GET", "POST")
LABELS = {server.name: server.label for server in SERVERS} | {"baseline": "aro-py baseline"}
BASELINE_TARGET = 0.95  # this tree against --baseline: within noise of it, or faster


def bench_server(
    server: Server, options: argparse.Namespace, workdir: Path
) -> dict[str, WrkResult]:
    """Seed, warm up with GETs (uncounted), then measure GET and POST on one server."""
    post_script = workdir / "post_message.lua"
    post_script.write_text(POST_LUA)
    cpu = SERVER_CPU if options.pin and server.pinned else None
    with running(server, cpu, workdir) as (pid, port):
        size = seed(port, options.seed)
        print(f"  {server.label}: pid {pid}, port {port}, GET body {size} bytes", flush=True)
        if options.warmup > 0:
            wrk(port, options, options.warmup, None)
        results = {"GET": measure(pid, port, options, None)}
        results["POST"] = measure(pid, port, options, post_script)
    return results


Runs = dict[str, dict[str, list[WrkResult]]]  # server → scenario → one result per round


def best(runs: list[WrkResult]) -> WrkResult | None:
    """The fastest run among the least disturbed: a busy neighbour only ever slows a run
    down, so on this shared 2-core box an undisturbed run beats any disturbed one."""
    clean = [run for run in runs if not run.problems and run.rps]
    return max(clean, key=lambda run: (not busy(run), run.rps), default=None)


def busy(run: WrkResult) -> bool:
    return run.other_cores > OTHER_CORES_WARNING


def ratio_cell(ours: WrkResult | None, peer: WrkResult | None, target: float) -> str:
    """ours/peer in req/s against the target, and the same ratio in server CPU per request;
    marked when either side only has runs on a busy box."""
    if ours is None or peer is None:
        return "-"
    ratio = ours.rps / peer.rps
    verdict = "met" if ratio >= target else "MISSED"
    cpu = peer.server_cpu_us / ours.server_cpu_us if ours.server_cpu_us else 0.0
    flag = " BUSY" if busy(ours) or busy(peer) else ""
    return f"{ratio:.2f}x {verdict} (>= {target:g}x; CPU/req {cpu:.2f}x){flag}"


def print_details(results: Runs) -> None:
    """One line per run: rate, latency, server CPU per request and anything suspect."""
    print(f"\n{'server':<17} {'scenario':<15} {'#':>2} {'req/s':>9} {'p50 ms':>8}", end="")
    print(f" {'p99 ms':>8} {'srv CPU us/req':>15} {'wrk cores':>9} {'other':>6}  notes")
    for name, scenarios in results.items():
        for scenario, runs in scenarios.items():
            for number, r in enumerate(runs, 1):
                run = f"{LABELS[name]:<17} {scenario + ' ' + PATH:<15} {number:>2}"
                figures = f"{r.rps:>9,.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f}"
                figures += f" {r.server_cpu_us:>15.1f} {r.client_cores:>9.2f} {r.other_cores:>6.2f}"
                print(f"{run} {figures}  {'; '.join(r.problems + r.notes)}")


def print_ratios(results: Runs) -> None:
    """Best req/s per scenario and server, then ours/peer against docs/performance.md's targets."""
    if "aro" not in results:
        return
    header = "".join(f"{LABELS[name]:>17}" for name in results)
    header += "".join(f"   {'ours/' + peer:<47}" for peer in targets(results))
    print(f"\n{'best req/s':<16}{header}")  # best: see best()
    for scenario in SCENARIOS:
        bests = {name: best(results[name].get(scenario, [])) for name in results}
        cells = "".join(f"{run.rps if run else 0:>17,.0f}" for run in bests.values())
        for peer, target in targets(results).items():
            cells += f"   {ratio_cell(bests['aro'], bests.get(peer), target):<47}"
        print(f"{scenario + ' ' + PATH:<16}{cells}")
    for title, pair, target in (
        ("sqlite/memory", ("aro-sqlite", "aro"), SQLITE_TARGET),
        ("2 workers/1 worker", ("aro-w2", "aro-w1"), WORKERS_TARGET),
    ):
        if all(name in results for name in pair):
            print(f"\n{title}")
            for scenario in SCENARIOS:
                runs = [best(results[name].get(scenario, [])) for name in pair]
                print(f"{scenario + ' ' + PATH:<16}   {ratio_cell(*runs, target)}")


def targets(results: Runs) -> dict[str, float]:
    """The peers' targets, and the baseline's when one ran."""
    peers = {name: target for name, target in TARGETS.items() if name in results}
    return peers | ({"baseline": BASELINE_TARGET} if "baseline" in results else {})


def print_settings(options: argparse.Namespace) -> None:
    pin = f"server CPU {SERVER_CPU}, wrk CPU {CLIENT_CPU}" if options.pin else "unpinned"
    print(
        f"\nwrk -t{options.threads} -c{options.connections} -d{options.duration:g}s --latency, "
        f"{options.seed} seeded messages, {options.warmup:g} s GET warm-up, {pin}, "
        f"best of {options.rounds} round(s)"
    )


def parse_options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per run (5)")
    parser.add_argument("--warmup", type=float, default=1.0, help="uncounted GET seconds (1)")
    parser.add_argument("--connections", type=int, default=64, help="wrk -c (64)")
    parser.add_argument("--threads", type=int, default=1, help="wrk -t (1)")
    parser.add_argument("--seed", type=int, default=20, help="messages stored before GET (20)")
    parser.add_argument(
        "--servers",
        default="aro,fastapi,aiohttp",
        help="comma-separated subset of aro, aro-sqlite (--store sqlite:), aro-w1 and aro-w2"
        " (aro serve --workers 1|2 on SQLite, never pinned: add --no-pin for wrk), fastapi,"
        " aiohttp (default: aro, fastapi, aiohttp)",
    )
    parser.add_argument(
        "--quiet-wait", type=float, default=20.0, help="max s to wait for an idle box (20)"
    )
    parser.add_argument("--rounds", type=int, default=1, help="repeat every server (1)")
    parser.add_argument("--no-pin", dest="pin", action="store_false", help="do not pin CPUs")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another checkout of aro-py (e.g. a git worktree of an older commit, its codec "
        "built) to run in the same rounds as server 'baseline'",
    )
    options = parser.parse_args(argv)
    if not 0 < options.duration <= 120:
        parser.error("--duration must be in (0, 120] seconds")
    if not 0 <= options.quiet_wait <= 300:
        parser.error("--quiet-wait must be 0 to 300 seconds")
    if not 1 <= options.rounds <= 10:
        parser.error("--rounds must be 1 to 10")
    if options.baseline is not None:
        options.servers += ",baseline"
    unknown = set(options.servers.split(",")) - set(LABELS)
    if unknown:
        parser.error(f"unknown servers: {', '.join(sorted(unknown))}")
    options.pin = options.pin and len(os.sched_getaffinity(0)) >= 2
    return options


def run_rounds(options: argparse.Namespace, workdir: Path) -> tuple[Runs, bool]:
    """Every chosen server in turn, ``options.rounds`` times; True when one failed to run."""
    wanted = set(options.servers.split(","))
    servers = [server for server in SERVERS if server.name in wanted]
    if options.baseline is not None:
        servers.append(aro_server("baseline", LABELS["baseline"], options.baseline.resolve()))
    results: Runs = {server.name: {} for server in servers}
    failed = False
    for number in range(1, options.rounds + 1):
        print(f"round {number} of {options.rounds}", flush=True)
        for server in servers:
            try:
                measured = bench_server(server, options, workdir)
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as error:
                print(f"http_load: {server.label} failed: {error}", file=sys.stderr)
                failed = True
                continue
            for scenario, result in measured.items():
                results[server.name].setdefault(scenario, []).append(result)
    return results, failed


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    missing = missing_prerequisites()
    if missing:
        print("http_load: cannot run:\n  " + "\n  ".join(missing), file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="aro-http-load-") as workdir:
        results, failed = run_rounds(options, Path(workdir))
    print_details(results)
    print_ratios(results)
    print_settings(options)
    runs = [run for scenarios in results.values() for each in scenarios.values() for run in each]
    return 1 if failed or any(run.problems for run in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
