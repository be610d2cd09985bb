"""In-process workloads for profiling the per-event cost of the VM path, without sockets.

- ``echo``: N WebSocket text messages through ``tests/apps/Echo`` (frame parse, Message
  handler: Extract, Extract, Send, Outbox flush).
- ``post``: N ``POST /messages`` through ``examples/WebChat`` (HTTP parse, bindings, body
  parse, Extract, Create, Store, Broadcast to S subscribers, Return 201, response bytes).
- ``get``: N ``GET /messages`` through ``examples/WebChat`` with 20 messages stored first
  (HTTP parse, Retrieve of the whole listing, Return 200, JSON body, response bytes).
- ``idle``: N idle WebSockets on ``tests/apps/Echo``; prints the bytes each holds (tracemalloc,
  from before the upgrade request to after its Connect event).

The application starts for real (Application-Start runs, the HTTP server listens on a free
127.0.0.1 port), but the workload feeds bytes straight into the server's protocol objects over
an in-memory transport, so that the process does nothing else: the figure is the
server-side cost of one event. Run it under callgrind (subtract an ``N=0`` run) or time it:

    valgrind --tool=callgrind python bench/vm_workload.py echo 20000
    python bench/vm_workload.py post 20000 --time

With ``--callgrind`` (run under ``valgrind --tool=callgrind --instr-atstart=no``) counting
starts after the warm-up, with the garbage collector off from there; the difference of two N
is then the instructions per event:

    PYTHONHASHSEED=0 valgrind --tool=callgrind --instr-atstart=no \
        python bench/vm_workload.py echo 2500 --callgrind

``PYTHONPATH`` selects the tree whose ``aro`` runs (A/B against another checkout);
``ARO_STORE`` the repository store (``ARO_STORE=sqlite:/tmp/w.sqlite … post 5000``).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
UPGRADE = (
    b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
MASK = b"\x37\xfa\x21\x3d"
POST_BODY = b'{"message":"hello from the workload"}'
POST = (
    b"POST /messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Content-Length: %d\r\n\r\n%s" % (len(POST_BODY), POST_BODY)
)
GET = b"GET /messages HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
STORED_FOR_GET = 20


class MemoryTransport(asyncio.Transport):
    """Takes writes and forgets them (counting bytes); enough of a transport for our servers."""

    def __init__(self) -> None:
        super().__init__()
        self.protocol: Any = None
        self.written = 0
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written += len(data)

    def writelines(self, chunks) -> None:
        for chunk in chunks:
            self.write(chunk)

    def get_write_buffer_size(self) -> int:
        return 0

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return (16384, 65536)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 50000) if name == "peername" else default

    def set_protocol(self, protocol: Any) -> None:
        self.protocol = protocol

    def get_protocol(self) -> Any:
        return self.protocol

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def is_reading(self) -> bool:
        return True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def masked_text(text: bytes) -> bytes:
    assert len(text) < 126
    masked = bytes(b ^ MASK[i % 4] for i, b in enumerate(text))
    return bytes((0x81, 0x80 | len(text))) + MASK + masked


async def connect(http_server: Any, request: bytes) -> MemoryTransport:
    """A connection to the HTTP server that has sent ``request``; its protocol afterwards is
    the transport's (a WebSocket, after an upgrade)."""
    transport = MemoryTransport()
    protocol = http_server._admit()
    transport.set_protocol(protocol)
    protocol.connection_made(transport)
    if request:
        protocol.data_received(request)
    await asyncio.sleep(0)
    return transport


async def workload(mode: str, count: int, subscribers: int, timed: bool) -> None:
    import aro.actions  # noqa: F401 - registers every action
    from aro.config import Config
    from aro.runtime.app import Application
    from aro.runtime.loader import load_program

    app_dir = ROOT / ("examples/WebChat" if mode in ("post", "get") else "tests/apps/Echo")
    devnull = open(os.devnull, "w")  # noqa: SIM115 - the app logs for its whole run
    config = Config(port=0, keep_alive=True, store=os.environ.get("ARO_STORE", "memory"))
    app = Application(load_program(app_dir), app_dir, config=config, stdout=devnull)
    running = asyncio.ensure_future(app.run())
    while "http-server" not in app.services_running:
        await asyncio.sleep(0.01)
    http = app.services_running["http-server"]
    # The metrics' once-a-second flush runs per wall-clock second, which valgrind stretches
    # by the machine's load: stopped, so that a count is the events' work alone.
    http.metrics.stop()
    server = http.server
    if mode == "idle":
        await idle_memory(server, count)
    elif mode == "echo":
        client = (await connect(server, UPGRADE)).protocol
        await feed(client, masked_text(b"x" * 64), count, 2000, timed, mode)
    elif mode == "get":
        client = (await connect(server, b"")).get_protocol()
        for _ in range(STORED_FOR_GET):
            client.data_received(POST)
            await asyncio.sleep(0)
        await feed(client, GET, count, 200, timed, mode)
    else:
        for _ in range(subscribers):
            await connect(server, UPGRADE)
        client = (await connect(server, b"")).get_protocol()
        await feed(client, POST, count, 200, timed, mode)
    app.shutdown_requested.set()
    await running


async def feed(
    client: Any, event: bytes, count: int, warmup: int, timed: bool, mode: str
) -> None:
    """Warm up, then hand ``event`` to the protocol ``count`` times, a loop turn each."""
    for _ in range(warmup):
        client.data_received(event)
        await asyncio.sleep(0)
    if INSTRUMENT:
        start_counting()
    started = time.perf_counter()
    for _ in range(count):
        client.data_received(event)
        await asyncio.sleep(0)  # the Outbox flushes at the next loop iteration
    elapsed = time.perf_counter() - started
    if timed:
        print(f"{mode}: {count} events, {elapsed * 1e6 / max(count, 1):.2f} µs per event")


INSTRUMENT = False  # --callgrind


def start_counting() -> None:
    """Turn callgrind's instrumentation on for this process, the collector off (it made
    counts wander).  callgrind_control is answered while this process runs, so spin."""
    import subprocess

    gc.disable()
    control = subprocess.Popen(
        ["callgrind_control", "-i", "on", str(os.getpid())], stdout=subprocess.DEVNULL
    )
    while control.poll() is None:
        time.sleep(0.001)


async def idle_memory(server: Any, count: int) -> None:
    """What ``count`` idle WebSockets hold, per connection, less our in-memory transport."""
    await connect(server, UPGRADE)  # first-use allocations (caches, the Outbox) not counted
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = [await connect(server, UPGRADE) for _ in range(count)]
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    transport = sys.getsizeof(kept[0]) + sys.getsizeof(kept[0].__dict__)
    print(f"idle: {count} WebSockets, {held / count - transport:.0f} B each")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("mode", choices=("echo", "post", "get", "idle"))
    parser.add_argument("count", type=int)
    parser.add_argument("--subscribers", type=int, default=10, help="post: WebSockets open")
    parser.add_argument("--time", action="store_true", help="print µs per event")
    parser.add_argument(
        "--callgrind", action="store_true", help="count instructions after the warm-up only"
    )
    args = parser.parse_args()
    global INSTRUMENT
    INSTRUMENT = args.callgrind
    sys.setrecursionlimit(10000)
    import uvloop  # what `aro run` serves on

    uvloop.run(workload(args.mode, args.count, args.subscribers, args.time))


if __name__ == "__main__":
    main()
