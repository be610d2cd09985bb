"""WebSocket load benchmark: our server against picows and websockets, in the same run.

Modes (docs/performance.md says how we measure and what we aim for):

- ``memory``: open N idle connections (64 at a time) and report the server's VmRSS growth / N.
- ``fanout``: N subscribers on /ws; one publisher POSTs ``message=<seq>-<ts>`` to /messages on
  a keep-alive connection with at most W broadcasts in flight; reports deliveries/s, server CPU
  µs per delivery, and delivery latency p50/p99 (receive time minus the publish stamp).
  By default the next broadcast goes as soon as the window allows, so each server runs at its
  own pace and a faster one queues more deliveries at the client; ``--rate R`` publishes R
  broadcasts a second instead, which compares latency and CPU at the same load.
- ``echo``: C connections, W=1, 64 B text frames; reports msgs/s and server CPU µs/msg.
- ``quiet``: a chat at low rate: fan-out with 10 subscribers and W=1 (POST, wait until every
  subscriber has the message, POST the next); its delivery p50/p99 is the figure, and the
  default peers are aiohttp and picows.

Ours runs examples/WebChat (fan-out, memory) or tests/apps/Echo (echo) through the VM; the
peers are bench/peers/ws_peers.py.  The client is one Python process on raw non-blocking
sockets and epoll: frames out are precomputed (one masked template, the mask applied as one
int XOR), frames in are only counted from their headers, never parsed into objects, and the
per-delivery latency comes from the publish time of the broadcast the frame belongs to (each
socket gets the broadcasts in order; subscriber 0 checks that against the stamp in the text).
Even so the client pays one recv per socket wakeup, so on 2 cores it is the bottleneck in
fan-out: server CPU per delivery, read from /proc/PID/stat, is the figure to compare.

``serve-1``, ``serve-2`` and ``serve-2-redis`` run WebChat under ``aro serve --workers N``
pinned to CPUs 0..N-1 (on 2 cores the second worker shares CPU 1 with the client), the second two
broadcasting through the supervisor's relay or a private redis-server started and stopped with
the server.  Subscribers land on the workers by the kernel's SO_REUSEPORT hash (``landed`` counts
them per worker, from the 101's X-Aro-Worker); server CPU is summed over the supervisor and every
worker, and redis-server's is reported apart.

The server is pinned to CPU 0 and the client to CPU 1; every run has an uncounted warm-up, a
count bound and a hard deadline, and every server is stopped by its PID.  Targets only
127.0.0.1.  Run: ``python bench/ws_load.py memory|fanout|echo [--servers ours,picows,websockets]``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import resource
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
SERVER_CPU, CLIENT_CPU = 0, 1
TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")
START_TIMEOUT_S = 20.0
HANDSHAKE = (
    "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n"
)
MASK = b"\x37\xfa\x21\x3d"
MASK_INT = int.from_bytes(MASK * 16, "big")
ECHO_SIZE = 64
STAMP = re.compile(rb'"message":"(\d+)-(\d+)"')
WORKER_HEADER = re.compile(rb"\r\nx-aro-worker: *([^\r]*)", re.IGNORECASE)
WORKER_SERVERS = {"serve-1": (1, False), "serve-2": (2, False), "serve-2-redis": (2, True)}


@dataclass
class Server:
    """A server under test: how to start it, and where its WebSocket and POST endpoints are."""

    name: str
    argv: list[str]
    port: int
    http_port: int
    tree: Path = ROOT  # the checkout whose ``aro`` package runs (``--baseline`` sets another)
    cpus: str = str(SERVER_CPU)
    workers: int = 1
    bus: Server | None = None  # a redis-server started before the server and stopped after it
    proc: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid


def free_port() -> int:
    """A port the kernel says is free now (the server binds it a moment later)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def make_server(name: str, mode: str, baseline: Path | None = None) -> Server:
    """Ours (and the baseline checkout, running this checkout's apps) runs WebChat (broadcast
    on POST) or the Echo app; peers serve both on two ports."""
    port = free_port()
    if name in ("ours", "baseline"):
        app = "tests/apps/Echo" if mode == "echo" else "examples/WebChat"
        argv = [sys.executable, "-m", "aro", "run", str(ROOT / app), "--port", str(port)]
        tree = ROOT if name == "ours" else baseline
        if tree is None:
            raise RuntimeError("server 'baseline' needs --baseline TREE")
        return Server(name, argv, port, port, tree.resolve())
    if name in WORKER_SERVERS:
        return make_serve(name, port)
    http_port = free_port()
    script = str(ROOT / "bench/peers/ws_peers.py")
    argv = [sys.executable, script, name, "--port", str(port), "--http-port", str(http_port)]
    return Server(name, argv, port, http_port)


def make_serve(name: str, port: int) -> Server:
    """WebChat under ``aro serve --workers N`` on CPUs 0..N-1, with its own Redis as the bus if
    the name says so (else the supervisor's relay)."""
    workers, redis = WORKER_SERVERS[name]
    cpus = ",".join(str(cpu) for cpu in range(workers))
    argv = [sys.executable, "-m", "aro", "serve", str(ROOT / "examples/WebChat"),
            "--port", str(port), "--workers", str(workers)]
    bus = make_redis(cpus) if redis else None
    if bus is not None:
        argv += ["--bus", f"redis://{HOST}:{bus.port}/0"]
    return Server(name, argv, port, port, cpus=cpus, workers=workers, bus=bus)


def make_redis(cpus: str) -> Server:
    """A private redis-server on a free port: no persistence, nothing written to disk."""
    port = free_port()
    argv = ["redis-server", "--port", str(port), "--bind", HOST, "--save", "",
            "--appendonly", "no", "--dir", tempfile.gettempdir()]
    return Server("redis-server", argv, port, port, cpus=cpus)


def start(server: Server) -> None:
    """Start (its Redis first) pinned to its CPUs and wait (bounded) until both ports accept
    connections and, under ``aro serve``, every worker answers."""
    if server.bus is not None:
        start(server.bus)
    argv = ["taskset", "-c", server.cpus, *server.argv]
    env = {**os.environ, "PYTHONPATH": str(server.tree)}
    server.proc = subprocess.Popen(
        argv, cwd=server.tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    for port in {server.port, server.http_port}:
        while not port_open(port):
            if server.proc.poll() is not None or time.monotonic() > deadline:
                stop(server)
                raise RuntimeError(f"{server.name} did not start")
            time.sleep(0.05)
    if server.workers > 1:
        wait_for_workers(server, deadline)


def wait_for_workers(server: Server, deadline: float) -> None:
    """The port opens with the first worker: probe it until each has answered once, so that
    subscribers spread over all of them."""
    seen = {worker_of(probe(server.http_port))}
    while len(seen) < server.workers:
        if time.monotonic() > deadline:
            stop(server)
            raise RuntimeError(f"{server.name}: only workers {sorted(seen)} answered")
        time.sleep(0.05)
        seen.add(worker_of(probe(server.http_port)))


def probe(port: int) -> bytes:
    """The head of a GET / on a fresh connection."""
    with socket.create_connection((HOST, port), timeout=5) as sock:
        sock.sendall(f"GET / HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n\r\n".encode())
        return read_head(sock)


def worker_of(head: bytes) -> str:
    """The X-Aro-Worker header of a response head; empty outside ``aro serve``."""
    match = WORKER_HEADER.search(head)
    return match.group(1).decode() if match else ""


def port_open(port: int) -> bool:
    """True once something accepts on the port."""
    try:
        socket.create_connection((HOST, port), timeout=0.5).close()
        return True
    except OSError:
        return False


def stop(server: Server) -> None:
    """SIGINT by PID, then SIGKILL after 5 s, then its Redis: a benchmark must never leave a
    server behind."""
    proc = server.proc
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    if server.bus is not None:
        stop(server.bus)


def stat_fields(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def process_tree(root: int) -> list[int]:
    """``root`` and its descendants (``aro serve``'s workers), from /proc/PID/task/*/children."""
    tree = [root]
    for pid in tree:
        for task in Path(f"/proc/{pid}/task").glob("*"):
            with contextlib.suppress(FileNotFoundError):
                tree.extend(int(child) for child in (task / "children").read_text().split())
    return tree


def server_cpu_s(pid: int) -> float:
    """utime+stime of the server and its child processes from /proc/PID/stat, in seconds."""
    total = 0
    for member in process_tree(pid):
        with contextlib.suppress(OSError):  # a process that exited meanwhile
            fields = stat_fields(member)
            total += int(fields[11]) + int(fields[12])
    return total * TICK_S


def server_writes(pid: int) -> int:
    """Write system calls (write, writev, sendmsg on a socket) of the server and its child
    processes, from /proc/PID/io: deliveries per write is how much batching the server did."""
    total = 0
    for member in process_tree(pid):
        with contextlib.suppress(OSError), open(f"/proc/{member}/io") as f:
            total += next(int(line.split()[1]) for line in f if line.startswith("syscw:"))
    return total


def server_rss_kib(pid: int) -> int:
    """VmRSS of the server and its child processes from /proc/PID/status."""
    return sum(process_rss_kib(member) for member in process_tree(pid))


def process_rss_kib(pid: int) -> int:
    """VmRSS of one process from /proc/PID/status."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def client_cpu_s() -> float:
    """This process's own CPU time, to report how loaded the client was."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def open_ws(port: int, count: int, batch: int = 64,
            landed: Counter[str] | None = None) -> list[socket.socket]:
    """Open ``count`` WebSockets, ``batch`` handshakes at a time; return them non-blocking
    (``landed`` counts them per worker that took them)."""
    request = HANDSHAKE.format(port=port).encode()
    socks: list[socket.socket] = []
    while len(socks) < count:
        group = [socket.create_connection((HOST, port), timeout=10) for _ in
                 range(min(batch, count - len(socks)))]
        for sock in group:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.sendall(request)
        for sock in group:
            worker = worker_of(read_upgrade(sock))
            if landed is not None:
                landed[worker] += 1
            sock.setblocking(False)
        socks.extend(group)
    return socks


def read_upgrade(sock: socket.socket) -> bytes:
    """Read the handshake answer's head; anything but 101 is a failed run."""
    head = read_head(sock)
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(f"handshake refused: {head[:60]!r}")
    return head


def read_head(sock: socket.socket) -> bytes:
    """Read up to the end of a response head (blocking socket)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise RuntimeError("connection closed before the response head")
        data += chunk
    return data


def close_all(socks: list[socket.socket]) -> None:
    """Close the client side of every socket (the server sees EOF)."""
    for sock in socks:
        sock.close()


def count_frames(buf: bytes) -> tuple[int, int]:
    """Count the complete data frames in ``buf`` from their headers; return (frames, used)."""
    pos, frames, size = 0, 0, len(buf)
    while pos + 2 <= size:
        length = buf[pos + 1] & 0x7F
        head = 2
        if length == 126:
            if pos + 4 > size:
                break
            length, head = (buf[pos + 2] << 8) | buf[pos + 3], 4
        elif length == 127:
            if pos + 10 > size:
                break
            length, head = int.from_bytes(buf[pos + 2 : pos + 10], "big"), 10
        end = pos + head + length
        if end > size:
            break
        if buf[pos] & 0x0F in (0, 1, 2):
            frames += 1
        pos = end
    return frames, pos


def percentile(values: list[int], q: float) -> float:
    """The q-th percentile (0..1) of nanosecond values, in milliseconds."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e6


# ----------------------------------------------------------------------------- memory


def run_memory(server: Server, args: argparse.Namespace) -> dict:
    """VmRSS growth per idle connection, after a warm-up batch has been opened and closed."""
    close_all(open_ws(server.port, 64))
    time.sleep(0.5)
    before = server_rss_kib(server.pid)
    t0 = time.monotonic()
    socks = open_ws(server.port, args.conns)
    opened_s = time.monotonic() - t0
    time.sleep(args.settle)
    after = server_rss_kib(server.pid)
    close_all(socks)
    return {
        "conns": args.conns, "rss_before_kib": before, "rss_after_kib": after,
        "kib_per_conn": (after - before) / args.conns, "open_s": round(opened_s, 2),
    }


# ----------------------------------------------------------------------------- fan-out


class Publisher:
    """HTTP POST /messages on one keep-alive socket; one request outstanding at a time."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection((HOST, port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.head = f"POST /messages HTTP/1.1\r\nHost: {HOST}:{port}\r\n".encode()
        self.buf = b""
        self.ready = True

    def post(self, seq: int, stamp: int) -> None:
        """Send ``message=<seq>-<stamp>`` (form encoded) and wait for its answer."""
        body = f"message={seq}-{stamp}".encode()
        request = self.head + (
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)
        ) + body
        self.sock.sendall(request)
        self.ready = False

    def readable(self) -> None:
        """Consume whole responses (Content-Length framed); a 2xx makes the next POST ready."""
        self.buf += self.sock.recv(65536)
        while (end := self.buf.find(b"\r\n\r\n")) >= 0:
            head = self.buf[:end].lower()
            at = head.find(b"content-length:")
            length = int(head[at + 15 :].split(b"\r\n", 1)[0]) if at >= 0 else 0
            if len(self.buf) < end + 4 + length:
                return
            if not head.startswith(b"http/1.1 2"):
                raise RuntimeError(f"POST failed: {self.buf[:80]!r}")
            self.buf = self.buf[end + 4 + length :]
            self.ready = True


@dataclass
class FanoutState:
    """Per-run counters: per-subscriber frame counts and per-broadcast arrivals."""

    subs: int
    counts: list[int]
    rest: list[bytes]
    arrived: list[int] = field(default_factory=list)
    stamps: list[int] = field(default_factory=list)
    latencies: list[int] = field(default_factory=list)
    completed: int = 0
    deliveries: int = 0
    stamp_errors: int = 0


def fanout_phase(socks, pub: Publisher, state: FanoutState, count: int, window: int,
                 deadline: float, rate: float = 0.0) -> None:
    """Publish ``count`` broadcasts (≤ ``window`` incomplete) until done or the deadline;
    with a ``rate`` (broadcasts per second) no sooner than its schedule, so that servers are
    compared at the same load rather than each at its own pace."""
    interval = 1.0 / rate if rate else 0.0
    due = time.monotonic()
    ep = select.epoll()
    index = {sock.fileno(): i for i, sock in enumerate(socks)}
    for fd in index:
        ep.register(fd, select.EPOLLIN)
    pub_fd = pub.sock.fileno()
    ep.register(pub_fd, select.EPOLLIN)
    goal = state.completed + count
    try:
        while state.completed < goal and time.monotonic() < deadline:
            sent = len(state.stamps)
            wait = due - time.monotonic()
            if pub.ready and sent < goal and sent - state.completed < window and wait <= 0:
                stamp = time.monotonic_ns()
                state.stamps.append(stamp)
                state.arrived.append(0)
                pub.post(sent, stamp)
                due = max(due, time.monotonic()) + interval  # late: no burst to catch up
                wait = interval
            for fd, _ in ep.poll(min(0.2, max(wait, 0.0)) if interval else 0.2):
                if fd == pub_fd:
                    pub.readable()
                else:
                    receive(socks, index[fd], state)
    finally:
        ep.close()


def receive(socks, i: int, state: FanoutState) -> None:
    """Count the frames one subscriber got; credit each to its broadcast, in order."""
    data = socks[i].recv(262144)
    if not data:
        raise RuntimeError("subscriber closed by the server")
    now = time.monotonic_ns()
    if state.rest[i]:
        data = state.rest[i] + data
    frames, used = count_frames(data)
    state.rest[i] = data[used:]
    if i == 0 and frames:
        check_stamps(data[:used], state)
    first = state.counts[i]
    state.counts[i] = first + frames
    state.deliveries += frames
    arrived, stamps, lat, subs = state.arrived, state.stamps, state.latencies, state.subs
    for seq in range(first, first + frames):
        lat.append(now - stamps[seq])
        arrived[seq] += 1
        if arrived[seq] == subs:
            state.completed += 1


def check_stamps(data: bytes, state: FanoutState) -> None:
    """Subscriber 0: the stamp in each message text must be the one we credited it to."""
    first = state.counts[0]
    for k, match in enumerate(STAMP.finditer(data)):
        seq, stamp = int(match.group(1)), int(match.group(2))
        if seq != first + k or state.stamps[seq] != stamp:
            state.stamp_errors += 1


def run_fanout(server: Server, args: argparse.Namespace) -> dict:
    """Subscribe N, warm up, then measure deliveries/s and server CPU per delivery."""
    landed: Counter[str] = Counter()
    socks = open_ws(server.port, args.subs, landed=landed)
    pub = Publisher(server.http_port)
    state = FanoutState(args.subs, [0] * args.subs, [b""] * args.subs)
    try:
        fanout_phase(socks, pub, state, args.warmup, args.window, time.monotonic() + 5)
        time.sleep(0.2)
        drain(socks, state)
        result = measure_fanout(server, socks, pub, state, args)
        if "" not in landed:
            result["landed"] = "/".join(str(landed[worker]) for worker in sorted(landed))
        return result
    finally:
        close_all(socks)
        pub.sock.close()


def drain(socks, state: FanoutState) -> None:
    """Let the warm-up's last frames arrive, then clear the latency record."""
    for i in range(len(socks)):
        with contextlib.suppress(BlockingIOError):
            receive(socks, i, state)
    state.latencies.clear()


def measure_fanout(server: Server, socks, pub: Publisher, state: FanoutState,
                   args: argparse.Namespace) -> dict:
    """The counted phase, bracketed by /proc and getrusage readings."""
    start_deliveries, start_done = state.deliveries, state.completed
    cpu0, client0, t0 = server_cpu_s(server.pid), client_cpu_s(), time.monotonic()
    redis0, writes0 = redis_cpu_s(server), server_writes(server.pid)
    spy = start_py_spy(server, args)
    fanout_phase(socks, pub, state, args.messages, args.window, t0 + args.duration, args.rate)
    wall = time.monotonic() - t0
    cpu, client = server_cpu_s(server.pid) - cpu0, client_cpu_s() - client0
    writes = server_writes(server.pid) - writes0
    redis = redis_cpu_s(server) - redis0
    stop_py_spy(spy)
    deliveries = state.deliveries - start_deliveries
    return {
        "subs": args.subs, "window": args.window,
        **({"rate": args.rate} if args.rate else {}), "broadcasts": state.completed - start_done,
        "deliveries": deliveries, "deliveries_per_s": deliveries / wall,
        "server_cpu_us_per_delivery": cpu * 1e6 / max(deliveries, 1),
        "deliveries_per_write": round(deliveries / max(writes, 1), 2),
        "server_cpu_util": cpu / wall, "client_cpu_util": client / wall,
        "p50_ms": percentile(state.latencies, 0.5), "p99_ms": percentile(state.latencies, 0.99),
        "stamp_errors": state.stamp_errors, "wall_s": round(wall, 2),
        **({"redis_cpu_us_per_delivery": redis * 1e6 / max(deliveries, 1)} if server.bus else {}),
    }


def redis_cpu_s(server: Server) -> float:
    """CPU of the server's own redis-server, if it has one (kept apart from the server's)."""
    return server_cpu_s(server.bus.pid) if server.bus else 0.0


def start_py_spy(server: Server, args: argparse.Namespace) -> subprocess.Popen | None:
    """Optionally sample the server for the counted phase (py-spy on the client's core)."""
    if not args.py_spy or server.name not in args.py_spy_servers.split(","):
        return None
    out = f"{args.py_spy}.{server.name}.{args.mode}.txt"
    argv = ["taskset", "-c", str(CLIENT_CPU), "py-spy", "record", "--pid", str(server.pid),
            "--format", "raw", "--rate", "200", "--duration", str(int(args.duration) + 1),
            *(args.py_spy_extra.split() or ["--nonblocking"]), "-o", out]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_py_spy(spy: subprocess.Popen | None) -> None:
    """Let py-spy write its file (it stops itself after --duration), killing it if it hangs."""
    if spy is None:
        return
    try:
        spy.wait(15)
    except subprocess.TimeoutExpired:
        spy.send_signal(signal.SIGINT)
        spy.wait(15)


# ----------------------------------------------------------------------------- echo


def masked_frame(seq: int) -> bytes:
    """A 64 B masked text frame carrying ``<seq><monotonic ns>`` as digits."""
    text = f"{seq:020d}{time.monotonic_ns():020d}".ljust(ECHO_SIZE, "x").encode()
    masked = (int.from_bytes(text, "big") ^ MASK_INT).to_bytes(ECHO_SIZE, "big")
    return b"\x81" + bytes((0x80 | ECHO_SIZE,)) + MASK + masked


def echo_phase(socks, count: int, deadline: float, latencies: list[int]) -> int:
    """C sockets with one message in flight each; return the replies received."""
    ep = select.epoll()
    index = {sock.fileno(): i for i, sock in enumerate(socks)}
    sent_at = [0] * len(socks)
    rest = [b""] * len(socks)
    sent = received = 0
    for i, sock in enumerate(socks):
        ep.register(sock.fileno(), select.EPOLLIN)
        sent_at[i] = time.monotonic_ns()
        sock.send(masked_frame(sent))
        sent += 1
    try:
        while received < count and time.monotonic() < deadline:
            for fd, _ in ep.poll(0.2):
                i = index[fd]
                data = rest[i] + socks[i].recv(65536)
                frames, used = count_frames(data)
                rest[i] = data[used:]
                if not frames:
                    continue
                now = time.monotonic_ns()
                latencies.append(now - sent_at[i])
                received += frames
                sent_at[i] = now
                socks[i].send(masked_frame(sent))
                sent += 1
    finally:
        ep.close()
    drain_echo(socks)
    return received


def drain_echo(socks) -> None:
    """Swallow the replies still in flight so the next phase starts with empty sockets."""
    time.sleep(0.1)
    for sock in socks:
        with contextlib.suppress(BlockingIOError):
            sock.recv(65536)


def run_echo(server: Server, args: argparse.Namespace) -> dict:
    """Warm up, then measure msgs/s and server CPU per message."""
    socks = open_ws(server.port, args.conns)
    try:
        echo_phase(socks, args.warmup, time.monotonic() + 3, [])
        latencies: list[int] = []
        cpu0, client0, t0 = server_cpu_s(server.pid), client_cpu_s(), time.monotonic()
        spy = start_py_spy(server, args)
        received = echo_phase(socks, args.messages, t0 + args.duration, latencies)
        wall = time.monotonic() - t0
        cpu, client = server_cpu_s(server.pid) - cpu0, client_cpu_s() - client0
        stop_py_spy(spy)
    finally:
        close_all(socks)
    return {
        "conns": args.conns, "messages": received, "msgs_per_s": received / wall,
        "server_cpu_us_per_msg": cpu * 1e6 / max(received, 1), "server_cpu_util": cpu / wall,
        "client_cpu_util": client / wall, "p50_ms": percentile(latencies, 0.5),
        "p99_ms": percentile(latencies, 0.99), "wall_s": round(wall, 2),
    }


# ----------------------------------------------------------------------------- driver

RUNNERS = {"memory": run_memory, "fanout": run_fanout, "echo": run_echo, "quiet": run_fanout}


def run_one(name: str, args: argparse.Namespace) -> dict:
    """Start one server, run the mode against it, always stop it by PID."""
    server = make_server(name, args.mode, args.baseline)
    try:
        start(server)
        time.sleep(0.3)
        result = RUNNERS[args.mode](server, args)
    finally:
        stop(server)
    return {"server": name, **result}


def show(result: dict) -> None:
    """One line per server, floats rounded, so runs can be pasted into RESULTS.md."""
    cells = [f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in result.items()]
    print("  ".join(cells), flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Defaults follow docs/performance.md and keep each case to about 5 s."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("mode", choices=sorted(RUNNERS))
    parser.add_argument("--servers", help="default ours,picows,websockets (quiet: aiohttp); "
                        f"also {','.join(WORKER_SERVERS)} (aro serve)")
    parser.add_argument("--conns", type=int, help="memory: 5000; echo: 16")
    parser.add_argument("--subs", type=int, help="fanout: 1000; quiet: 10")
    parser.add_argument("--window", type=int, help="broadcasts in flight: fanout 4, quiet 1")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="fanout/quiet: broadcasts per second (open loop, still at most "
                        "--window in flight); default 0: the next as soon as the window allows")
    parser.add_argument("--messages", type=int, help="fanout: 1M deliveries; echo: 100000")
    parser.add_argument("--warmup", type=int, default=None)
    parser.add_argument("--duration", type=float, default=5.0, help="hard deadline, seconds")
    parser.add_argument("--settle", type=float, default=1.0, help="memory: idle wait, seconds")
    parser.add_argument("--py-spy", help="profile prefix: writes PREFIX.SERVER.MODE.txt")
    parser.add_argument("--py-spy-servers", default="ours")
    parser.add_argument("--py-spy-extra", default="", help="more py-spy flags, e.g. --native")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another checkout of aro-py (its codec built) to run as server 'baseline', "
        "e.g. --servers ours,baseline,picows",
    )
    args = parser.parse_args(argv)
    quiet = args.mode == "quiet"
    args.servers = args.servers or ("ours,aiohttp,picows" if quiet else "ours,picows,websockets")
    args.subs = args.subs or (10 if quiet else 1000)
    args.window = args.window or (1 if quiet else 4)
    args.conns = args.conns or (16 if args.mode == "echo" else 5000)
    default_messages = 100_000 if args.mode == "echo" else max(1, 1_000_000 // args.subs)
    args.messages = args.messages or default_messages
    args.warmup = args.warmup if args.warmup is not None else (
        2000 if args.mode == "echo" else max(5, 20_000 // args.subs))
    return args


def main() -> None:
    """Pin the client to CPU 1, raise the fd limit, run every server in turn."""
    args = parse_args()
    os.sched_setaffinity(0, {CLIENT_CPU})
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    print(f"# ws_load {args.mode} {time.strftime('%Y-%m-%d %H:%M')} "
          f"loadavg={os.getloadavg()[0]:.2f}", flush=True)
    for name in args.servers.split(","):
        try:
            show(run_one(name, args))
        except (RuntimeError, OSError) as exc:
            print(f"server={name}  error={exc}", flush=True)


if __name__ == "__main__":
    main()
