"""The memory backend hands out one listing between writes, and its JSON is written once:
every write path must give readers a new listing, so that no stale body is ever served."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from aro.runtime.repositories.memory import MemoryBackend
from aro.vm.values import json as json_values
from aro.vm.values.json import keyed_to_json, to_json


def _backend() -> MemoryBackend:
    backend = MemoryBackend()
    for number in range(3):
        backend.append(f"id{number}", {"id": f"id{number}", "name": f"n{number}"}, 0.0)
    return backend


def test_readers_share_the_listing_and_its_body_until_a_write():
    backend = _backend()
    listing = backend.rows(None)
    assert backend.rows(None) is listing
    body = keyed_to_json("data", listing)
    assert body == to_json({"data": listing})
    assert keyed_to_json("data", backend.rows(None)) is body  # written once
    assert keyed_to_json("rows", listing) == to_json({"rows": listing})  # per payload key


WRITES: dict[str, Callable[[MemoryBackend], Any]] = {
    "append": lambda backend: backend.append("id9", {"id": "id9"}, 0.0),
    "replace": lambda backend: backend.replace("id1", {"id": "id1", "name": "changed"}),
    "evict_over": lambda backend: backend.evict_over(2),
    "remove_matching": lambda backend: backend.remove_matching("id", "id0"),
    "clear": lambda backend: backend.clear(),
}


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_every_write_gives_a_new_listing_and_body(write: Callable[[MemoryBackend], Any]):
    backend = _backend()
    before = backend.rows(None)
    stale = keyed_to_json("data", before)
    snapshot = list(before)
    write(backend)
    assert before == snapshot  # readers of the old listing still see what they got
    after = backend.rows(None)
    assert after is not before
    assert after == list(backend._rows.values())
    assert keyed_to_json("data", after) == to_json({"data": after}) != stale


def test_a_failed_append_keeps_the_listing():
    backend = _backend()
    listing = backend.rows(None)
    assert backend.append("id0", {"id": "id0"}, 0.0) is False
    assert backend.rows(None) is listing


def test_a_list_nobody_holds_is_written_each_time():
    rows = [{"id": "a"}]
    assert keyed_to_json("data", rows) == to_json({"data": rows})
    rows.append({"id": "b"})
    assert keyed_to_json("data", rows) == to_json({"data": rows})


def test_the_held_lists_are_bounded(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(json_values, "_held", {})
    backends = [_backend() for _ in range(json_values._MOST_HELD + 5)]
    for backend in backends:
        backend.rows(None)
    assert len(json_values._held) <= json_values._MOST_HELD
    first = backends[0].rows(None)  # forgotten: still right, written afresh
    assert keyed_to_json("data", first) == to_json({"data": first})
