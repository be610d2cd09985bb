"""Repositories: the Store semantics (``semantics``) over storage backends (``base``,
``memory``, ``sqlite_store``, ``redis_store``) in a store that a URL names (``stores``,
``BACKENDS``), seeded from ``.store`` files (``seeds``)."""

from aro.runtime.repositories.base import ABSENT, Backend, canonical
from aro.runtime.repositories.memory import MemoryBackend
from aro.runtime.repositories.seeds import StoreFileError, load_store_files, read_store_file
from aro.runtime.repositories.semantics import (
    COMPLETED,
    REPOSITORY_CHANGED,
    REPOSITORY_EVICTED,
    NotPrefetchedError,
    Repository,
    RepositoryRegistry,
)
from aro.runtime.repositories.stores import (
    BACKENDS,
    MemoryStore,
    Store,
    StoreUnavailable,
    open_store,
    private_sqlite_store,
)

__all__ = [
    "ABSENT",
    "BACKENDS",
    "COMPLETED",
    "REPOSITORY_CHANGED",
    "REPOSITORY_EVICTED",
    "Backend",
    "MemoryBackend",
    "MemoryStore",
    "NotPrefetchedError",
    "Repository",
    "RepositoryRegistry",
    "Store",
    "StoreFileError",
    "StoreUnavailable",
    "canonical",
    "load_store_files",
    "open_store",
    "private_sqlite_store",
    "read_store_file",
]
