"""The in-process backend: a repository's rows in dicts of this process.

Memory per row is what it costs on top of the row itself, so the layout keeps it small: one
dict maps each row's key to the row (dict order is insertion order, and assigning to a key
keeps its place), one maps it to its birth time, and rows with a ``name`` or ``key`` field are
also listed under it.  A string id is its own key, so finding a row by id stores nothing new.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

from aro.runtime.repositories.base import ABSENT, IDENTITY_FIELDS, canonical, field_matches


class MemoryBackend:
    """Implements ``base.Backend`` without suspending."""

    suspends = False
    __slots__ = ("_born", "_identities", "_rows")

    def __init__(self) -> None:
        self._rows: dict[Hashable, Any] = {}
        self._born: dict[Hashable, float] = {}
        # (identity field, canonical value) -> keys of the rows holding it, as an ordered set
        self._identities: dict[tuple[str, Hashable], dict[Hashable, None]] = {}

    def get(self, key: Hashable) -> Any:
        return self._rows.get(key, ABSENT)

    def first(self, field: str, value: Any) -> Any:
        keys = self._identities.get((field, canonical(value)))
        if not keys:
            return ABSENT
        return self._rows[self._in_row_order(keys)[0]]

    def append(self, key: Hashable, row: Any, born: float) -> None:
        self._rows[key] = row
        self._born[key] = born
        self._list_identities(key, row)

    def replace(self, key: Hashable, row: Any) -> None:
        self._unlist_identities(key, self._rows[key])
        self._rows[key] = row
        self._list_identities(key, row)

    def evict_over(self, limit: int) -> Any:
        if len(self._rows) <= limit:
            return ABSENT
        return self._remove(next(iter(self._rows)))

    def rows(self, since: float | None) -> list[Any]:
        if since is None:
            return list(self._rows.values())
        born = self._born
        return [row for key, row in self._rows.items() if born[key] >= since]

    def matching(self, field: str, value: Any, since: float | None) -> list[Any]:
        keys = self._matching_keys(field, value)
        if since is not None:
            keys = [key for key in keys if self._born[key] >= since]
        return [self._rows[key] for key in keys]

    def remove_matching(self, field: str, value: Any) -> list[Any]:
        return [self._remove(key) for key in self._matching_keys(field, value)]

    def clear(self) -> list[Any]:
        rows = list(self._rows.values())
        self._rows.clear()
        self._born.clear()
        self._identities.clear()
        return rows

    def count(self) -> int:
        return len(self._rows)

    # -- lookup ------------------------------------------------------------------------------

    def _matching_keys(self, field: str, value: Any) -> list[Hashable]:
        wanted = canonical(value)
        if field == "id":
            row = self._rows.get(wanted, ABSENT)
            return [wanted] if type(row) is dict else []
        if field in IDENTITY_FIELDS:
            return self._in_row_order(self._identities.get((field, wanted), ()))
        return [key for key, row in self._rows.items() if field_matches(row, field, wanted)]

    def _in_row_order(self, keys: Iterable[Hashable]) -> list[Hashable]:
        """``keys`` as the rows come: a row that changed its name joins the list late."""
        keys = list(keys)
        if len(keys) < 2:
            return keys
        wanted = set(keys)
        return [key for key in self._rows if key in wanted]

    def _remove(self, key: Hashable) -> Any:
        row = self._rows.pop(key)
        del self._born[key]
        self._unlist_identities(key, row)
        return row

    def _list_identities(self, key: Hashable, row: Any) -> None:
        if type(row) is not dict:
            return
        for field in IDENTITY_FIELDS:
            if field in row:
                self._identities.setdefault((field, canonical(row[field])), {})[key] = None

    def _unlist_identities(self, key: Hashable, row: Any) -> None:
        if type(row) is not dict:
            return
        for field in IDENTITY_FIELDS:
            if field in row:
                identity = (field, canonical(row[field]))
                keys = self._identities[identity]
                del keys[key]
                if not keys:
                    del self._identities[identity]
