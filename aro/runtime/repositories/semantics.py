"""What a repository means, on any backend: application-wide, insertion-ordered stores named
``*-repository``.

* Store upserts.  A dict without ``id`` whose ``name`` (else ``key``) equals an existing row's
  updates that row and keeps its id; otherwise a missing ``id`` becomes an upper-case UUID; a
  known id replaces its row (an identical value is a no-op that announces nothing); anything
  else is appended.  Other values are de-duplicated by value *and type* (``"1"`` is not ``1``).
* Equality in Store and in ``where`` is typed: ``1``, ``1.0``, ``"1"`` and ``true`` all differ
  (``base.canonical``).  ``where`` compares the field for equality whatever its operator.
* ``maxSize`` drops the oldest row when a new one pushes the count past it (one per append) and
  announces the eviction; ``ttl`` hides rows older than it from Retrieve (they still count and
  still match Store and Delete).

Observers learn about changes through a ``Notify`` callback (the event bus's ``emit``), so this
module knows nothing of the bus.  Store announces a change *after* making it and then waits for
the observers; it holds no lock while waiting, because an observer may itself store into the
same repository.  Storing a list therefore interleaves with other tasks between elements.
Delete and evictions announce without waiting.

Storage is a ``base.Backend`` of the store (``stores``) that ``Config.store`` names.  A Store
holds the backend's ``atomically()`` from its lookup to its write, so that an upsert is one
change even when other processes write to the same storage.  On a backend that does not
suspend (memory) every change is synchronous and so atomic on the one event loop, and reads
answer plain values: no coroutine per read.  On one that suspends, ``retrieve``, ``count`` and
``delete`` answer awaitables, and synchronous readers (expressions such as
``<x-repository: count>``, the Retrieve action) read the snapshot that ``prefetch`` took just
before their statement.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aro.runtime.repositories.base import (
    ABSENT,
    COMPLETED,
    IDENTITY_FIELDS,
    Backend,
    canonical,
    field_matches,
    row_key,
)
from aro.runtime.repositories.memory import MemoryBackend
from aro.runtime.repositories.stores import DEFAULT_STORE, open_store
from aro.vm import entity_ids, values
from aro.vm.errors import AroError

# Event types of the two repository channels.  A dot can never appear in an ARO event name,
# so these cannot collide with domain events.
REPOSITORY_CHANGED = "repository.changed"
REPOSITORY_EVICTED = "repository.evicted"
EVICTION_REASON = "maxSize"

Notify = Callable[[str, dict[str, Any], bool], Awaitable[None]]
"""``notify(event_type, payload, wait)``: deliver a repository event.  It must start delivery
before it returns (Delete and evictions drop the awaitable: fire-and-forget); awaiting the
result waits for the observers."""

Where = tuple[str, str, Any]


class NotPrefetchedError(AroError):
    """A synchronous read of a repository that suspends, without a prefetch before it."""


class _Change:
    """The outcome of one upsert: the row to write (under ``key``; None: nothing to write),
    what the caller gets back, and what to tell observers (None: nothing)."""

    __slots__ = ("is_new", "key", "payload", "stored")

    def __init__(self, key: Any, stored: Any, is_new: bool, payload: dict | None) -> None:
        self.key = key
        self.stored = stored
        self.is_new = is_new
        self.payload = payload


class Repository:
    """One repository (implements ``aro.vm.services.Repository``) over its backend."""

    __slots__ = (
        "_clock",
        "_max_size",
        "_notify",
        "_observed",
        "_snapshot",
        "_ttl",
        "_writes_at_once",
        "backend",
        "count_now",
        "name",
        "rows_now",
        "stores_now",
        "suspends",
    )

    def __init__(
        self,
        name: str,
        notify: Notify | None = None,
        clock: Callable[[], float] = time.monotonic,
        observed: bool = True,
        backend: Backend | None = None,
    ) -> None:
        self.name = name
        self.backend = MemoryBackend() if backend is None else backend
        self.suspends = self.backend.suspends
        self._max_size: int | None = None
        self._ttl: float | None = None
        self._notify = notify
        self._observed = observed  # False: no observer exists, so change events are not built
        self._clock = clock
        self._snapshot: tuple[list[Any], int] | None = None  # (visible rows, count)
        self._writes_at_once = not self.suspends and self.backend.writes_at_once
        # Nothing in a Store waits (no lock, no commit, no observer): ``store_now`` does it.
        self.stores_now = self._writes_at_once and (not observed or notify is None)
        if self.suspends:
            self.rows_now = self._snapshot_rows
            self.count_now = self._snapshot_count
        else:
            self.rows_now = self.retrieve
            self.count_now = self.backend.count

    # -- the Repository protocol -----------------------------------------------------------

    async def store(self, value: Any) -> tuple[Any, bool]:
        """Upsert ``value`` (a list element-wise), announcing each change and waiting for its
        observers before the next element.  Returns the stored value(s) with their ids and
        whether the (last) element made a new row."""
        if type(value) is not list:
            outcome = await self._store_one(value, announce=True)
        else:
            stored, is_new = [], False
            for item in value:
                row, is_new = await self._store_one(item, announce=True)
                stored.append(row)
            outcome = stored, is_new
        await self.backend.committed()  # durable before the Store action returns
        return outcome

    def store_now(self, value: Any) -> tuple[Any, bool]:
        """``store`` with plain calls, for a repository whose ``stores_now`` is true."""
        if type(value) is not list:
            return self._store_one_now(value)
        stored, is_new = [], False
        for item in value:
            row, is_new = self._store_one_now(item)
            stored.append(row)
        return stored, is_new

    def _store_one_now(self, value: Any) -> tuple[Any, bool]:
        change, evicted = self._write_now(value)
        if evicted is not ABSENT:  # evictions are heard without waiting, observed or not
            self._announce_store(change, evicted, announce=True)
        return change.stored, change.is_new

    def retrieve(self, where: Where | None = None) -> Any:
        """Visible rows in insertion order; with ``where`` only those whose field equals the
        value.  A list, or an awaitable of it when the backend suspends."""
        since = None if self._ttl is None else self._clock() - self._ttl
        if where is None:
            return self.backend.rows(since)
        field, _operator, expected = where
        return self.backend.matching(field, expected, since)

    def count(self) -> Any:
        """Every row, expired ones included; an int, or an awaitable of it."""
        return self.backend.count()

    def delete(self, where: Where | None = None) -> Any:
        """Delete the rows matching ``where`` (expired ones too), or clear the repository.

        Observers get one ``deleted`` event per row, or a single one without id or values for a
        clear, without waiting for them.  Answers the deleted rows in insertion order (or an
        awaitable of them)."""
        self._snapshot = None
        if where is None:
            deleted = self.backend.clear()
        else:
            field, _operator, expected = where
            deleted = self.backend.remove_matching(field, expected)
        if self.suspends:
            return self._announce_deletion_later(where, deleted)
        return self._announce_deletion(where, deleted)

    def configure(self, option: str, value: Any) -> None:
        """``maxSize`` (applies from the next append) or ``ttl`` in seconds."""
        if option == "maxSize":
            self._max_size = int(value)
        elif option == "ttl":
            self._ttl = float(value)
        else:
            raise ValueError(f"Unknown repository option: {option}")

    # -- synchronous readers ---------------------------------------------------------------
    # ``rows_now(where=None)`` and ``count_now()`` are ``retrieve`` and ``count`` for a reader
    # that cannot wait: bound in ``__init__`` straight to the backend when it does not suspend
    # (no extra call on the hot path), else to the snapshot of the last ``prefetch``.

    async def prefetch(self) -> None:
        """Take the snapshot that ``rows_now``/``count_now`` answer on a backend that suspends
        (one that does not is read directly)."""
        if self.suspends:
            self._snapshot = (await self.retrieve(), await self.count())

    def _snapshot_rows(self, where: Where | None = None) -> list[Any]:
        rows = self._prefetched()[0]
        if where is None:
            return rows
        field, _operator, expected = where
        wanted = canonical(expected)
        return [row for row in rows if field_matches(row, field, wanted)]

    def _snapshot_count(self) -> int:
        return self._prefetched()[1]

    def _prefetched(self) -> tuple[list[Any], int]:
        if self._snapshot is None:
            raise NotPrefetchedError(f"<{self.name}> must be prefetched here: its backend waits")
        return self._snapshot

    # -- seeding ---------------------------------------------------------------------------

    def seed(self, value: Any) -> Awaitable[tuple[Any, bool]]:
        """Upsert without telling anyone: ``.store`` files load before the program runs."""
        return self._store_one(value, announce=False)

    # -- upsert ------------------------------------------------------------------------------

    async def _store_one(self, value: Any, announce: bool) -> tuple[Any, bool]:
        if self.suspends:
            change, evicted = await self._write_waiting(value)
        elif self._writes_at_once:
            change, evicted = self._write_now(value)
        else:
            async with self.backend.atomically(True):
                change, evicted = self._write_now(value)
        await self._announce_store(change, evicted, announce)
        return change.stored, change.is_new

    def _announce_store(self, change: _Change, evicted: Any, announce: bool) -> Awaitable[None]:
        """Tell the observers of a Store's eviction (without waiting) and change: the
        awaitable of the change's observers."""
        if not announce:
            return COMPLETED
        if evicted is not ABSENT:
            self._announce(REPOSITORY_EVICTED, self._eviction_event(evicted), wait=False)
        return self._announce(REPOSITORY_CHANGED, change.payload, wait=True)

    def _write_now(self, value: Any) -> tuple[_Change, Any]:
        """Upsert ``value`` with plain calls (a backend that does not suspend): the change,
        and the row evicted for it or ABSENT."""
        backend = self.backend
        if type(value) is dict and entity_ids.claim(value.get("id")):
            # Create minted this id and no Store has used it: append without a lookup.  A
            # row already under it (the id went out before this Store) takes the upsert below.
            change = self._created(value)
            if backend.append(change.key, value, self._clock()):
                return change, self._evict_now()
        change = self._decide(value, self._lookup(value))
        if change.key is None:
            return change, ABSENT
        if not change.is_new:
            backend.replace(change.key, change.stored)
            return change, ABSENT
        backend.append(change.key, change.stored, self._clock())
        return change, self._evict_now()

    def _evict_now(self) -> Any:
        """After an append, on a backend that does not suspend: the oldest row, removed when
        the append pushed the count past ``maxSize``, else ABSENT."""
        if self._max_size is None:
            return ABSENT
        return self.backend.evict_over(self._max_size)

    async def _write_waiting(self, value: Any) -> tuple[_Change, Any]:
        """``_write_now`` on a backend that suspends, inside its ``atomically``."""
        if type(value) is dict and entity_ids.claim(value.get("id")):
            # No lock for an append under a fresh id, where one write is atomic.
            async with self.backend.atomically(False):
                change = self._created(value)
                if await self.backend.append(change.key, value, self._clock()):
                    self._snapshot = None
                    return change, await self._evict_waiting()
        async with self.backend.atomically(_looks_up(value)):
            found = self._lookup(value)
            change = self._decide(value, ABSENT if found is ABSENT else await found)
            if change.key is None:
                return change, ABSENT
            self._snapshot = None
            if not change.is_new:
                await self.backend.replace(change.key, change.stored)
                return change, ABSENT
            await self.backend.append(change.key, change.stored, self._clock())
            return change, await self._evict_waiting()

    async def _evict_waiting(self) -> Any:
        return ABSENT if self._max_size is None else await self.backend.evict_over(self._max_size)

    def _lookup(self, value: Any) -> Any:
        """The row ``value`` would update (or an awaitable of it), or ABSENT when a dict
        without id has no identity field to look up."""
        if type(value) is dict and "id" not in value:
            for field in IDENTITY_FIELDS:
                if field in value:
                    return self.backend.first(field, value[field])
            return ABSENT
        return self.backend.get(row_key(value))

    def _decide(self, value: Any, found: Any) -> _Change:
        if type(value) is not dict:
            if found is ABSENT:
                return self._created(value)
            # A known scalar is not stored again, but still announced as an update whose old
            # and new values are the same.
            return _Change(None, value, False, self._event("updated", value, value))
        if "id" not in value:
            if found is ABSENT:
                return self._created({**value, "id": str(uuid.uuid4()).upper()})
            return self._updated({**value, "id": found["id"]}, found)
        if found is ABSENT:
            return self._created(value)
        if canonical(found) == canonical(value):
            return _Change(None, value, False, None)
        return self._updated(value, found)

    def _created(self, row: Any) -> _Change:
        return _Change(row_key(row), row, True, self._event("created", new_value=row, entity=row))

    def _updated(self, row: Any, old: Any) -> _Change:
        return _Change(row_key(row), row, False, self._event("updated", row, old, entity=row))

    # -- announcing --------------------------------------------------------------------------

    def _announce_deletion(self, where: Where | None, deleted: list[Any]) -> list[Any]:
        if where is None:
            self._announce(REPOSITORY_CHANGED, self._event("deleted"), wait=False)
            return deleted
        for row in deleted:
            event = self._event("deleted", old_value=row, entity=row)
            self._announce(REPOSITORY_CHANGED, event, wait=False)
        return deleted

    async def _announce_deletion_later(self, where: Where | None, deleted: Any) -> list[Any]:
        return self._announce_deletion(where, await deleted)

    def _event(
        self, change_type: str, new_value: Any = None, old_value: Any = None, entity: Any = None
    ) -> dict[str, Any] | None:
        """The observer payload (keys only for what is known), or None when no observer
        watches this repository."""
        if not self._observed:
            return None
        event: dict[str, Any] = {
            "repositoryName": self.name,
            "changeType": change_type,
            "timestamp": values.now(),
        }
        if type(entity) is dict and "id" in entity:
            event["entityId"] = entity["id"]
        if new_value is not None:
            event["newValue"] = new_value
        if old_value is not None:
            event["oldValue"] = old_value
        return event

    def _eviction_event(self, item: Any) -> dict[str, Any]:
        return {
            "evictedItem": item,
            "repositoryName": self.name,
            "reason": EVICTION_REASON,
            "timestamp": time.time(),
        }

    def _announce(
        self, event_type: str, payload: dict[str, Any] | None, wait: bool
    ) -> Awaitable[None]:
        if payload is None or self._notify is None:
            return COMPLETED
        return self._notify(event_type, payload, wait)


def _looks_up(value: Any) -> bool:
    """Whether storing ``value`` reads the row it may update (``Repository._lookup``)."""
    if type(value) is not dict or "id" in value:
        return True
    return any(field in value for field in IDENTITY_FIELDS)




class RepositoryRegistry:
    """All repositories of an application by name, each created on first use over its backend
    in the store that the URL ``store`` names (``stores.BACKENDS``).  ``open`` reaches the
    store before the program runs, ``close`` after.

    ``observed(name)`` says whether any observer watches a repository (the program's handlers
    are fixed, so it is asked once per repository); by default every one is."""

    def __init__(
        self,
        notify: Notify | None = None,
        observed: Callable[[str], bool] | None = None,
        store: str = DEFAULT_STORE,
    ) -> None:
        self._notify = notify
        self._observed = observed
        self.store = open_store(store)
        self.suspends = self.store.suspends
        self._repositories: dict[str, Repository] = {}

    async def open(self) -> None:
        await self.store.open()

    async def close(self) -> None:
        await self.store.close()

    def get(self, name: str) -> Repository:
        repository = self._repositories.get(name)
        if repository is None:
            observed = self._observed is None or self._observed(name)
            store = self.store
            repository = Repository(
                name, self._notify, store.clock, observed=observed, backend=store.backend(name)
            )
            self._repositories[name] = repository
        return repository

    async def prefetch(self, names: tuple[str, ...]) -> None:
        """Snapshot each named repository for the synchronous reads of one statement."""
        for name in names:
            await self.get(name).prefetch()
