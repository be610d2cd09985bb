"""Storage behind a repository: the ``Backend`` protocol and the typed keys rows are found by.

A backend stores one repository's rows in insertion order and finds them by typed key; the
Store rules (which row a value updates, ids, limits, events) live in ``semantics`` and are the
same on every backend.  Equality is typed everywhere: two values match only when
``canonical`` gives equal results, so ``1``, ``1.0``, ``"1"`` and ``true`` are four keys.

Every row has one ``row_key``: a dict row (Store gives each one an ``id``) is keyed by its id,
any other value by itself in a namespace of its own.  Dict rows are also found by their
identity fields ``name`` and ``key``, and a backend answers ``where`` on any field.
"""

from __future__ import annotations

from collections.abc import Awaitable, Generator, Hashable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, ClassVar, Protocol

IDENTITY_FIELDS = ("name", "key")


class _Absent:
    """What ``get``, ``first`` and ``evict_over`` answer when there is no such row (a stored
    row may be ``None``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()

_SCALAR_TAG = "="  # a tag ``canonical`` never produces, so scalar keys never equal an id's


def canonical(value: Any) -> Hashable:
    """A hashable form of ``value`` that equals another's only for the same value of the same
    type.  A string is its own form (the common id costs nothing extra); every other type is a
    tuple led by a tag of its type, and a tuple never equals a string."""
    kind = type(value)
    if kind is str:
        return value
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


def row_key(row: Any) -> Hashable:
    """The key a stored row is kept under: its typed id, or a non-dict value itself."""
    if type(row) is dict:
        return canonical(row["id"])
    return (_SCALAR_TAG, canonical(row))


def field_matches(row: Any, field: str, wanted: Hashable) -> bool:
    """Whether ``row`` is a dict whose ``field`` has the canonical form ``wanted``."""
    return type(row) is dict and field in row and canonical(row[field]) == wanted


class Completed:
    """An awaitable that is already done: what a fire-and-forget or unheard announcement
    returns.  Unlike a coroutine it may be dropped without a warning."""

    def __await__(self) -> Generator[None, None, None]:
        yield from ()


COMPLETED = Completed()


class Backend(Protocol):
    """The rows of one repository, in insertion order.

    When ``suspends`` is false every method returns its answer; when it is true every method
    returns an awaitable of it (a server or a file shared between processes).  ``born`` is the
    repository clock's time of an append, kept for ``ttl``; ``since`` hides rows born earlier.
    Rows of ``where`` answers and removals come in insertion order.
    """

    suspends: ClassVar[bool]
    #: Store needs neither ``atomically`` nor ``committed`` (one process's memory): it then
    #: writes with plain calls, no coroutine.  False for every backend that suspends.
    writes_at_once: ClassVar[bool]

    def atomically(self, looks_up: bool) -> AbstractAsyncContextManager[None]:
        """Held by Store from its lookup to its write and eviction: no other process changes
        the repository in between (a transaction, a lock; nothing for one process's memory).
        ``looks_up`` is False when Store appends under a fresh id without reading first:
        a backend whose single writes are atomic may then take no lock."""

    def committed(self) -> Awaitable[None]:
        """Done when every change made so far is durable: Store awaits it before it returns
        (a storage that commits in groups answers the group's commit)."""

    def get(self, key: Hashable) -> Any:
        """The row kept under ``key``, or ABSENT."""

    def first(self, field: str, value: Any) -> Any:
        """The oldest dict row whose identity ``field`` equals ``value``, or ABSENT."""

    def append(self, key: Hashable, row: Any, born: float) -> bool:
        """Add a row under ``key`` after every other row, unless a row is already kept under
        it (one atomic step); whether it added the row."""

    def replace(self, key: Hashable, row: Any) -> None:
        """Put ``row`` in the place (and birth time) of the row kept under ``key``."""

    def evict_over(self, limit: int) -> Any:
        """Remove and answer the oldest row when more than ``limit`` are kept, else ABSENT."""

    def rows(self, since: float | None) -> list[Any]:
        """Every row, or those born at ``since`` or later."""

    def matching(self, field: str, value: Any, since: float | None) -> list[Any]:
        """The dict rows whose ``field`` equals ``value`` (typed), born at ``since`` or later."""

    def remove_matching(self, field: str, value: Any) -> list[Any]:
        """Remove and answer the dict rows whose ``field`` equals ``value``, whatever their age."""

    def clear(self) -> list[Any]:
        """Remove and answer every row."""

    def count(self) -> int:
        """How many rows are kept, whatever their age."""
