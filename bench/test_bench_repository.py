"""Repository costs: Store of one chat message and Retrieve of 20 on each backend (memory, a
SQLite file, a private redis-server: skipped without one), and the memory each stored message
takes beyond a plain list of the same dicts on the memory backend.

Run: python -m pytest bench/test_bench_repository.py --benchmark-enable -s
(``-s`` shows the per-row memory line.)
"""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
import uuid
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest

from aro.runtime.repositories import Repository, RepositoryRegistry
from tests.support.redis_server import redis_server

ROWS_FOR_MEMORY = 20_000
RETRIEVED_ROWS = 20


def message(number: int) -> dict[str, Any]:
    """A WebChat message as POST /messages stores it (Store adds the upper-case UUID id)."""
    text = f"message {number} ".ljust(80, "x")
    return {"user": "alice", "message": text, "timestamp": "2026-12-01T12:00:00Z"}


def run(coroutine: Coroutine) -> Any:
    """Run a coroutine that never suspends (the memory backend), without an event loop."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    raise AssertionError("the memory backend suspended")


def repository(name: str = "message-repository", store: str = "memory") -> Repository:
    return RepositoryRegistry(observed=lambda name: False, store=store).get(name)


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The store URL of each backend; Redis on a private server, flushed by its start."""
    if request.param == "redis":
        with redis_server(tmp_path) as server:
            yield server.url
        return
    yield "memory" if request.param == "memory" else f"sqlite:{tmp_path / 'bench.sqlite'}"


def on_loop(loop: asyncio.AbstractEventLoop, suspends: bool) -> Callable[[Any], Any]:
    """How to run one repository call: without a loop when the backend does not suspend."""
    if suspends:
        return lambda value: loop.run_until_complete(_settled(value))
    return lambda value: run(value) if isinstance(value, Coroutine) else value


async def _settled(value: Any) -> Any:
    return await value if isinstance(value, Coroutine) else value


def test_store_one_message(benchmark, store: str):
    messages = repository(store=store)
    loop = asyncio.new_event_loop()
    call = on_loop(loop, messages.suspends)
    row = message(0)
    benchmark(lambda: call(messages.store(row)))
    loop.close()


def test_retrieve_20_messages(benchmark, store: str):
    messages = repository(store=store)
    loop = asyncio.new_event_loop()
    call = on_loop(loop, messages.suspends)
    for number in range(RETRIEVED_ROWS):
        call(messages.store(message(number)))
    assert len(benchmark(lambda: call(messages.retrieve()))) == RETRIEVED_ROWS
    loop.close()


def bytes_per_row(fill: Callable[[], Any], rows: int) -> float:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = fill()
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del kept
    return (after - before) / rows


def memory_per_stored_message(rows: int = ROWS_FOR_MEMORY) -> tuple[float, float]:
    """Bytes per message kept by the repository, and by a plain list of the same dicts with
    the same id (what the aiohttp peer keeps), over ``rows`` messages."""

    def plain_list() -> list[dict[str, Any]]:
        return [
            {**message(number), "id": str(uuid.uuid4()).upper()}
            for number in range(rows)
        ]

    def stored() -> Repository:
        messages = repository()
        for number in range(rows):
            run(messages.store(message(number)))
        return messages

    return bytes_per_row(stored, rows), bytes_per_row(plain_list, rows)


def test_memory_per_stored_message():
    repository_row, plain = memory_per_stored_message()
    print(f"\nper stored message: repository {repository_row:.0f} B, plain list {plain:.0f} B")


def test_store_20_concurrent_messages(benchmark, store: str):
    """Twenty Stores started in one loop iteration, as concurrent POSTs are: on SQLite they
    share one commit."""
    messages = repository(store=store)
    loop = asyncio.new_event_loop()
    rows = [message(number) for number in range(RETRIEVED_ROWS)]

    async def store_all() -> None:
        await asyncio.gather(*(messages.store(row) for row in rows))

    benchmark(lambda: loop.run_until_complete(store_all()))
    loop.close()
