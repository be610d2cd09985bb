"""Repositories: application-wide, insertion-ordered stores named ``*-repository``.

The semantics are the reference runtime's (ARO-LANGUAGE.md §5.1/§8.1, ARO-RUNTIME.md §4.3/§5):

* Store upserts.  A dict without ``id`` whose ``name`` (else ``key``) equals an existing row's
  updates that row and keeps its id; otherwise a missing ``id`` becomes an upper-case UUID; a
  known id replaces its row (an identical value is a no-op that announces nothing); anything
  else is appended.  Other values are de-duplicated by value *and type* (``"1"`` is not ``1``).
* Equality in Store and in ``where`` is typed: ``1``, ``1.0``, ``"1"`` and ``true`` all differ.
* ``maxSize`` drops the oldest row when a new one pushes the count past it (one per append) and
  announces the eviction; ``ttl`` hides rows older than it from Retrieve (they still count and
  still match Store and Delete).

Observers learn about changes through a ``Notify`` callback (the event bus's ``emit``) so that
this module knows nothing of the bus.  Concurrency: everything runs on one asyncio loop and
every mutation is synchronous, so each upsert or delete is atomic.  Store announces a change
*after* making it and then waits for the observers; it holds no lock while waiting, because an
observer may itself store into the same repository.  Storing a list therefore interleaves with
other tasks between elements, exactly as the reference does between its actor calls.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Awaitable, Callable, Generator, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from aro.vm import values
from aro.vm.errors import AroError

REPOSITORY_SUFFIX = "-repository"
STORE_FILE_SUFFIX = ".store"
# Event types of the two repository channels (the reference's RuntimeEvent names).  A dot can
# never appear in an ARO event name, so these cannot collide with domain events.
REPOSITORY_CHANGED = "repository.changed"
REPOSITORY_EVICTED = "repository.evicted"
EVICTION_REASON = "maxSize"

# Fields with an index: ``id`` for upsert by id, ``name``/``key`` for upsert by identity.
# Non-dict rows are indexed under SCALAR (no ARO field can be named "").
IDENTITY_FIELDS = ("name", "key")
INDEXED_FIELDS = ("id", *IDENTITY_FIELDS)
SCALAR = ""

Notify = Callable[[str, dict[str, Any], bool], Awaitable[None]]
"""``notify(event_type, payload, wait)``: deliver a repository event.  It must start delivery
before it returns (Delete and evictions drop the awaitable: fire-and-forget); awaiting the
result waits for the observers."""

Where = tuple[str, str, Any]


class StoreFileError(AroError):
    """A ``.store`` seed file is not valid YAML."""


def canonical(value: Any) -> Any:
    """A hashable form of ``value`` that equals another's only for the same value of the same
    type: the reference's typed index keys (``Int 1`` ≠ ``Double 1.0`` ≠ ``"1"`` ≠ ``true``)."""
    kind = type(value)
    if kind is str:
        return ("s", value)
    if kind is bool:
        return ("b", value)
    if kind is int:
        return ("i", value)
    if kind is float:
        return ("d", value)
    if value is None:
        return ("n",)
    if kind is dict:
        return ("m", frozenset((key, canonical(item)) for key, item in value.items()))
    if kind is list or kind is tuple:
        return ("l", tuple(canonical(item) for item in value))
    if kind is datetime:
        return ("t", value)
    return ("x", kind.__name__, str(value))


def is_repository_name(name: str | None) -> bool:
    return name is not None and name.endswith(REPOSITORY_SUFFIX)


def _index_keys(value: Any) -> list[tuple[str, Any]]:
    if type(value) is dict:
        return [(field, canonical(value[field])) for field in INDEXED_FIELDS if field in value]
    return [(SCALAR, canonical(value))]


class _Change:
    """The outcome of one upsert: what was stored and what to tell observers."""

    __slots__ = ("evicted", "is_new", "payload", "stored")

    def __init__(
        self, stored: Any, is_new: bool, payload: dict | None, evicted: list | None = None
    ) -> None:
        self.stored = stored
        self.is_new = is_new
        self.payload = payload  # None: nothing changed, nothing to announce
        self.evicted = evicted or []


class InMemoryRepository:
    """One repository (implements ``aro.vm.services.Repository``).

    Rows live in a dict keyed by a monotonic row number, so its order is insertion order and
    replacing a row keeps its place.  ``_index`` maps (field, canonical value) to the row
    numbers holding it, for the fields Store looks up on every call.
    """

    __slots__ = (
        "_born",
        "_clock",
        "_index",
        "_max_size",
        "_next_row",
        "_notify",
        "_observed",
        "_rows",
        "_ttl",
        "name",
    )

    def __init__(
        self,
        name: str,
        notify: Notify | None = None,
        clock: Callable[[], float] = time.monotonic,
        observed: bool = True,
    ) -> None:
        self.name = name
        self._rows: dict[int, Any] = {}
        self._born: dict[int, float] = {}  # row → insertion time, for ttl
        self._index: dict[tuple[str, Any], dict[int, None]] = {}  # ordered sets of rows
        self._next_row = 0
        self._max_size: int | None = None
        self._ttl: float | None = None
        self._notify = notify
        self._observed = observed  # False: no observer exists, so change events are not built
        self._clock = clock

    # -- the Repository protocol -----------------------------------------------------------

    async def store(self, value: Any) -> tuple[Any, bool]:
        """Upsert ``value`` (a list element-wise), announcing each change and waiting for its
        observers before the next element.  Returns the stored value(s) with their ids and
        whether the (last) element made a new row."""
        if type(value) is not list:
            change = await self._store_one(value)
            return change.stored, change.is_new
        stored, is_new = [], False
        for item in value:
            change = await self._store_one(item)
            stored.append(change.stored)
            is_new = change.is_new
        return stored, is_new

    def retrieve(self, where: Where | None = None) -> list[Any]:
        """Visible rows in insertion order; with ``where`` only those whose field equals the
        value (typed; the operator is ignored, as in the reference)."""
        if where is None:
            rows: Iterable[int] = self._rows
        else:
            field, _operator, expected = where
            rows = self._matching_rows(field, expected)
        if self._ttl is None:
            return [self._rows[row] for row in rows]
        oldest = self._clock() - self._ttl
        return [self._rows[row] for row in rows if self._born[row] >= oldest]

    def delete(self, where: Where | None = None) -> list[Any]:
        """Delete the rows matching ``where`` (expired ones too), or clear the repository.

        Observers get one ``deleted`` event per row, or a single one without id or values for a
        clear, without waiting for them.  Returns the deleted rows in insertion order."""
        if where is None:
            deleted = list(self._rows.values())
            self._clear()
            self._announce(REPOSITORY_CHANGED, self._event("deleted"), wait=False)
            return deleted
        field, _operator, expected = where
        deleted = [self._remove(row) for row in self._matching_rows(field, expected)]
        for row_value in deleted:
            event = self._event("deleted", old_value=row_value, entity=row_value)
            self._announce(REPOSITORY_CHANGED, event, wait=False)
        return deleted

    def count(self) -> int:
        """Every row, expired ones included (the reference counts them too)."""
        return len(self._rows)

    def configure(self, option: str, value: Any) -> None:
        """``maxSize`` (applies from the next append) or ``ttl`` in seconds."""
        if option == "maxSize":
            self._max_size = int(value)
        elif option == "ttl":
            self._ttl = float(value)
        else:
            raise ValueError(f"Unknown repository option: {option}")

    # -- seeding ---------------------------------------------------------------------------

    def seed(self, value: Any) -> None:
        """Upsert without telling anyone: ``.store`` files load before the program runs."""
        self._upsert(value)

    # -- upsert ------------------------------------------------------------------------------

    async def _store_one(self, value: Any) -> _Change:
        change = self._upsert(value)
        for item in change.evicted:
            self._announce(REPOSITORY_EVICTED, self._eviction_event(item), wait=False)
        if change.payload is not None:
            await self._announce(REPOSITORY_CHANGED, change.payload, wait=True)
        return change

    def _upsert(self, value: Any) -> _Change:
        if type(value) is not dict:
            return self._store_scalar(value)
        if "id" not in value:
            row = self._identity_row(value)
            if row is not None:
                return self._replace(row, {**value, "id": self._rows[row]["id"]})
            return self._append({**value, "id": str(uuid.uuid4()).upper()})
        row = self._first_row("id", value["id"])
        if row is None:
            return self._append(value)
        if canonical(self._rows[row]) == canonical(value):
            return _Change(value, False, None)
        return self._replace(row, value)

    def _store_scalar(self, value: Any) -> _Change:
        """A known scalar is not stored again, but the reference still announces it as an
        update whose old and new values are the same."""
        if self._first_row(SCALAR, value) is None:
            return self._append(value)
        return _Change(value, False, self._event("updated", value, value))

    def _identity_row(self, value: dict) -> int | None:
        """The row a dict without id updates: the first with its ``name``, else ``key``."""
        for field in IDENTITY_FIELDS:
            if field in value:
                return self._first_row(field, value[field])
        return None

    def _append(self, value: Any) -> _Change:
        row = self._next_row
        self._next_row += 1
        self._rows[row] = value
        self._born[row] = self._clock()
        self._add_to_index(row, value)
        evicted = []
        if self._max_size is not None and len(self._rows) > self._max_size:
            evicted.append(self._remove(next(iter(self._rows))))
        return _Change(value, True, self._event("created", new_value=value, entity=value), evicted)

    def _replace(self, row: int, value: Any) -> _Change:
        old = self._rows[row]
        self._remove_from_index(row, old)
        self._rows[row] = value
        self._add_to_index(row, value)
        return _Change(value, False, self._event("updated", value, old, entity=value))

    def _remove(self, row: int) -> Any:
        value = self._rows.pop(row)
        del self._born[row]
        self._remove_from_index(row, value)
        return value

    def _clear(self) -> None:
        self._rows.clear()
        self._born.clear()
        self._index.clear()

    # -- lookup ------------------------------------------------------------------------------

    def _first_row(self, field: str, expected: Any) -> int | None:
        rows = self._index.get((field, canonical(expected)))
        return min(rows) if rows else None

    def _matching_rows(self, field: str, expected: Any) -> list[int]:
        if field in INDEXED_FIELDS:
            return sorted(self._index.get((field, canonical(expected)), ()))
        wanted = canonical(expected)
        return [
            row
            for row, value in self._rows.items()
            if type(value) is dict and field in value and canonical(value[field]) == wanted
        ]

    def _add_to_index(self, row: int, value: Any) -> None:
        for key in _index_keys(value):
            self._index.setdefault(key, {})[row] = None

    def _remove_from_index(self, row: int, value: Any) -> None:
        for key in _index_keys(value):
            rows = self._index[key]
            del rows[row]
            if not rows:
                del self._index[key]

    # -- announcing --------------------------------------------------------------------------

    def _event(
        self, change_type: str, new_value: Any = None, old_value: Any = None, entity: Any = None
    ) -> dict[str, Any] | None:
        """The observer payload of ARO-RUNTIME §4.3 (keys only for what is known), or None
        when no observer watches this repository."""
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


class Completed:
    """An awaitable that is already done: what a fire-and-forget or unheard announcement
    returns.  Unlike a coroutine it may be dropped without a warning."""

    def __await__(self) -> Generator[None, None, None]:
        yield from ()


COMPLETED = Completed()


class RepositoryRegistry:
    """All repositories of an application by name, each created on first use.

    ``observed(name)`` says whether any observer watches a repository (the program's handlers
    are fixed, so it is asked once per repository); by default every one is."""

    def __init__(
        self, notify: Notify | None = None, observed: Callable[[str], bool] | None = None
    ) -> None:
        self._notify = notify
        self._observed = observed
        self._repositories: dict[str, InMemoryRepository] = {}

    def get(self, name: str) -> InMemoryRepository:
        repository = self._repositories.get(name)
        if repository is None:
            observed = self._observed is None or self._observed(name)
            repository = InMemoryRepository(name, self._notify, observed=observed)
            self._repositories[name] = repository
        return repository

    def load_store_files(self, root: Path) -> None:
        """Seed ``<stem>-repository`` from every ``<stem>.store`` YAML file in ``root`` (not
        its subdirectories): a list of maps, or one map.  Other entries are ignored."""
        for path in sorted(root.glob(f"*{STORE_FILE_SUFFIX}")):
            if path.name.startswith(".") or not path.is_file():
                continue
            repository = self.get(path.stem + REPOSITORY_SUFFIX)
            for entry in read_store_file(path):
                repository.seed(entry)


def read_store_file(path: Path) -> list[dict[str, Any]]:
    """The seed rows of one ``.store`` file."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_StoreLoader)
    except yaml.YAMLError as error:
        raise StoreFileError(f"Invalid store file {path.name}: {error}") from None
    if type(data) is dict:
        data = [data]
    if type(data) is not list:
        return []
    return [_null_as_empty(entry) for entry in data if type(entry) is dict]


def _null_as_empty(value: Any) -> Any:
    """The reference's YAML reader gives ``""`` for ``null`` and ``~``."""
    if value is None:
        return ""
    if type(value) is dict:
        return {key: _null_as_empty(item) for key, item in value.items()}
    if type(value) is list:
        return [_null_as_empty(item) for item in value]
    return value


class _StoreLoader(yaml.SafeLoader):
    """YAML as the reference reads ``.store`` files: dates stay text and only
    ``true``/``false`` (any of three casings) are booleans, not ``yes``/``no``/``on``/``off``."""


_BOOL_TAG = "tag:yaml.org,2002:bool"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_StoreLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_BOOL_TAG, _TIMESTAMP_TAG)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StoreLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
