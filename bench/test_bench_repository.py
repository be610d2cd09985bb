"""Repository costs on the memory backend: Store of one chat message, Retrieve of 20, and the
memory each stored message takes beyond a plain list of the same dicts.

Run: python -m pytest bench/test_bench_repository.py --benchmark-enable -s
(``-s`` shows the per-row memory line.)
"""

from __future__ import annotations

import gc
import tracemalloc
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from aro.runtime.repositories import Repository, RepositoryRegistry

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


def repository(name: str = "message-repository") -> Repository:
    return RepositoryRegistry(observed=lambda name: False).get(name)


def test_store_one_message(benchmark):
    messages = repository()
    row = message(0)
    benchmark(lambda: run(messages.store(row)))


def test_retrieve_20_messages(benchmark):
    messages = repository()
    for number in range(RETRIEVED_ROWS):
        run(messages.store(message(number)))
    assert len(benchmark(messages.retrieve)) == RETRIEVED_ROWS


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
