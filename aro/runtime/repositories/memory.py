"""The in-process backend: a repository's rows in dicts of this process.

Memory per row is what a chat server keeps most of, so the layout keeps it small:

- one dict maps each row's key to the row (dict order is insertion order, and assigning to a
  key keeps its place); a string id is its own key, so finding a row by id stores nothing new;
- birth times (for ``ttl``) are C doubles in one array, in the rows' order, not a float object
  and a dict entry per row;
- a dict row is kept as a dict that shares its key table with the backend's other rows of the
  same fields (CPython's split table, the one instances of a class share): it holds only its
  values, 72 B less than a four-field dict of its own.  It is an ordinary ``dict`` to everyone;
- rows with a ``name`` or ``key`` field are also listed under it;
- the listing of every row is one list, kept until the next write and handed to every reader
  meanwhile: nobody changes a value in place, so its JSON is written once per change
  (``hold_unchanged``), which is what a GET of the whole repository costs otherwise.
"""

from __future__ import annotations

import itertools
from array import array
from collections.abc import Awaitable, Hashable, Iterable
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Any

from aro.runtime.repositories.base import (
    ABSENT,
    COMPLETED,
    IDENTITY_FIELDS,
    canonical,
    field_matches,
)
from aro.vm.values.json import hold_unchanged, release

# Names a class's instances cannot hold as plain attributes (object's and the instance dict's
# own descriptors): a row with one of them keeps a dict of its own.
_DESCRIPTOR_NAMES = frozenset(("__class__", "__dict__", "__weakref__"))
_new_instance = object.__new__
_ALREADY_ATOMIC = nullcontext()
_IDENTITY_SET = frozenset(IDENTITY_FIELDS)


class MemoryBackend:
    """Implements ``base.Backend`` without suspending."""

    suspends = False
    writes_at_once = True  # no lock, nothing to commit: Store runs as plain calls
    __slots__ = ("_births", "_evicted", "_identities", "_listing", "_row_type", "_rows")

    def __init__(self) -> None:
        self._rows: dict[Hashable, Any] = {}
        # the birth of each row, in the rows' order, after ``_evicted`` slots of evicted rows
        self._births = array("d")
        self._evicted = 0
        # (identity field, canonical value) -> keys of the rows holding it, as an ordered set
        self._identities: dict[tuple[str, Hashable], dict[Hashable, None]] = {}
        # its instances are never used, only their attribute dicts (see _compact)
        self._row_type: type = type("Row", (), {"__slots__": ("__dict__",)})
        self._listing: list[Any] | None = None  # every row, until the next write

    def _release_listing(self) -> None:
        """Every write path calls this first (when a listing is out, checked at the call: a
        store with no reader pays no call): the listing handed out so far stays as it was."""
        release(self._listing)
        self._listing = None

    def atomically(self, looks_up: bool) -> AbstractAsyncContextManager[None]:
        return _ALREADY_ATOMIC  # one event loop, and Store does not suspend in between

    def committed(self) -> Awaitable[None]:
        return COMPLETED  # nothing outlives the process

    def get(self, key: Hashable) -> Any:
        return self._rows.get(key, ABSENT)

    def first(self, field: str, value: Any) -> Any:
        keys = self._identities.get((field, canonical(value)))
        if not keys:
            return ABSENT
        return self._rows[self._in_row_order(keys)[0]]

    def append(self, key: Hashable, row: Any, born: float) -> bool:
        if key in self._rows:
            return False
        if self._listing is not None:
            self._release_listing()
        row = self._compact(row)
        self._rows[key] = row
        self._births.append(born)
        self._list_identities(key, row)
        return True

    def replace(self, key: Hashable, row: Any) -> None:
        if self._listing is not None:
            self._release_listing()
        self._unlist_identities(key, self._rows[key])
        row = self._rows[key] = self._compact(row)
        self._list_identities(key, row)

    def evict_over(self, limit: int) -> Any:
        if len(self._rows) <= limit:
            return ABSENT
        if self._listing is not None:
            self._release_listing()
        key = next(iter(self._rows))
        row = self._rows.pop(key)
        self._unlist_identities(key, row)
        self._evicted += 1
        if self._evicted > len(self._rows):  # compact now and then: amortized O(1)
            del self._births[: self._evicted]
            self._evicted = 0
        return row

    def rows(self, since: float | None) -> list[Any]:
        if since is None:
            listing = self._listing
            if listing is None:
                listing = self._listing = list(self._rows.values())
                hold_unchanged(listing)
            return listing
        births = zip(self._rows.values(), self._live_births(), strict=True)
        return [row for row, born in births if born >= since]

    def matching(self, field: str, value: Any, since: float | None) -> list[Any]:
        keys = self._matching_keys(field, value)
        if since is not None and keys:
            born = dict(zip(self._rows, self._live_births(), strict=True))
            keys = [key for key in keys if born[key] >= since]
        return [self._rows[key] for key in keys]

    def remove_matching(self, field: str, value: Any) -> list[Any]:
        keys = self._matching_keys(field, value)
        if not keys:
            return []
        if self._listing is not None:
            self._release_listing()
        doomed = set(keys)
        pairs = zip(self._rows, self._live_births(), strict=True)
        self._births = array("d", [born for key, born in pairs if key not in doomed])
        self._evicted = 0
        removed = []
        for key in keys:
            row = self._rows.pop(key)
            self._unlist_identities(key, row)
            removed.append(row)
        return removed

    def clear(self) -> list[Any]:
        if self._listing is not None:
            self._release_listing()
        rows = list(self._rows.values())
        self._rows.clear()
        self._births = array("d")
        self._evicted = 0
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

    def _live_births(self) -> Iterable[float]:
        """The births of the rows kept, in their order."""
        return itertools.islice(self._births, self._evicted, None)

    def _compact(self, row: Any) -> Any:
        """A dict row as the attribute dict of a ``_row_type`` instance, set in the row's own
        order: CPython keeps it a split table, sharing one key table among the rows.  Rows
        whose fields cannot be attribute names (not strings, or a descriptor's) stay as they
        are, as does every row once the shared table is full (CPython then gives the instance
        a dict of its own, which costs what the row did)."""
        if type(row) is not dict or not _DESCRIPTOR_NAMES.isdisjoint(row):
            return row
        holder = _new_instance(self._row_type)
        try:
            for name, value in row.items():
                setattr(holder, name, value)
        except TypeError:  # a field name that is not a string
            return row
        return holder.__dict__

    def _list_identities(self, key: Hashable, row: Any) -> None:
        if type(row) is not dict or _IDENTITY_SET.isdisjoint(row):
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
