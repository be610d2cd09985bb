"""Pipelined response amplification: our server against FastAPI/uvicorn under the same attack.

Each server is started on a free 127.0.0.1 port and seeded with the same messages (ours runs
examples/WebChat, uvicorn bench/peers/fastapi_app.py); then ``--attackers`` connections each send
``--requests`` pipelined ``GET /messages`` in one write and never read, for ``--duration``
seconds, while a normal client asks ``GET /messages`` on a fresh connection every
``--probe-interval`` seconds.  Printed per server: RSS before, peak RSS (the kernel's high-water
mark, /proc/PID/status VmHWM) and the normal client's median and worst latency.  Every server is
stopped by its PID.  ``--baseline TREE`` also runs another checkout of aro-py (same app) so a
before/after sits beside uvicorn in one run.

Run: ``python bench/pipeline_attack.py [--requests 1900] [--attackers 3] [--duration 5]``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

from http_load import HOST, ROOT, Server, running

WEBCHAT = ROOT / "examples" / "WebChat"
# ~80 bytes per stored message, as in the report of the attack.
MESSAGE = json.dumps({"message": "a chat message of about eighty bytes once it is stored"})
REQUEST = b"GET /messages HTTP/1.1\r\nHost: bench\r\n\r\n"


def aro(name: str, label: str, tree: Path) -> Server:
    """aro-py from ``tree`` serving this checkout's WebChat."""
    return Server(
        name,
        label,
        lambda port: [sys.executable, "-m", "aro", "run", str(WEBCHAT), "--port", str(port)],
        tree,
    )


UVICORN = Server(
    "fastapi",
    "FastAPI/uvicorn",
    lambda port: [sys.executable, str(ROOT / "bench/peers/fastapi_app.py"), "--port", str(port)],
)


def seed(port: int, count: int) -> int:
    """POST ``count`` messages on one keep-alive connection; answer the list's size in bytes."""
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        for _ in range(count):
            connection.request("POST", "/messages", MESSAGE, {"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            if response.status != 201:
                raise RuntimeError(f"seeding POST answered {response.status}")
        connection.request("GET", "/messages")
        return len(connection.getresponse().read())
    finally:
        connection.close()


def memory_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for pid {pid}")


def probe(port: int, timeout: float) -> float:
    """Seconds one normal client waits for a whole GET /messages (``timeout`` if it never does)."""
    started = time.monotonic()
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", "/messages")
        connection.getresponse().read()
    except OSError:
        return timeout
    finally:
        connection.close()
    return time.monotonic() - started


def attack(pid: int, port: int, options: argparse.Namespace) -> dict[str, float]:
    before = memory_kb(pid, "VmRSS")
    payload = REQUEST * options.requests
    attackers = []
    latencies = []
    try:
        for _ in range(options.attackers):
            sock = socket.create_connection((HOST, port))
            sock.sendall(payload)  # and never read
            attackers.append(sock)
        deadline = time.monotonic() + options.duration
        while time.monotonic() < deadline:
            latencies.append(probe(port, options.duration + 10))
            time.sleep(options.probe_interval)
        peak = memory_kb(pid, "VmHWM")
    finally:
        for sock in attackers:
            sock.close()
    return {
        "rss_before_mb": before / 1024,
        "rss_peak_mb": peak / 1024,
        "probe_median_ms": statistics.median(latencies) * 1000,
        "probe_worst_ms": max(latencies) * 1000,
        "probes": len(latencies),
    }


def parse_options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1900, help="per attacker (1900)")
    parser.add_argument("--attackers", type=int, default=3, help="connections (3)")
    parser.add_argument("--seed", type=int, default=1000, help="messages stored (1000)")
    parser.add_argument("--duration", type=float, default=5.0, help="attack seconds (5)")
    parser.add_argument("--probe-interval", type=float, default=0.1, help="s between probes")
    parser.add_argument("--no-uvicorn", dest="uvicorn", action="store_false")
    parser.add_argument(
        "--baseline", type=Path, help="another checkout of aro-py to attack the same way"
    )
    options = parser.parse_args(argv)
    if not 1 <= options.requests <= 100_000 or not 1 <= options.attackers <= 64:
        parser.error("--requests must be 1-100000 and --attackers 1-64")
    if not 0 < options.duration <= 60 or not 0 <= options.seed <= 100_000:
        parser.error("--duration must be in (0, 60] and --seed 0-100000")
    return options


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    servers = [aro("aro", "aro-py", ROOT)]
    if options.baseline is not None:
        servers.append(aro("baseline", "aro-py baseline", options.baseline.resolve()))
    if options.uvicorn:
        servers.append(UVICORN)
    failed = False
    print(
        f"{options.attackers} attackers x {options.requests} pipelined GETs, "
        f"{options.seed} messages, {options.duration:g} s"
    )
    print(f"{'server':18} {'list B':>8} {'RSS MB':>7} {'peak MB':>8} {'p50 ms':>8} {'max ms':>8}")
    with tempfile.TemporaryDirectory(prefix="aro-pipeline-attack-") as workdir:
        for server in servers:
            try:
                with running(server, None, Path(workdir)) as (pid, port):
                    size = seed(port, options.seed)
                    result = attack(pid, port, options)
            except (RuntimeError, OSError) as error:
                print(f"pipeline_attack: {server.label} failed: {error}", file=sys.stderr)
                failed = True
                continue
            print(
                f"{server.label:18} {size:>8} {result['rss_before_mb']:>7.0f} "
                f"{result['rss_peak_mb']:>8.0f} {result['probe_median_ms']:>8.1f} "
                f"{result['probe_worst_ms']:>8.1f}",
                flush=True,
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
