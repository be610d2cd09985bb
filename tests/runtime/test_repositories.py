"""Repository and RepositoryRegistry: the reference's Store/Retrieve/Delete semantics on every
backend: memory, one that really suspends (so the asynchronous seam is proven), a SQLite file
and a private redis-server (skipped when redis-server is not installed)."""

from __future__ import annotations

import asyncio
import inspect
import re
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import redis

from aro.runtime.repositories import (
    BACKENDS,
    COMPLETED,
    REPOSITORY_CHANGED,
    REPOSITORY_EVICTED,
    MemoryBackend,
    MemoryStore,
    NotPrefetchedError,
    Repository,
    RepositoryRegistry,
    StoreFileError,
    canonical,
    load_store_files,
    open_store,
    read_store_file,
)
from aro.runtime.repositories.base import row_key
from aro.vm import entity_ids
from tests.support.redis_server import redis_server

UUID_UPPER = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")


class Recorder:
    """A Notify callback that records events; ``hold`` keeps waiting stores pending."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any], bool]] = []
        self.hold: asyncio.Event | None = None

    def __call__(self, event_type: str, payload: dict[str, Any], wait: bool) -> Any:
        self.events.append((event_type, payload, wait))
        return self._wait() if wait else COMPLETED

    async def _wait(self) -> None:
        if self.hold is not None:
            await self.hold.wait()

    def changes(self) -> list[str]:
        return [p["changeType"] for t, p, _ in self.events if t == REPOSITORY_CHANGED]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class SuspendingBackend:
    """The memory backend behind methods that yield to the event loop before answering: what
    a backend on a server looks like to the repository."""

    suspends = True

    def __init__(self) -> None:
        self._memory = MemoryBackend()

    def atomically(self, looks_up: bool) -> Any:
        return self._memory.atomically(looks_up)

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._memory, name)

        async def suspending(*arguments: Any) -> Any:
            await asyncio.sleep(0)
            return method(*arguments)

        return suspending


class SuspendingStore(MemoryStore):
    suspends = True

    def backend(self, repository: str) -> Any:
        return SuspendingBackend()


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One private redis-server for this module's Redis cases (each flushes it first)."""
    with redis_server(tmp_path_factory.mktemp("redis")) as server:
        yield server.url


def _suspending(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    BACKENDS["suspending"] = lambda _url: SuspendingStore()
    request.addfinalizer(lambda: BACKENDS.pop("suspending"))
    return "suspending"


def _sqlite(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return f"sqlite:{tmp_path / 'repositories.sqlite'}"


def _redis(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url = request.getfixturevalue("redis_url")
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


STORE_URLS = {"memory": None, "suspending": _suspending, "sqlite": _sqlite, "redis": _redis}


@pytest.fixture(params=list(STORE_URLS), autouse=True)
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """Every test runs on every backend: memory, a suspending one, a SQLite file and a Redis
    server, each standing in for ``memory`` (so that registries and whole programs use it)."""
    url_of = STORE_URLS[request.param]
    if url_of is not None:
        url = url_of(request, tmp_path)
        opener = BACKENDS[url.partition(":")[0]]
        monkeypatch.setitem(BACKENDS, "memory", lambda _url: opener(url))
    runner = asyncio.Runner()
    monkeypatch.setattr(RUNNER, "runner", runner, raising=False)
    request.addfinalizer(runner.close)
    return request.param


class RUNNER:
    """This test's event loop: a Redis client stays bound to the loop it first ran on."""

    runner: asyncio.Runner


def on_loop(coroutine: Any) -> Any:
    return RUNNER.runner.run(coroutine)


def make(notify: Recorder | None = None, clock: Clock | None = None) -> Repository:
    backend = open_store("memory").backend("user-repository")
    return Repository("user-repository", notify, clock or Clock(), backend=backend)


def settle(value: Any) -> Any:
    """A repository's answer: itself, or what it awaits to when the backend suspends."""
    return on_loop(resolved(value)) if inspect.isawaitable(value) else value


async def resolved(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def store(repository: Repository, value: Any) -> tuple[Any, bool]:
    return on_loop(repository.store(value))


def retrieve(repository: Repository, where: tuple[str, str, Any] | None = None) -> list[Any]:
    return settle(repository.retrieve(where))


def count(repository: Repository) -> int:
    return settle(repository.count())


def delete(repository: Repository, where: tuple[str, str, Any] | None = None) -> list[Any]:
    return settle(repository.delete(where))


# -- typed equality ---------------------------------------------------------------------------


def test_canonical_distinguishes_types():
    assert canonical(1) != canonical(1.0)
    assert canonical(1) != canonical("1")
    assert canonical(True) != canonical(1)
    assert canonical(False) != canonical(0)
    assert canonical({"a": 1, "b": [1, "x"]}) == canonical({"b": [1, "x"], "a": 1})
    assert canonical({"a": 1}) != canonical({"a": 1.0})
    assert canonical([1, 2]) != canonical([2, 1])
    assert canonical(None) == canonical(None)


# -- Store: dicts -------------------------------------------------------------------------------


def test_store_adds_uppercase_uuid_without_touching_the_input():
    repository = make()
    user = {"email": "a@x"}
    stored, is_new = store(repository, user)
    assert is_new is True
    assert UUID_UPPER.match(stored["id"])
    assert user == {"email": "a@x"}
    assert retrieve(repository) == [stored]


def test_store_without_id_updates_the_row_with_the_same_name_and_keeps_its_id():
    notify = Recorder()
    repository = make(notify)
    first, _ = store(repository, {"name": "Ann", "age": 1})
    second, is_new = store(repository, {"name": "Ann", "age": 2})
    assert is_new is False
    assert second == {"name": "Ann", "age": 2, "id": first["id"]}
    assert retrieve(repository) == [second]
    event = notify.events[-1][1]
    assert event["changeType"] == "updated"
    assert event["entityId"] == first["id"]
    assert event["oldValue"] == first
    assert event["newValue"] == second


def test_identity_upsert_is_typed_and_uses_key_only_without_name():
    repository = make()
    store(repository, {"name": "1"})
    _, is_new = store(repository, {"name": 1})
    assert is_new is True
    store(repository, {"key": "k", "v": 1})
    _, is_new = store(repository, {"key": "k", "v": 2})
    assert is_new is False
    # A name that matches nothing makes a new row even when its key matches one.
    _, is_new = store(repository, {"name": "new", "key": "k"})
    assert is_new is True
    assert count(repository) == 4


def test_identical_named_store_still_announces_an_update():
    notify = Recorder()
    repository = make(notify)
    store(repository, {"name": "Ann"})
    store(repository, {"name": "Ann"})
    assert notify.changes() == ["created", "updated"]


def test_store_by_id_replaces_in_place_and_identical_value_is_a_silent_no_op():
    notify = Recorder()
    repository = make(notify)
    store(repository, {"id": "a", "v": 1})
    store(repository, {"id": "b", "v": 1})
    replaced, is_new = store(repository, {"id": "a", "v": 2})
    assert is_new is False
    assert retrieve(repository) == [{"id": "a", "v": 2}, {"id": "b", "v": 1}]
    assert notify.changes() == ["created", "created", "updated"]
    _, is_new = store(repository, {"v": 2, "id": "a"})
    assert is_new is False
    assert notify.changes() == ["created", "created", "updated"]
    assert replaced == {"id": "a", "v": 2}


def test_ids_are_typed():
    repository = make()
    store(repository, {"id": 1, "v": "int"})
    store(repository, {"id": "1", "v": "text"})
    assert count(repository) == 2
    store(repository, {"id": 1, "v": "int2"})
    assert [row["v"] for row in retrieve(repository)] == ["int2", "text"]


def test_created_event_payload():
    notify = Recorder()
    repository = make(notify)
    stored, _ = store(repository, {"name": "Ann"})
    event_type, event, wait = notify.events[0]
    assert (event_type, wait) == (REPOSITORY_CHANGED, True)
    assert event["repositoryName"] == "user-repository"
    assert event["changeType"] == "created"
    assert event["entityId"] == stored["id"]
    assert event["newValue"] == stored
    assert "oldValue" not in event
    assert isinstance(event["timestamp"], datetime)


class CountingBackend:
    """A backend that counts the calls made to it, forwarding each one."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend
        self.suspends = backend.suspends
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        self.calls.append(name)
        return getattr(self._backend, name)


def test_a_created_id_is_appended_without_a_lookup_then_upserted_by_it():
    notify = Recorder()
    repository = make(notify)
    backend = repository.backend = CountingBackend(repository.backend)
    message = {"text": "hi", "id": entity_ids.mint()}
    stored, is_new = store(repository, message)
    assert (stored, is_new) == (message, True)
    assert "get" not in backend.calls and "append" in backend.calls
    # the id is not fresh any more: storing it again looks it up and changes nothing
    assert store(repository, message) == (message, False)
    _, is_new = store(repository, {**message, "text": "edited"})
    assert is_new is False and backend.calls.count("get") == 2
    assert retrieve(repository) == [{**message, "text": "edited"}]
    assert notify.changes() == ["created", "updated"]


def test_a_created_id_that_a_row_already_has_still_upserts():
    """The id went out before its Store (another process stored a row under it first): the
    Store finds the row and updates it, as any Store by id does."""
    notify = Recorder()
    repository = make(notify)
    first = {"text": "from elsewhere", "id": entity_ids.mint()}
    settle(repository.backend.append(row_key(first), first, 1000.0))
    second, is_new = store(repository, {**first, "text": "here"})
    assert is_new is False
    assert retrieve(repository) == [second] and count(repository) == 1
    event = notify.events[-1][1]
    assert (event["changeType"], event["oldValue"]) == ("updated", first)


def test_a_created_id_counts_towards_max_size():
    repository = make()
    repository.configure("maxSize", 2)
    for text in ("a", "b", "c"):
        store(repository, {"text": text, "id": entity_ids.mint()})
    assert [row["text"] for row in retrieve(repository)] == ["b", "c"]


# -- Store: scalars and lists -----------------------------------------------------------------


def test_scalars_are_deduplicated_by_value_and_type():
    notify = Recorder()
    repository = make(notify)
    for value in ("1", 1, 1.0, True, "1", 1):
        store(repository, value)
    assert retrieve(repository) == ["1", 1, 1.0, True]
    # The reference announces a duplicate scalar as an update with equal old and new values.
    assert notify.changes() == ["created"] * 4 + ["updated"] * 2
    duplicate = notify.events[-1][1]
    assert duplicate["newValue"] == duplicate["oldValue"] == 1
    assert "entityId" not in duplicate


def test_list_is_stored_element_wise_reporting_the_last_element():
    repository = make()
    stored, is_new = store(repository, ["a", {"name": "x"}, "a"])
    assert stored[0] == "a" and stored[2] == "a"
    assert UUID_UPPER.match(stored[1]["id"])
    assert is_new is False  # the last element was a duplicate
    assert count(repository) == 2
    assert store(repository, []) == ([], False)


async def _announced(notify: Recorder) -> None:
    while not notify.events:
        await asyncio.sleep(0.001)


def test_store_waits_for_observers_element_by_element():
    async def scenario() -> None:
        notify = Recorder()
        notify.hold = asyncio.Event()
        repository = make(notify)
        task = asyncio.create_task(repository.store(["a", "b"]))
        await asyncio.wait_for(_announced(notify), 10)  # "a" is stored, its observers wait
        assert not task.done()
        assert await resolved(repository.retrieve()) == ["a"]  # "b" waits for observers of "a"
        notify.hold.set()
        assert await task == (["a", "b"], True)
        assert [p["newValue"] for _, p, _ in notify.events] == ["a", "b"]

    on_loop(scenario())


# -- Retrieve -------------------------------------------------------------------------------------


def test_retrieve_where_is_typed_equality_in_insertion_order_ignoring_the_operator():
    repository = make()
    rows = [
        {"id": "1", "team": "red", "n": 1},
        {"id": "2", "team": "blue", "n": 1.0},
        {"id": "3", "team": "red", "n": "1"},
    ]
    store(repository, rows)
    assert retrieve(repository, ("team", "==", "red")) == [rows[0], rows[2]]
    assert retrieve(repository, ("team", "!=", "red")) == [rows[0], rows[2]]
    assert retrieve(repository, ("n", "is", 1)) == [rows[0]]
    assert retrieve(repository, ("n", "is", "1")) == [rows[2]]
    assert retrieve(repository, ("id", "is", "2")) == [rows[1]]
    assert retrieve(repository, ("id", "is", 2)) == []
    assert retrieve(repository, ("missing", "is", None)) == []


def test_retrieve_where_after_updates_keeps_insertion_order():
    repository = make()
    store(repository, [{"name": "a", "g": 1}, {"name": "b", "g": 1}])
    store(repository, {"name": "a", "g": 1, "changed": True})
    assert [row["name"] for row in retrieve(repository, ("g", "is", 1))] == ["a", "b"]
    assert [row["name"] for row in retrieve(repository)] == ["a", "b"]


def test_unknown_repository_is_empty():
    assert retrieve(RepositoryRegistry().get("nothing-repository")) == []


# -- Delete -------------------------------------------------------------------------------------


def test_delete_where_removes_rows_and_fires_events_without_waiting():
    notify = Recorder()
    repository = make(notify)
    store(repository, [{"id": "a", "g": 1}, {"id": "b", "g": 2}, {"id": "c", "g": 1}])
    notify.events.clear()
    deleted = delete(repository, ("g", "is", 1))
    assert deleted == [{"id": "a", "g": 1}, {"id": "c", "g": 1}]
    assert retrieve(repository) == [{"id": "b", "g": 2}]
    assert [(t, p["changeType"], p["entityId"], w) for t, p, w in notify.events] == [
        (REPOSITORY_CHANGED, "deleted", "a", False),
        (REPOSITORY_CHANGED, "deleted", "c", False),
    ]
    assert notify.events[0][1]["oldValue"] == {"id": "a", "g": 1}
    assert "newValue" not in notify.events[0][1]
    assert delete(repository, ("g", "is", 1)) == []
    # A deleted id can be stored again as a new row.
    _, is_new = store(repository, {"id": "a"})
    assert is_new is True


def test_delete_without_where_clears_with_one_anonymous_event():
    notify = Recorder()
    repository = make(notify)
    store(repository, ["x", "y"])
    notify.events.clear()
    assert delete(repository) == ["x", "y"]
    assert count(repository) == 0
    [(event_type, event, wait)] = notify.events
    assert (event_type, event["changeType"], wait) == (REPOSITORY_CHANGED, "deleted", False)
    assert not {"entityId", "newValue", "oldValue"} & event.keys()
    _, is_new = store(repository, "x")
    assert is_new is True


# -- synchronous readers ----------------------------------------------------------------------


def test_synchronous_reads_match_retrieve_and_count_once_prefetched(backend: str):
    clock = Clock()
    repository = make(clock=clock)
    repository.configure("ttl", 1)
    store(repository, [{"id": "old", "team": "red"}, "scalar"])
    clock.now += 2
    store(repository, [{"id": "new", "team": "red"}, {"id": "other", "team": 1}])
    if repository.suspends:
        with pytest.raises(NotPrefetchedError, match="user-repository"):
            repository.rows_now()
        on_loop(repository.prefetch())
    assert repository.rows_now() == retrieve(repository)
    assert repository.rows_now(("team", "is", "red")) == [{"id": "new", "team": "red"}]
    assert repository.rows_now(("team", "is", "1")) == []
    assert repository.count_now() == count(repository) == 4


def test_a_change_drops_the_snapshot(backend: str):
    repository = make()
    on_loop(repository.prefetch())
    store(repository, "x")
    if repository.suspends:
        with pytest.raises(NotPrefetchedError):
            repository.count_now()
        on_loop(repository.prefetch())
    assert repository.count_now() == 1
    delete(repository)
    if repository.suspends:
        with pytest.raises(NotPrefetchedError):
            repository.rows_now()


def test_statements_name_the_repositories_they_read_without_waiting():
    import aro.actions  # noqa: F401  (registers every verb)
    from aro.lang.compiler import compile_source
    from aro.vm.machine import linked

    source = """(Demo: Reads) {
        Retrieve the <all> from the <a-repository> where <n> is <b-repository: count>.
        Log [<c-repository>, { k: <c-repository: 0> }] to the <console>.
        Store the <all> into the <d-repository>.
        Delete the <gone> from the <e-repository>.
        Retrieve the <x> from <f-repository> when <g-repository: count> > 0.
    }
    """
    code = compile_source(source, "main.aro").code_objects[0]
    reads = [set(plan.reads) for plan in linked(code).plans]
    assert reads == [
        {"a-repository", "b-repository"},
        {"c-repository"},
        set(),
        set(),
        {"f-repository", "g-repository"},
    ]


# -- limits ---------------------------------------------------------------------------------------


def test_max_size_evicts_the_oldest_row_and_announces_it_first():
    notify = Recorder()
    repository = make(notify)
    repository.configure("maxSize", 3)
    for label in ("first", "second", "third", "fourth"):
        store(repository, {"label": label})
    assert [row["label"] for row in retrieve(repository)] == ["second", "third", "fourth"]
    evictions = [(p, w) for t, p, w in notify.events if t == REPOSITORY_EVICTED]
    assert len(evictions) == 1
    event, wait = evictions[0]
    assert wait is False
    assert event["evictedItem"]["label"] == "first"
    assert event["repositoryName"] == "user-repository"
    assert event["reason"] == "maxSize"
    assert isinstance(event["timestamp"], float)
    # announced before the created event of the row that caused it
    kinds = [t for t, _, _ in notify.events]
    assert kinds[-2:] == [REPOSITORY_EVICTED, REPOSITORY_CHANGED]


def test_max_size_applies_from_the_next_append_one_row_at_a_time():
    repository = make()
    store(repository, ["a", "b", "c", "d"])
    repository.configure("maxSize", 2)
    assert count(repository) == 4
    store(repository, {"id": "x"})
    assert retrieve(repository) == ["b", "c", "d", {"id": "x"}]
    store(repository, {"id": "x", "v": 1})  # an update never evicts
    assert count(repository) == 4


def test_ttl_hides_old_rows_from_retrieve_but_not_from_count_store_or_delete():
    clock = Clock()
    notify = Recorder()
    repository = make(notify, clock)
    repository.configure("ttl", 1)
    store(repository, {"id": "old", "v": 1})
    clock.now += 0.5
    store(repository, {"id": "new", "v": 1})
    assert len(retrieve(repository)) == 2
    clock.now += 0.75
    assert retrieve(repository) == [{"id": "new", "v": 1}]
    assert retrieve(repository, ("v", "is", 1)) == [{"id": "new", "v": 1}]
    assert count(repository) == 2
    _, is_new = store(repository, {"id": "old", "v": 2})  # updates the hidden row in place
    assert is_new is False
    assert retrieve(repository) == [{"id": "new", "v": 1}]
    assert delete(repository, ("id", "is", "old")) == [{"id": "old", "v": 2}]


def test_birth_times_stay_with_their_rows_through_eviction_and_deletion():
    clock = Clock()
    repository = make(clock=clock)
    repository.configure("ttl", 10)
    repository.configure("maxSize", 3)
    for label in "abcdefgh":  # born 1000 … 1007; a to e are evicted
        store(repository, {"id": label})
        clock.now += 1
    delete(repository, ("id", "is", "g"))
    store(repository, {"id": "i"})  # born 1008
    clock.now = 1015.5  # rows born before 1005.5 are hidden
    assert retrieve(repository) == [{"id": "h"}, {"id": "i"}]
    assert retrieve(repository, ("id", "is", "f")) == []
    assert count(repository) == 3


def test_memory_rows_share_one_key_table_and_read_as_plain_dicts():
    backend = MemoryBackend()
    rows = [{"user": "u", "message": str(n), "id": str(n)} for n in range(50)]
    for row in rows:
        backend.append(row["id"], row, 0.0)
    odd = {"__dict__": {}, "id": "odd"}
    backend.append("odd", odd, 0.0)
    kept = backend.rows(None)
    assert kept == [*rows, odd] and all(type(row) is dict for row in kept)
    assert list(kept[0]) == ["user", "message", "id"]
    # values only: CPython counts a shared key table's size divided among its sharers
    assert sys.getsizeof(kept[0]) < sys.getsizeof(rows[0])
    assert kept[-1] is odd  # a field no attribute can be: kept as given


def test_configure_rejects_unknown_options():
    with pytest.raises(ValueError):
        make().configure("colour", 1)


# -- registry and .store files ------------------------------------------------------------------


def test_registry_creates_each_repository_once_with_its_notify():
    notify = Recorder()
    registry = RepositoryRegistry(notify)
    repository = registry.get("a-repository")
    assert registry.get("a-repository") is repository
    assert repository.name == "a-repository"
    store(repository, "x")
    assert notify.events[0][1]["repositoryName"] == "a-repository"


def test_an_unobserved_repository_announces_nothing_and_stores_the_same():
    notify = Recorder()
    asked: list[str] = []
    registry = RepositoryRegistry(notify, lambda name: asked.append(name) or name == "a-repository")
    watched, unwatched = registry.get("a-repository"), registry.get("b-repository")
    registry.get("b-repository")
    assert asked == ["a-repository", "b-repository"]
    for repository in (watched, unwatched):
        stored, is_new = store(repository, {"name": "x"})
        assert is_new and UUID_UPPER.match(stored["id"])
        store(repository, {"name": "x", "v": 2})
        delete(repository, ("name", "==", "x"))
        store(repository, "scalar")
        delete(repository)
    assert [p["repositoryName"] for _, p, _ in notify.events] == ["a-repository"] * 5
    assert count(unwatched) == 0


def test_store_files_seed_repositories_silently(tmp_path: Path):
    (tmp_path / "products.store").write_text(
        "# catalog\n"
        "- id: p1\n  name: Widget\n  price: 9.99\n  category: hardware\n"
        "- id: p2\n  name: Gadget\n  price: 24\n  category: electronics\n"
        "- just text\n",
        encoding="utf-8",
    )
    (tmp_path / "config.store").write_text("name: single\nenabled: true\n", encoding="utf-8")
    (tmp_path / ".hidden.store").write_text("- id: h\n", encoding="utf-8")
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "deep.store").write_text("- id: d\n", encoding="utf-8")
    notify = Recorder()
    registry = RepositoryRegistry(notify)
    settle(load_store_files(registry, tmp_path))
    products = retrieve(registry.get("products-repository"))
    assert products == [
        {"id": "p1", "name": "Widget", "price": 9.99, "category": "hardware"},
        {"id": "p2", "name": "Gadget", "price": 24, "category": "electronics"},
    ]
    [config] = retrieve(registry.get("config-repository"))
    assert config["name"] == "single" and config["enabled"] is True
    assert UUID_UPPER.match(config["id"])
    assert count(registry.get("deep-repository")) == 0
    assert count(registry.get(".hidden-repository")) == 0
    assert notify.events == []


def test_seeding_again_adds_no_row(tmp_path: Path):
    """A persistent store is seeded at every start and by every worker: the rows that nothing
    identifies keep the id their place in the file gives them, so they are found again."""
    (tmp_path / "notes.store").write_text(
        "- text: first\n- text: first\n- text: second\n- name: named\n", encoding="utf-8"
    )
    registry = RepositoryRegistry()
    for _ in range(2):
        settle(load_store_files(registry, tmp_path))
    rows = retrieve(registry.get("notes-repository"))
    texts = [row.get("text", row.get("name")) for row in rows]
    assert texts == ["first", "first", "second", "named"]
    ids = {row["id"] for row in rows}
    assert len(ids) == 4 and all(UUID_UPPER.match(row_id) for row_id in ids)


def test_store_file_scalars_follow_the_reference_reader(tmp_path: Path):
    path = tmp_path / "x.store"
    path.write_text(
        "- when: 2024-01-02\n  flag: yes\n  on: FALSE\n  nothing: null\n  tilde: ~\n"
        "  nested: {a: null}\n",
        encoding="utf-8",
    )
    [row] = read_store_file(path)
    assert row == {
        "when": "2024-01-02",
        "flag": "yes",
        "on": False,
        "nothing": "",
        "tilde": "",
        "nested": {"a": ""},
    }


def test_store_file_errors_name_the_file(tmp_path: Path):
    path = tmp_path / "bad.store"
    path.write_text("- [unclosed\n", encoding="utf-8")
    with pytest.raises(StoreFileError, match=r"bad\.store"):
        settle(load_store_files(RepositoryRegistry(), tmp_path))


def test_empty_store_file_seeds_nothing(tmp_path: Path):
    (tmp_path / "empty.store").write_text("", encoding="utf-8")
    registry = RepositoryRegistry()
    settle(load_store_files(registry, tmp_path))
    assert count(registry.get("empty-repository")) == 0


# -- end to end: ARO programs -------------------------------------------------------------------


def test_program_store_retrieve_and_new_entry(run_app):
    code, lines = run_app(
        """
        (Application-Start: Demo) {
            Create the <ann> with { name: "Ann", team: "red" }.
            Create the <bob> with { name: "Bob", team: "blue" }.
            Store the <saved: ann> into the <user-repository>.
            Log <new-entry> to the <console>.
            Store the <bob> into the <user-repository>.
            Create the <ann2> with { name: "Ann", team: "green" }.
            Store the <again: ann2> into the <user-repository>.
            Log <new-entry> to the <console>.
            Log <again: id> == <saved: id> to the <console>.
            Log <user-repository: count> to the <console>.
            Retrieve the <one> from the <user-repository> where <name> is "Bob".
            Log <one: team> to the <console>.
            Retrieve the <nobody> from the <user-repository> where <name> is "Cy".
            Log <nobody> to the <console>.
            Retrieve the <fallback> from the <user-repository> where <name> is "Cy" default "-".
            Log <fallback> to the <console>.
            Retrieve the <newest> from the <user-repository: last>.
            Log <newest: name> to the <console>.
            Retrieve the <oldest> from the <user-repository: 1>.
            Log <oldest: team> to the <console>.
            Retrieve the <blank> from the <other-repository: first>.
            Log "[" ++ <blank> ++ "]" to the <console>.
            Return an <OK: status> for the <demo>.
        }
        """
    )
    assert code == 0
    assert lines == [
        "[Application-Start] 1",
        "[Application-Start] 0",
        "[Application-Start] true",
        "[Application-Start] 2",
        "[Application-Start] blue",
        "[Application-Start] []",
        "[Application-Start] -",
        "[Application-Start] Bob",
        "[Application-Start] green",
        "[Application-Start] []",
        "[OK] demo",
    ]


def test_program_plain_store_binds_new_entry(run_app):
    """``Store the <x> into the <y-repository>`` (linked once, a plain call where the backend
    allows) binds ``new-entry`` on every backend, waiting or not."""
    code, lines = run_app(
        """
        (Application-Start: Demo) {
            Create the <ann> with { name: "Ann" }.
            Store the <ann> into the <user-repository>.
            Log <new-entry> to the <console>.
            Retrieve the <stored> from the <user-repository: first>.
            Store the <stored> into the <user-repository>.
            Log <new-entry> to the <console>.
            Log <user-repository: count> to the <console>.
            Return an <OK: status> for the <demo>.
        }
        """
    )
    assert code == 0
    assert lines == [
        "[Application-Start] 1",
        "[Application-Start] 0",
        "[Application-Start] 1",
        "[OK] demo",
    ]


def test_program_observers_see_store_and_delete(run_app):
    code, lines = run_app(
        """
        (Application-Start: Demo) {
            Create the <user> with { id: "u1", name: "Ann" }.
            Store the <user> into the <user-repository>.
            Log "stored" to the <console>.
            Delete the <gone> from the <user-repository> where <id> is "u1".
            Log <user-repository: count> to the <console>.
            Return an <OK: status> for the <demo>.
        }

        (Audit: user-repository Observer) {
            Extract the <kind> from the <event: changeType>.
            Extract the <id> from the <event: entityId>.
            Log <kind> ++ " " ++ <id> to the <console>.
        }

        (Created Only: user-repository Observer) when <changeType> == "created" {
            Log "only created" to the <console>.
        }
        """
    )
    assert code == 0
    # Store waits for its observers (they run concurrently); Delete does not wait.
    assert set(lines[:2]) == {"[Audit] created u1", "[Created Only] only created"}
    assert lines[2] == "[Application-Start] stored"
    assert sorted(lines[3:-1]) == ["[Application-Start] 0", "[Audit] deleted u1"]
    assert lines[-1] == "[OK] demo"


def test_program_max_size_evicts_into_the_evicted_handler(run_app):
    code, lines = run_app(
        """
        (Application-Start: Demo) {
            Configure the <log-repository: maxSize> with 2.
            Create the <e1> with { label: "first" }.
            Create the <e2> with { label: "second" }.
            Create the <e3> with { label: "third" }.
            Store the <e1> into the <log-repository>.
            Store the <e2> into the <log-repository>.
            Store the <e3> into the <log-repository>.
            Retrieve the <entries> from the <log-repository>.
            Compute the <entry-count: count> from <entries>.
            Log <entry-count> to the <console>.
            Return an <OK: status> for the <demo>.
        }

        (Track Eviction: log-repository Evicted Handler) {
            Extract the <evicted> from the <event: evictedItem>.
            Extract the <label> from the <evicted: label>.
            Log <label> to the <console>.
        }
        """
    )
    assert code == 0
    assert sorted(lines[:-1]) == ["[Application-Start] 2", "[Track Eviction] first"]
    assert lines[-1] == "[OK] demo"


def test_program_reads_store_files(run_app, tmp_path: Path):
    (tmp_path / "products.store").write_text(
        "- id: p1\n  name: Widget\n  category: hardware\n"
        "- id: p2\n  name: Gadget\n  category: electronics\n"
        "- id: p3\n  name: Gizmo\n  category: hardware\n",
        encoding="utf-8",
    )
    code, lines = run_app(
        """
        (Application-Start: Store File Demo) {
            Retrieve the <products> from the <products-repository>.
            Compute the <product-count: length> from <products>.
            Log <product-count> to the <console>.
            Retrieve the <hardware> from the <products-repository> where <category> is "hardware".
            Compute the <hardware-count: length> from <hardware>.
            Log <hardware-count> to the <console>.
            Retrieve the <widget> from the <products-repository> where <id> is "p1".
            Extract the <name> from the <widget: name>.
            Log <name> to the <console>.
            Return an <OK: status> for the <startup>.
        }
        """,
        root=tmp_path,
    )
    assert code == 0
    assert lines == [
        "[Application-Start] 3",
        "[Application-Start] 2",
        "[Application-Start] Widget",
        "[OK] startup",
    ]


def test_clear_empties_a_repository_and_tells_its_observers(run_app):
    code, lines = run_app(
        """
        (Application-Start: Demo) {
            Create the <first> with { id: "m1", text: "hi" }.
            Create the <second> with { id: "m2", text: "bye" }.
            Store the <first> into the <message-repository>.
            Store the <second> into the <message-repository>.
            Clear the <all> from the <message-repository>.
            Log <message-repository: count> to the <console>.
        }

        (Audit: message-repository Observer) when <changeType> == "deleted" {
            Log "cleared" to the <console>.
        }
        """
    )
    assert code == 0
    assert "[Application-Start] 0" in lines
    # A clear is one deletion event for the whole repository.
    assert [line for line in lines if line.startswith("[Audit]")] == ["[Audit] cleared"]


def test_program_reads_repositories_in_conditions_loops_matches_guards_and_templates(
    run_app, tmp_path: Path
):
    """Everywhere an expression reads a repository without an action around it: on a backend
    that waits, each is prefetched first (else the read would fail as not prefetched)."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "count.txt").write_text(
        "{{ <note-repository: count> }}:{{ for each <n> in <note-repository> { }}{{ <n: text> }}"
        "{{ } }}"
    )
    code, lines = run_app(
        """
        (Application-Start: Demo) {
            Create the <note> with { text: "a" }.
            Store the <note> into the <note-repository>.
            while <note-repository: count> < 2 {
                Create the <more> with { text: "b" }.
                Store the <more> into the <note-repository>.
                Log "while" to the <console>.
            }
            for each <row> in <note-repository> where <note-repository: count> > 0 {
                Log "for " ++ <row: text> to the <console>.
            }
            match <note-repository: count> {
                case 2 where <note-repository: count> > 0 {
                    Log "match" to the <console>.
                }
            }
            Transform the <page> from the <template: count.txt>.
            Log <page> to the <console>.
            Emit a <Ping: event> with { n: 1 }.
            Return an <OK: status> for the <demo>.
        }

        (Guarded: Ping Handler) when <note-repository: count> == 2 {
            Log "guard" to the <console>.
        }
        """,
        root=tmp_path,
    )
    assert code == 0, lines
    assert lines == [
        "[Application-Start] while",
        "[Application-Start] for a",
        "[Application-Start] for b",
        "[Application-Start] match",
        "[Application-Start] 2:ab",
        "[Guarded] guard",
        "[OK] demo",
    ]


# -- plain-call stores ----------------------------------------------------------------------------


def _unobserved(notify: Recorder) -> Repository:
    backend = MemoryBackend()
    return Repository("user-repository", notify, Clock(), observed=False, backend=backend)


def test_only_a_memory_repository_that_nobody_observes_stores_with_plain_calls(backend):
    assert make().stores_now is (backend == "memory")  # no notify: nobody to wait for
    assert make(Recorder()).stores_now is False  # observed: Store waits for the observers
    assert _unobserved(Recorder()).stores_now is True


def _without_ids(value: Any) -> Any:
    """A Store's answer without the ids it made (fresh in each run)."""
    if type(value) is dict:
        return {name: item for name, item in value.items() if name != "id"}
    if type(value) in (list, tuple):
        return [_without_ids(item) for item in value]
    return value


def test_store_now_answers_and_announces_what_store_does():
    """The same Stores through ``store`` and ``store_now``: the same rows, answers and events
    (an unobserved repository hears only its evictions)."""
    runs = []
    for plain in (False, True):
        notify = Recorder()
        repository = _unobserved(notify)
        repository.configure("maxSize", 2)
        write = repository.store_now if plain else (lambda value, r=repository: store(r, value))
        minted = {"text": "a", "id": entity_ids.mint()}
        first = write(minted)
        assert first == (minted, True)
        answers = [
            write({"name": "b"}),
            write({**minted, "text": "a2"}),  # the minted id again: an update
            write(["x", "x", {"name": "b", "text": "b2"}]),  # appends, a duplicate, an update
        ]
        evicted = [(kind, payload["evictedItem"], wait) for kind, payload, wait in notify.events]
        runs.append(_without_ids([answers, repository.retrieve(), evicted]))
    assert runs[0] == runs[1]
    assert runs[1][2] == [[REPOSITORY_EVICTED, {"text": "a2"}, False]]
