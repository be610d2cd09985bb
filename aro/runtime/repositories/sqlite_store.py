"""Repositories in one SQLite file, shared by every process that opens it (``--store sqlite:PATH``).

All repositories live in one table; a row's place in insertion order is its ``seq``, the rowid
SQLite gives an insert (one more than the largest), so the order (and every key) is decided by
the database inside the write transaction, never by a process, and two workers never collide.
Each row keeps its typed key (``codec.key_text``), the typed key of its ``name`` and ``key``
fields for Store's identity lookups, its birth time (wall clock, so ``ttl`` survives a restart)
and its JSON (``codec.encode_row``).

The backend does not suspend (docs/decisions.md, 36): a statement runs in tens of µs in WAL
mode, about what the task switch of awaiting a thread would cost.  Writes join a group commit:
the first write of a loop iteration begins a ``BEGIN IMMEDIATE`` transaction, a callback
scheduled behind the iteration's ready callbacks commits it, and Store awaits that commit
(``committed``) before the action returns, so the Stores of concurrent requests share one
commit and an acknowledged Store survives the process that made it (``synchronous=NORMAL``
in WAL mode loses nothing to a process crash, only the last commits to a power failure).
Holding the write lock from lookup to write makes an upsert atomic across processes.  Reads
see every commit of every process (a listing is re-read whenever ``PRAGMA data_version``
says some connection committed).  The connection does not wait for locks (busy timeout 0): a
Store that finds the write lock taken by another process yields to the loop between tries,
and only a Delete, or a read that SQLite cannot start (a WAL being recovered), waits up to
``BUSY_TIMEOUT_MS`` in SQLite, blocking its loop.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from typing import Any

from aro.runtime.repositories.base import (
    ABSENT,
    COMPLETED,
    IDENTITY_FIELDS,
    canonical,
    field_matches,
)
from aro.runtime.repositories.codec import decode_row, encode_row, key_text
from aro.runtime.repositories.stores import StoreUnavailable

BUSY_TIMEOUT_MS = 5000
# Seconds between tries of a Store waiting for another process's commit.  uvloop's timers count
# whole milliseconds and round 0.5 ms down to 0: a shorter pause would try on every loop turn,
# spinning on the CPU the lock holder needs (two contending processes: 20 times the tries and
# 1.5 times the CPU per Store of a 1 ms pause, bench/RESULTS.md).
LOCK_POLL = 0.001

_SCHEMA = """
CREATE TABLE IF NOT EXISTS aro_rows (
    seq INTEGER PRIMARY KEY,
    repository TEXT NOT NULL,
    key TEXT NOT NULL,
    born REAL NOT NULL,
    name TEXT,
    keyfield TEXT,
    is_map INTEGER NOT NULL,
    row BLOB NOT NULL,
    UNIQUE (repository, key)
);
CREATE INDEX IF NOT EXISTS aro_rows_by_name ON aro_rows (repository, name, seq)
    WHERE name IS NOT NULL;
CREATE INDEX IF NOT EXISTS aro_rows_by_keyfield ON aro_rows (repository, keyfield, seq)
    WHERE keyfield IS NOT NULL;
"""

# The column holding the typed key of each identity field.
_IDENTITY_COLUMNS = dict(zip(IDENTITY_FIELDS, ("name", "keyfield"), strict=True))


class SqliteStore:
    """One process's connection to the file; ``backend(name)`` gives each repository's view."""

    suspends = False
    clock: Callable[[], float] = staticmethod(time.time)

    def __init__(self, path: str) -> None:
        self.path = path
        self._connection: sqlite3.Connection | None = None
        self._depth = 0  # nested transactions: only the outermost begins and commits
        # The open group commit: the Stores awaiting it (None: no write transaction open).
        self._waiters: list[asyncio.Future[None]] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._joining = _JoinGroup(self)
        # While one Store waits for another process's write lock: the Stores queued behind it.
        self._queued: list[asyncio.Future[None]] | None = None
        # Every row of each repository as last read, valid while ``PRAGMA data_version`` (which
        # moves when another connection commits) stays ``_version`` and this one writes nothing.
        self._listings: dict[str, list[Any]] = {}
        self._version = -1

    @property
    def connection(self) -> sqlite3.Connection:
        if self._connection is None:
            self._connection = self._connect()
        return self._connection

    def _connect(self) -> sqlite3.Connection:
        timeout = BUSY_TIMEOUT_MS / 1000  # while it sets the file up
        connection = sqlite3.connect(self.path, isolation_level=None, timeout=timeout)
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.executescript(_SCHEMA)
        # From now on a statement that finds the file locked fails at once: a Store then
        # yields to the loop between tries (``_open_group``), anything else waits (``_patiently``).
        connection.execute("PRAGMA busy_timeout = 0")
        return connection

    async def open(self) -> None:
        """Create the file and its table now, so that a bad file fails at start."""
        try:
            self.connection  # noqa: B018 - connecting is the point
        except sqlite3.Error as error:
            raise StoreUnavailable(f"cannot open the SQLite store {self.path}: {error}") from None

    async def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def backend(self, repository: str) -> SqliteBackend:
        return SqliteBackend(self, repository)

    def read(self, sql: str, parameters: tuple = ()) -> list[tuple]:
        """The rows of a statement that takes no write lock."""
        try:
            return self.connection.execute(sql, parameters).fetchall()
        except sqlite3.OperationalError as error:
            if not _busy(error):
                raise
        return self._patiently(sql, parameters)

    def _patiently(self, sql: str, parameters: tuple = ()) -> list[tuple]:
        """Run a statement, waiting in SQLite (up to ``BUSY_TIMEOUT_MS``, blocking the loop)
        while another process holds the lock it needs: the rare path of a read (a WAL being
        recovered or cleaned up), and the write transaction of a Delete."""
        connection = self.connection
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        try:
            return connection.execute(sql, parameters).fetchall()
        finally:
            connection.execute("PRAGMA busy_timeout = 0")

    def _begin_waiting(self) -> None:
        try:
            self.connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if not _busy(error):
                raise
            self._patiently("BEGIN IMMEDIATE")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction, taken at once (``IMMEDIATE``) so that a read inside it is never
        invalidated by another process's write.  On an event loop it is the group commit
        (``writing``); without one it is committed on leaving."""
        connection = self.writing()
        if self._waiters is not None or self._depth:
            yield connection
            return
        self._begin_waiting()
        self._depth = 1
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        else:
            connection.execute("COMMIT")
        finally:
            self._depth = 0

    def listing(self, repository: str, read: Callable[[], list[Any]]) -> list[Any]:
        """Every row of ``repository`` (a new list): ``read()`` again only when some process
        wrote since the last time, so that listing an unchanged repository costs one pragma."""
        version = self.read("PRAGMA data_version")[0][0]
        if version != self._version:
            self._listings.clear()
            self._version = version
        rows = self._listings.get(repository)
        if rows is None:
            rows = self._listings[repository] = read()
        return list(rows)

    def writing(self) -> sqlite3.Connection:
        """The connection, inside this loop iteration's write transaction (begun on the first
        write and committed by a callback once the iteration's ready callbacks have run), so
        that the Stores of one iteration share one commit.  Without a running loop: the
        connection as it is (autocommit, or the ``transaction`` around it)."""
        connection = self.connection
        self._listings.clear()
        if self._waiters is None and not self._depth:
            loop = _running_loop()
            if loop is not None:
                self._begin_waiting()
                self._begin_group(loop)
        return connection

    def atomically(self) -> AbstractAsyncContextManager[None]:
        """Inside this iteration's write transaction; while another process holds the write
        lock, wait for it by yielding to the loop instead of blocking in SQLite.  Without a
        running loop (a coroutine driven by hand): a transaction of its own."""
        return self._joining if _running_loop() is not None else self._alone()

    @asynccontextmanager
    async def _alone(self) -> AsyncIterator[None]:
        with self.transaction():
            yield

    async def _open_group(self) -> None:
        """Begin this iteration's write transaction, trying again every ``LOCK_POLL`` s while
        another process holds the write lock.  One Store of this process tries; the others
        that come meanwhile queue behind it, and are woken (before the commit is scheduled,
        so that they write in the transaction it began) when it is done, whether it got the
        lock or failed (then they try again themselves)."""
        loop = asyncio.get_running_loop()
        if self._queued is not None:
            queued = loop.create_future()
            self._queued.append(queued)
            await queued
            return
        self._queued = queued_stores = []
        try:
            began = await self._take_write_lock()
        finally:
            self._queued = None
            for queued in queued_stores:
                if not queued.done():  # not a cancelled Store
                    queued.set_result(None)
        if began:
            self._begin_group(loop)

    async def _take_write_lock(self) -> bool:
        """``BEGIN IMMEDIATE``, yielding to the loop between tries: whether it began the
        transaction (False: some other write of this process began it meanwhile)."""
        waited = 0.0
        while self._waiters is None and not self._depth:
            try:
                self.connection.execute("BEGIN IMMEDIATE")
                return True
            except sqlite3.OperationalError as error:
                if waited > BUSY_TIMEOUT_MS / 1000 or not _busy(error):
                    raise
            await asyncio.sleep(LOCK_POLL)
            waited += LOCK_POLL
        return False

    def _begin_group(self, loop: asyncio.AbstractEventLoop) -> None:
        """The write transaction is open: commit it once the iteration's callbacks have run."""
        self._waiters = []
        self._loop = loop
        loop.call_soon(self._commit_group)

    def _commit_group(self) -> None:
        waiters, self._waiters = self._waiters, None
        try:
            self.connection.execute("COMMIT")
        except sqlite3.Error as error:
            self.connection.execute("ROLLBACK")
            self._listings.clear()
            failure = StoreUnavailable(f"the SQLite store {self.path}: {error}")
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(failure)
        else:
            for waiter in waiters:
                if not waiter.done():  # a cancelled Store
                    waiter.set_result(None)

    def committed(self) -> Awaitable[None]:
        """Done when every write made so far is committed: a future of the caller's own (so
        that cancelling one Store does not cancel the group's commit)."""
        if self._waiters is None:
            return COMPLETED
        waiter = self._loop.create_future()
        self._waiters.append(waiter)
        return waiter


class _JoinGroup:
    """``SqliteStore.atomically`` on a running loop: enters at once when this iteration's write
    transaction is open (or can be begun), and commits nothing on leaving (the group does)."""

    __slots__ = ("_store",)

    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    async def __aenter__(self) -> None:
        store = self._store
        while store._waiters is None and not store._depth:
            await store._open_group()

    def __aexit__(self, *exception: object) -> Awaitable[None]:
        return COMPLETED


class SqliteBackend:
    """Implements ``base.Backend`` without suspending, for one repository of a ``SqliteStore``."""

    suspends = False
    writes_at_once = False  # Store holds the write transaction and awaits its group commit
    __slots__ = ("_repository", "_store")

    def __init__(self, store: SqliteStore, repository: str) -> None:
        self._store = store
        self._repository = repository

    def _query(self, sql: str, *parameters: Any) -> list[tuple]:
        return self._store.read(sql, (self._repository, *parameters))

    def _write(self, sql: str, *parameters: Any) -> list[tuple]:
        connection = self._store.writing()
        return connection.execute(sql, (self._repository, *parameters)).fetchall()

    def committed(self) -> Awaitable[None]:
        return self._store.committed()

    def atomically(self, looks_up: bool) -> AbstractAsyncContextManager[None]:
        """Every Store write joins the group commit, lookup or not."""
        return self._store.atomically()

    def get(self, key: Hashable) -> Any:
        found = self._query(
            "SELECT row FROM aro_rows WHERE repository = ? AND key = ?", key_text(key)
        )
        return decode_row(found[0][0]) if found else ABSENT

    def first(self, field: str, value: Any) -> Any:
        column = _IDENTITY_COLUMNS[field]
        found = self._query(
            f"SELECT row FROM aro_rows WHERE repository = ? AND {column} = ? ORDER BY seq LIMIT 1",
            key_text(canonical(value)),
        )
        return decode_row(found[0][0]) if found else ABSENT

    def append(self, key: Hashable, row: Any, born: float) -> bool:
        connection = self._store.writing()
        inserted = connection.execute(
            "INSERT INTO aro_rows (repository, key, born, name, keyfield, is_map, row)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (self._repository, key_text(key), born, *_identities(row), type(row) is dict,
             encode_row(row)),
        )  # fmt: skip
        return inserted.rowcount == 1

    def replace(self, key: Hashable, row: Any) -> None:
        self._write(
            "UPDATE aro_rows SET name = ?2, keyfield = ?3, is_map = ?4, row = ?5"
            " WHERE repository = ?1 AND key = ?6",
            *_identities(row), type(row) is dict, encode_row(row), key_text(key),
        )  # fmt: skip

    def evict_over(self, limit: int) -> Any:
        with self._store.transaction():
            if self.count() <= limit:
                return ABSENT
            found = self._write(
                "DELETE FROM aro_rows WHERE seq = (SELECT min(seq) FROM aro_rows"
                " WHERE repository = ?1) RETURNING row"
            )
        return decode_row(found[0][0])

    def rows(self, since: float | None) -> list[Any]:
        if since is None:
            return self._store.listing(self._repository, self._every_row)
        found = self._query(
            "SELECT row FROM aro_rows WHERE repository = ? AND born >= ? ORDER BY seq", since
        )
        return [decode_row(row) for (row,) in found]

    def _every_row(self) -> list[Any]:
        found = self._query("SELECT row FROM aro_rows WHERE repository = ? ORDER BY seq")
        return [decode_row(row) for (row,) in found]

    def matching(self, field: str, value: Any, since: float | None) -> list[Any]:
        return [decode_row(row) for _, row in self._matching(field, value, since)]

    def remove_matching(self, field: str, value: Any) -> list[Any]:
        with self._store.transaction() as connection:
            found = self._matching(field, value, None)
            gone = [(seq,) for seq, _ in found]
            connection.executemany("DELETE FROM aro_rows WHERE seq = ?", gone)
        return [decode_row(row) for _, row in found]

    def clear(self) -> list[Any]:
        found = self._write("DELETE FROM aro_rows WHERE repository = ? RETURNING seq, row")
        return [decode_row(row) for _, row in sorted(found)]

    def count(self) -> int:
        return self._query("SELECT count(*) FROM aro_rows WHERE repository = ?")[0][0]

    def _matching(self, field: str, value: Any, since: float | None) -> list[tuple[int, bytes]]:
        """(seq, stored row) of the dict rows whose ``field`` equals ``value``, in order."""
        wanted = canonical(value)
        young = "" if since is None else " AND born >= ?"
        young_since = () if since is None else (since,)
        select = "SELECT seq, row FROM aro_rows WHERE repository = ? AND "
        if field == "id":
            return self._query(f"{select}key = ? AND is_map{young}", key_text(wanted), *young_since)
        if field in _IDENTITY_COLUMNS:
            column = _IDENTITY_COLUMNS[field]
            sql = f"{select}{column} = ?{young} ORDER BY seq"
            return self._query(sql, key_text(wanted), *young_since)
        found = self._query(f"{select}is_map{young} ORDER BY seq", *young_since)
        return [(seq, row) for seq, row in found if field_matches(decode_row(row), field, wanted)]


def _busy(error: sqlite3.OperationalError) -> bool:
    """Whether a statement failed because another connection holds a lock it needs."""
    return error.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _identities(row: Any) -> tuple[str | None, str | None]:
    """The typed keys of a dict row's ``name`` and ``key`` fields (None where absent)."""
    if type(row) is not dict:
        return None, None
    name, key = (row.get(field, ABSENT) for field in IDENTITY_FIELDS)
    return (
        None if name is ABSENT else key_text(canonical(name)),
        None if key is ABSENT else key_text(canonical(key)),
    )
