"""Repositories: the Store semantics (``semantics``) over storage backends (``base``,
``memory``) chosen by name from ``BACKENDS``, seeded from ``.store`` files (``seeds``)."""

from aro.runtime.repositories.base import ABSENT, Backend, canonical
from aro.runtime.repositories.memory import MemoryBackend
from aro.runtime.repositories.seeds import StoreFileError, load_store_files, read_store_file
from aro.runtime.repositories.semantics import (
    BACKENDS,
    COMPLETED,
    REPOSITORY_CHANGED,
    REPOSITORY_EVICTED,
    NotPrefetchedError,
    Repository,
    RepositoryRegistry,
)

__all__ = [
    "ABSENT",
    "BACKENDS",
    "COMPLETED",
    "REPOSITORY_CHANGED",
    "REPOSITORY_EVICTED",
    "Backend",
    "MemoryBackend",
    "NotPrefetchedError",
    "Repository",
    "RepositoryRegistry",
    "StoreFileError",
    "canonical",
    "load_store_files",
    "read_store_file",
]
