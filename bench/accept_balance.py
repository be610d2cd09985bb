"""How evenly two worker processes share one port: SO_REUSEPORT against one listening socket
bound in the parent and inherited by both (the two ways ``aro serve`` could share its port).

Each worker is our HTTP server (``aro.net.server.HttpServer``) answering a fixed 200 and
counting the connections it accepted and the requests it answered; ``wrk`` loads the port
twice: with ``Connection: close`` (every request a new connection, so every request is an
accept to balance) and with keep-alive (64 connections opened at once, as a burst of browsers
would: do they land evenly?).  Each worker prints its counts when stopped by PID.  The figure
that matters is the share of the busier worker (50% is perfect balance).
Run: ``python bench/accept_balance.py [--duration 5] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

WORKER = r"""
import asyncio, os, signal, socket, sys
import uvloop
from aro.net.server import HttpServer

async def main(mode, port):
    count = requests = 0
    def handle(request):
        nonlocal requests
        requests += 1
        return 200, [(b"Content-Type", b"text/plain")], b"ok"
    server = HttpServer(handle, "127.0.0.1", port, reuse_port=mode == "reuseport")
    admit = server._admit
    def counted():
        nonlocal count
        count += 1
        return admit()
    server._admit = counted
    if mode == "reuseport":
        await server.start()
    else:  # the parent's listening socket, inherited as fd 3
        sock = socket.socket(fileno=3)
        server._server = await asyncio.get_running_loop().create_server(server._admit, sock=sock)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    await stop.wait()
    print(count, requests, flush=True)

uvloop.run(main(sys.argv[1], int(sys.argv[2])))
"""


def _listener(reuse_port: bool) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", 0))
    if not reuse_port:
        sock.listen(1024)
    return sock


def measure(
    mode: str, duration: int, connections: int, keep_alive: bool
) -> tuple[list[list[int]], float]:
    """Connections and requests of each worker, and wrk's requests per second."""
    parent = _listener(mode == "reuseport")
    port = parent.getsockname()[1]
    workers = []
    for _ in range(2):
        if mode == "inherited":
            os.dup2(parent.fileno(), 3)
        worker = subprocess.Popen(
            [sys.executable, "-c", WORKER, mode, str(port)],
            stdout=subprocess.PIPE,
            text=True,
            pass_fds=(3,) if mode == "inherited" else (),
        )
        workers.append(worker)
    try:
        for worker in workers:
            assert worker.stdout.readline().strip() == "ready"
        url = f"http://127.0.0.1:{port}/"
        close = [] if keep_alive else ["-H", "Connection: close"]
        wrk = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", *close, url],
            capture_output=True,
            text=True,
            check=True,
        )
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", wrk.stdout).group(1))
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        counts = [[int(n) for n in worker.stdout.readline().split()] for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
            worker.wait()
        parent.close()
    return counts, rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed", file=sys.stderr)
        return 2
    print(
        f"{'mode':<10} {'wrk':<10} {'round':>5} {'conns 0/1':>11} {'busier':>7}"
        f" {'requests 0/1':>15} {'busier':>7} {'req/s':>7}"
    )
    for round_number in range(1, options.rounds + 1):
        for keep_alive in (False, True):
            for mode in ("reuseport", "inherited"):  # interleaved: load hits both alike
                counts, rate = measure(mode, options.duration, options.connections, keep_alive)
                (conns0, requests0), (conns1, requests1) = counts
                print(
                    f"{mode:<10} {'keep-alive' if keep_alive else 'close':<10}"
                    f" {round_number:>5} {f'{conns0}/{conns1}':>11}"
                    f" {max(conns0, conns1) / (conns0 + conns1):>7.1%}"
                    f" {f'{requests0}/{requests1}':>15}"
                    f" {max(requests0, requests1) / (requests0 + requests1):>7.1%} {rate:>7.0f}"
                )
                time.sleep(0.5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
