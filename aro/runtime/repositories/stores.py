"""Where repositories keep their rows: a ``Store`` chosen by the URL of ``Config.store``.

``memory`` keeps them in this process (the default of ``aro run``); ``sqlite:PATH`` in a file
every worker process on the machine opens; ``redis://HOST:PORT[/DB]`` on a Redis server that
several machines share.  ``BACKENDS`` maps each URL scheme to the function that opens its
store; a store gives each repository its ``base.Backend`` and the clock its rows are born by
(wall time when rows outlive the process, for ``ttl``).

``config._store_url`` has already checked the URL's form; ``open()`` reaches the storage at
start, so that a server that cannot be reached stops the program with one line
(``StoreUnavailable``, exit 2) instead of failing its first request.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar, Protocol

from aro.runtime.errors import UsageError
from aro.runtime.repositories.base import Backend
from aro.runtime.repositories.memory import MemoryBackend

DEFAULT_STORE = "memory"
PRIVATE_SQLITE_NAME = "repositories.sqlite"


class StoreUnavailable(UsageError):
    """The configured store cannot be reached or opened at start."""


class Store(Protocol):
    """The storage of every repository of one process."""

    suspends: ClassVar[bool]
    clock: Callable[[], float]

    def backend(self, repository: str) -> Backend: ...

    async def open(self) -> None:
        """Reach the storage (StoreUnavailable when it cannot be)."""

    async def close(self) -> None: ...


class MemoryStore:
    """Rows in this process's memory, gone when it ends."""

    suspends = False
    clock: Callable[[], float] = staticmethod(time.monotonic)

    def backend(self, repository: str) -> Backend:
        return MemoryBackend()

    async def open(self) -> None:
        """Nothing to reach."""

    async def close(self) -> None:
        """Nothing to release."""


def _open_memory(url: str) -> Store:
    return MemoryStore()


def _open_sqlite(url: str) -> Store:
    from aro.runtime.repositories.sqlite_store import SqliteStore

    return SqliteStore(url.removeprefix("sqlite:"))


def _open_redis(url: str) -> Store:
    from aro.runtime.repositories.redis_store import RedisStore  # imports redis: only if used

    return RedisStore(url)


BACKENDS: dict[str, Callable[[str], Store]] = {
    "memory": _open_memory,
    "sqlite": _open_sqlite,
    "redis": _open_redis,
}


def open_store(url: str) -> Store:
    """The store ``url`` names (not yet reached: see ``Store.open``)."""
    scheme = url.partition(":")[0]
    opener = BACKENDS.get(scheme)
    if opener is None:
        raise StoreUnavailable(f"unknown store {url!r}: expected memory, sqlite:PATH or redis://")
    return opener(url)


def private_sqlite_store(directory: str | Path | None = None) -> str:
    """A store URL for a SQLite file of its own in ``directory`` (a new temporary directory by
    default): what ``aro serve --workers N`` (N > 1) uses without ``--store``, so that every
    worker sees the same rows for the life of the server.  The caller removes the directory."""
    folder = Path(tempfile.mkdtemp(prefix="aro-store-") if directory is None else directory)
    return f"sqlite:{folder / PRIVATE_SQLITE_NAME}"
