"""The ids Create gives entities, and which of them no Store has used yet.

An id is the time in hex milliseconds, then this process's random 32-bit tag and a counter of
its own, 8 hex digits each.  Within a process the counter makes every id unique; two processes
(workers, machines) share a tag with odds of 2^-32, and even then mint the same id only when
their counters meet in the same millisecond, so an id minted by Create names no row yet.

A repository that is told an id is fresh (``claim``) may append its row without looking it
up first.  The hint is bounded (the oldest ids minted are forgotten first) and only ever true
for an id minted in this process and not claimed since; a repository still checks that the
append found no row under the id (``docs/decisions.md``, 37).
"""

from __future__ import annotations

import itertools
import os
import secrets
import time

FRESH_LIMIT = 4096  # ids remembered as fresh; Creates never stored do not grow it past this

_TAG = secrets.token_hex(4)
_counter = itertools.count(1)
_fresh: dict[str, None] = {}  # an ordered set: the oldest first


def _new_process() -> None:
    """A forked child is another minter: a tag of its own, and none of the parent's ids."""
    global _TAG
    _TAG = secrets.token_hex(4)
    _fresh.clear()


os.register_at_fork(after_in_child=_new_process)


def mint() -> str:
    """A new entity id, remembered as fresh until ``claim``ed or pushed out."""
    entity_id = f"{int(time.time() * 1000):x}{_TAG}{next(_counter) & 0xFFFFFFFF:08x}"
    fresh = _fresh
    fresh[entity_id] = None
    if len(fresh) > FRESH_LIMIT:
        del fresh[next(iter(fresh))]
    return entity_id


def claim(entity_id: object) -> bool:
    """Whether ``entity_id`` was minted here and not claimed since; it is not fresh after."""
    return type(entity_id) is str and _fresh.pop(entity_id, False) is None
