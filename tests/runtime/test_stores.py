"""Stores shared between processes: the --store option, rows as bytes, and two workers on one
SQLite file or one Redis server (two Repository objects standing in for two processes)."""

from __future__ import annotations

import asyncio
import inspect
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from aro.config import Config, ConfigError
from aro.runtime.repositories import (
    COMPLETED,
    REPOSITORY_CHANGED,
    REPOSITORY_EVICTED,
    Repository,
    StoreUnavailable,
    open_store,
    private_sqlite_store,
)
from aro.runtime.repositories.base import canonical
from aro.runtime.repositories.codec import decode_row, encode_row, key_text
from tests.support.redis_server import free_port, redis_server

ROOT = Path(__file__).resolve().parents[2]


# -- rows and keys as bytes -------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        {"id": "A", "n": 1, "x": 1.0, "ok": True, "none": None, "list": [1, "1", 1.5]},
        datetime(2026, 12, 1, 12, 0, 0, 123456, tzinfo=UTC),
        {"when": datetime(2026, 1, 1, tzinfo=UTC), "blob": b"\x00\xff", "big": 2**70},
        "text with \x00 a NUL",
        [{"nested": {"deep": [b"bytes"]}}],
    ],
)
def test_rows_come_back_as_they_went_in(value: Any):
    back = decode_row(encode_row(value))
    assert back == value
    assert canonical(back) == canonical(value)  # types kept: 1 stays an int, 1.0 a float


def test_key_texts_are_typed_and_independent_of_field_order():
    assert key_text(canonical(1)) != key_text(canonical(1.0)) != key_text(canonical("1"))
    assert key_text(canonical(True)) != key_text(canonical(1))
    first = canonical({"a": 1, "b": [1, "x"]})
    assert key_text(first) == key_text(canonical({"b": [1, "x"], "a": 1}))


# -- the --store option -----------------------------------------------------------------------


def test_store_urls_are_checked_when_read(tmp_path: Path):
    load = lambda url: Config.load({"store": url}, {}).store  # noqa: E731
    assert load("memory") == "memory"
    assert load(f"sqlite:{tmp_path}/a/../chat.db") == f"sqlite:{tmp_path}/chat.db"
    assert load("redis://cache:6380/2") == "redis://cache:6380/2"
    for bad, reason in [
        ("mysql://db", "must be memory, sqlite:PATH or redis://"),
        ("sqlite:", "needs a file"),
        (f"sqlite:{tmp_path}/missing/chat.db", "no directory"),
        (f"sqlite:{tmp_path}", "is a directory"),
        ("redis://cache:port", "bad port"),
        ("redis://cache/db", "must look like"),
    ]:
        with pytest.raises(ConfigError, match=f"^--store .*{reason}"):
            load(bad)


def test_private_sqlite_store_is_a_file_in_the_directory(tmp_path: Path):
    url = private_sqlite_store(tmp_path)
    assert url == f"sqlite:{tmp_path}/repositories.sqlite"
    assert Config.load({"store": url}, {}).store == url


def aro(*arguments: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "aro", *arguments]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=60)


@pytest.fixture
def app(tmp_path: Path) -> Path:
    (tmp_path / "main.aro").write_text(
        '(Application-Start: Demo) {\n    Log "hello" to the <console>.\n'
        "    Return an <OK: status> for the <startup>.\n}\n"
    )
    return tmp_path


def test_a_store_that_cannot_be_used_is_one_line_and_exit_2(app: Path):
    unreachable = f"redis://127.0.0.1:{free_port()}/0"
    for store, says in [
        ("ftp://x", "Error: --store must be memory, sqlite:PATH or redis://"),
        (f"sqlite:{app}/no/such/dir/x.db", "Error: --store cannot create"),
        (unreachable, f"Error: cannot reach Redis at {unreachable}"),
    ]:
        done = aro("run", str(app), "--store", store)
        assert (done.returncode, done.stdout) == (2, ""), done
        assert done.stderr.startswith(says) and done.stderr.count("\n") == 1, done.stderr


def test_a_sqlite_store_keeps_rows_across_runs(app: Path):
    (app / "main.aro").write_text(
        "(Application-Start: Demo) {\n"
        '    Create the <note> with { text: "kept" }.\n'
        "    Store the <note> into the <note-repository>.\n"
        "    Log <note-repository: count> to the <console>.\n"
        "    Return an <OK: status> for the <startup>.\n}\n"
    )
    store = f"sqlite:{app / 'notes.sqlite'}"
    counts = [aro("run", str(app), "--store", store).stdout.splitlines()[0] for _ in range(2)]
    assert counts == ["[Application-Start] 1", "[Application-Start] 2"]


# -- two workers on one store -------------------------------------------------------------------


class Events:
    """One worker's Notify: what its observers and Evicted handlers were told."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def __call__(self, event_type: str, payload: dict[str, Any], wait: bool) -> Any:
        kind = payload.get("changeType") if event_type == REPOSITORY_CHANGED else "evicted"
        self.seen.append((event_type, kind))
        return COMPLETED


@pytest.fixture(params=["sqlite", "redis"])
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:{tmp_path / 'shared.sqlite'}"
        return
    with redis_server(tmp_path) as server:
        yield server.url


def two_workers(url: str) -> tuple[list[Repository], list[Events], list[Any]]:
    stores = [open_store(url), open_store(url)]
    events = [Events(), Events()]
    workers = [
        Repository("chat-repository", seen, store.clock, backend=store.backend("chat-repository"))
        for store, seen in zip(stores, events, strict=True)
    ]
    return workers, events, stores


def test_two_workers_share_rows_ids_and_order_and_each_change_fires_once(shared_url: str):
    async def scenario() -> None:
        (one, two), (seen_one, seen_two), stores = two_workers(shared_url)
        for store in stores:
            await store.open()
        one.configure("maxSize", 3)
        two.configure("maxSize", 3)
        stored = await asyncio.gather(
            *(worker.store({"text": f"m{n}"}) for n in range(3) for worker in (one, two))
        )
        ids = [row["id"] for row, _ in stored]
        assert len(set(ids)) == 6  # no id collides between the workers
        visible = await _read(one)
        assert visible == await _read(two)  # each reads the other's committed writes
        assert len(visible) == 3
        # each worker told its own observers about its own changes, and nobody else's
        for seen in (seen_one, seen_two):
            assert seen.seen.count((REPOSITORY_CHANGED, "created")) == 3
        evictions = seen_one.seen + seen_two.seen
        assert evictions.count((REPOSITORY_EVICTED, "evicted")) == 3  # 6 rows, 3 kept
        # a listing is never stale: each sees the other's next write at once
        await two.store({"text": "late"})
        assert (await _read(one))[-1]["text"] == "late"
        await _settled(one.delete(("text", "is", "late")))
        await asyncio.sleep(0)  # a Delete commits with its loop iteration, without waiting
        assert "late" not in [row["text"] for row in await _read(two)]
        # an upsert by name from one worker updates the row the other stored
        await one.store({"name": "ann", "team": "red"})
        _, is_new = await two.store({"name": "ann", "team": "blue"})
        assert not is_new and seen_two.seen[-1] == (REPOSITORY_CHANGED, "updated")
        for store in stores:
            await store.close()

    asyncio.run(scenario())


def test_a_sqlite_store_waits_for_another_process_lock_and_its_loop_goes_on(tmp_path: Path):
    path = tmp_path / "locked.sqlite"

    async def scenario() -> None:
        store = open_store(f"sqlite:{path}")
        await store.open()
        backend = store.backend("chat-repository")
        chat = Repository("chat-repository", None, store.clock, backend=backend)
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        statements: list[str] = []
        store.connection.set_trace_callback(statements.append)
        storing = asyncio.gather(*(chat.store({"text": f"waits {n}"}) for n in range(3)))
        for _ in range(20):
            await asyncio.sleep(0)  # the loop runs on while the Stores wait
        assert not storing.done()
        assert len(store._queued) == 2  # one Store tries for the lock, the others queue
        assert await _read(chat) == []  # reading needs no lock
        other.execute("COMMIT")
        stored = [row for row, _ in await storing]
        assert await _read(chat) == stored
        assert statements.count("COMMIT") == 1  # the three joined the transaction it began
        store.connection.set_trace_callback(None)
        # A Delete waits in SQLite (blocking, 5 s at most) for the lock to be freed.
        other.execute("BEGIN IMMEDIATE")
        release = threading.Timer(0.2, other.execute, ("COMMIT",))
        release.start()
        await _settled(chat.delete(("text", "is", "waits 0")))
        release.join()
        await asyncio.sleep(0)  # the Delete commits with its loop iteration
        assert await _read(chat) == stored[1:]
        other.close()
        await store.close()

    asyncio.run(scenario())


async def _read(repository: Repository) -> list[Any]:
    return await _settled(repository.retrieve())


async def _settled(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def test_an_unreachable_redis_store_says_so():
    store = open_store(f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(StoreUnavailable, match=r"cannot reach Redis at redis://127\.0\.0\.1:"):
        asyncio.run(store.open())
