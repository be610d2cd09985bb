"""CPU per message of the buses between workers: the relay of ``aro serve`` and Redis pub/sub.

One publisher sends N broadcasts of a chat message (the JSON WebChat broadcasts, serialized
once) to one subscriber, as a worker's bus does.  Each figure is CPU time (user + system, read
from /proc) divided by N, so it does not depend on how busy the shared box is:

- relay: the supervisor's ``Relay`` in its own process, one frame per write as ``RelayBus``
  writes them; its CPU per message, and the receiving worker's cost to split the frames and
  apply them (``wire.apply`` to clients that count: the framing for the sockets is the hub's,
  the same on every bus);
- redis: a private ``redis-server`` (tests/support/redis_server.py), PUBLISH pipelined in
  batches as ``RedisBus`` does; redis-server's CPU per message and its messages per second.

Run: ``python bench/bus_cost.py [--messages 200000]``.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aro.runtime.broadcast import WEBSOCKET_CHANNEL, LocalClients  # noqa: E402
from aro.runtime.buses import wire  # noqa: E402
from aro.supervisor.relay import frame, split_frames  # noqa: E402

CHAT = b'{"createdAt":"2026-12-07T09:36:31Z","id":"1a24fdcabfac15770d1","message":"hello there"}'
RELAY = """
import asyncio, sys
from aro.supervisor.relay import Relay
async def main():
    relay = Relay(sys.argv[1])
    await relay.start()
    print("ready", flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
"""
BATCH = 100


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CountingService:
    def __init__(self) -> None:
        self.delivered = 0

    def broadcast_payload(self, payload: bytes, text: bool) -> int:
        self.delivered += 1
        return 1


def relay_cost(messages: int) -> dict[str, float]:
    message = frame(wire.broadcast(WEBSOCKET_CHANNEL, CHAT, True))
    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "bus.sock")
        relay = subprocess.Popen(
            [sys.executable, "-c", RELAY, path], stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        try:
            assert relay.stdout.readline().strip() == "ready"
            sender, receiver = socket.socket(socket.AF_UNIX), socket.socket(socket.AF_UNIX)
            sender.connect(path)
            receiver.connect(path)
            time.sleep(0.2)  # both registered as peers
            expected = len(message) * messages
            received = bytearray()

            def read() -> None:
                while len(received) < expected:
                    received.extend(receiver.recv(1 << 20))

            reader = threading.Thread(target=read)
            reader.start()
            before = cpu_seconds(relay.pid)
            for _ in range(messages):
                sender.sendall(message)
            reader.join(60)
            relay_seconds = cpu_seconds(relay.pid) - before
        finally:
            relay.kill()
            relay.wait()
    service = CountingService()
    local = LocalClients(lambda: service, lambda: None)
    started = time.process_time()
    for body in split_frames(received):
        wire.apply(body, local)
    apply_seconds = time.process_time() - started
    assert service.delivered == messages
    return {
        "relay µs/message": relay_seconds / messages * 1e6,
        "receiving worker µs/message": apply_seconds / messages * 1e6,
    }


def redis_cost(messages: int) -> dict[str, float]:
    import redis

    from tests.support.redis_server import redis_server

    message = b"o" * 8 + wire.broadcast(WEBSOCKET_CHANNEL, CHAT, True)
    with tempfile.TemporaryDirectory() as scratch, redis_server(Path(scratch)) as server:
        subscriber = redis.Redis.from_url(server.url).pubsub(ignore_subscribe_messages=True)
        subscriber.subscribe("aro:bus")
        publisher = redis.Redis.from_url(server.url)
        got = 0

        def read() -> None:
            nonlocal got
            while got < messages:
                if subscriber.get_message(timeout=5) is not None:
                    got += 1

        reader = threading.Thread(target=read)
        reader.start()
        before = cpu_seconds(server.process.pid)
        started = time.perf_counter()
        for start in range(0, messages, BATCH):
            pipe = publisher.pipeline(transaction=False)
            for _ in range(min(BATCH, messages - start)):
                pipe.publish("aro:bus", message)
            pipe.execute()
        reader.join(120)
        elapsed = time.perf_counter() - started
        server_seconds = cpu_seconds(server.process.pid) - before
        publisher.close()
        subscriber.close()
    assert got == messages, got
    return {
        "redis-server µs/message": server_seconds / messages * 1e6,
        "messages/s end to end (Python client both ends)": messages / elapsed,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    options = parser.parse_args()
    print(f"{options.messages} broadcasts of {len(CHAT)} bytes, one publisher, one subscriber")
    for name, figures in (
        ("relay", relay_cost(options.messages)),
        ("redis", redis_cost(options.messages)),
    ):
        for label, value in figures.items():
            print(f"{name:<6} {label:<50} {value:>10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
