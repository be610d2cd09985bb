"""The buses between worker processes, driven in one event loop: two workers' buses joined by
the supervisor's relay, or by a private redis-server.  Fakes stand in for each worker's
WebSocket service, so the tests see exactly what each worker's clients were handed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
import redis

from aro.runtime.broadcast import WEBSOCKET_CHANNEL, BroadcastBus, Connections, LocalClients
from aro.runtime.buses import wire
from aro.supervisor.relay import Relay, complete_length, frame, split_frames
from tests.runtime.test_broadcast import FakeService
from tests.support.redis_server import redis_server

SETTLE_SECONDS = 10.0


class Worker:
    """One worker's connections (its clients are a FakeService) and what its bus logged."""

    def __init__(self, bus_url: str, *open_ids: str) -> None:
        self.service = FakeService(*open_ids, clients=2)
        self.logged: list[str] = []
        self.connections = Connections(
            LocalClients(lambda: self.service, lambda: None), bus_url, self.logged.append
        )

    @property
    def bus(self) -> BroadcastBus:
        return self.connections.bus


async def until(condition: Callable[[], bool]) -> None:
    """Wait (bounded) for what another worker was sent to arrive."""
    async with asyncio.timeout(SETTLE_SECONDS):
        while not condition():
            await asyncio.sleep(0.01)


def test_frames_are_split_whole_and_a_partial_one_waits() -> None:
    stream = frame(b"one") + frame(b"") + frame(b"three")
    buffer = bytearray(stream[:-2])
    assert complete_length(stream[:-2]) == len(frame(b"one") + frame(b""))
    assert split_frames(buffer) == [b"one", b""]
    buffer += stream[-2:]
    assert split_frames(buffer) == [b"three"]
    assert buffer == b""


def test_wire_messages_apply_to_this_workers_clients() -> None:
    worker = Worker("local", "ws-1")
    local = worker.connections.local
    wire.apply(wire.broadcast(WEBSOCKET_CHANNEL, b'{"a":1}', True), local)
    wire.apply(wire.send("ws-1", "héllo".encode(), True, True), local)
    wire.apply(wire.send("ws-1", b"\x00\x01", False, False), local)
    wire.apply(wire.send("elsewhere", b"x", True, False), local)  # another worker's
    wire.apply(wire.close("ws-1"), local)
    assert worker.service.payloads == [(b'{"a":1}', True)]
    assert worker.service.sent == [("ws-1", "héllo"), ("ws-1", b"\x00\x01")]
    assert worker.service.closed == ["ws-1"]


async def _two_workers(
    url: str, scenario: Callable[[Worker, Worker], Awaitable[None]]
) -> tuple[Worker, Worker]:
    first, second = Worker(url, "first-1"), Worker(url, "second-1")
    await first.bus.start()
    await second.bus.start()
    try:
        await scenario(first, second)
    finally:
        await first.bus.stop()
        await second.bus.stop()
    return first, second


async def _broadcast_send_close_in_order(first: Worker, second: Worker) -> None:
    assert first.connections.broadcast(WEBSOCKET_CHANNEL, {"n": 1}) == 2  # first's own clients
    first.connections.send("second-1", "to second")
    first.connections.broadcast(WEBSOCKET_CHANNEL, "two")
    first.connections.close("second-1")
    await until(lambda: second.service.closed)


def _assert_one_delivery_per_worker_in_order(first: Worker, second: Worker) -> None:
    assert first.service.payloads == [(b'{"n":1}', True), (b"two", True)]  # once, not echoed
    assert second.service.payloads == first.service.payloads
    assert second.service.sent == [("second-1", "to second")]
    assert second.service.closed == ["second-1"]


def test_the_relay_carries_broadcasts_sends_and_closes_in_order(tmp_path: Path) -> None:
    path = str(tmp_path / "bus.sock")

    async def main() -> tuple[Worker, Worker]:
        relay = Relay(path)
        await relay.start()
        try:
            return await _two_workers(f"unix:{path}", _broadcast_send_close_in_order)
        finally:
            await relay.stop()

    _assert_one_delivery_per_worker_in_order(*asyncio.run(main()))


def test_redis_carries_broadcasts_sends_and_closes_in_order(tmp_path: Path) -> None:
    with redis_server(tmp_path) as server:
        workers = asyncio.run(_two_workers(server.url, _broadcast_send_close_in_order))
    _assert_one_delivery_per_worker_in_order(*workers)


def test_a_worker_cut_off_from_redis_reconnects_and_says_so(tmp_path: Path) -> None:
    async def cut_off_then_broadcast(first: Worker, second: Worker) -> None:
        workers = (first, second)
        admin = redis.Redis.from_url(server.url)
        try:
            assert admin.client_kill_filter(_type="pubsub") == 2  # both workers' readers
        finally:
            admin.close()
        # pub/sub keeps nothing for a reader that is away: broadcast once both are back
        await until(lambda: all(w.logged[-1:] and "reconnected" in w.logged[-1] for w in workers))
        first.connections.broadcast(WEBSOCKET_CHANNEL, "after the cut")
        await until(lambda: (b"after the cut", True) in second.service.payloads)

    with redis_server(tmp_path) as server:
        first, second = asyncio.run(_two_workers(server.url, cut_off_then_broadcast))
    logged = first.logged + second.logged
    assert any(line.startswith("bus: lost Redis at") for line in logged), logged
    assert any(line.startswith("bus: reconnected to Redis at") for line in logged), logged


def test_a_relay_that_is_not_there_stops_the_start(tmp_path: Path) -> None:
    from aro.runtime.errors import StartupError

    worker = Worker(f"unix:{tmp_path / 'missing.sock'}")
    with pytest.raises(StartupError, match="cannot reach the other workers"):
        asyncio.run(worker.bus.start())


def test_what_a_stopping_worker_published_last_still_leaves(tmp_path: Path) -> None:
    async def last_words_then_stop(first: Worker, second: Worker) -> None:
        first.connections.broadcast(WEBSOCKET_CHANNEL, "last words")  # as Application-End may
        await first.bus.stop()
        await until(lambda: (b"last words", True) in second.service.payloads)

    with redis_server(tmp_path) as server:
        asyncio.run(_two_workers(server.url, last_words_then_stop))
