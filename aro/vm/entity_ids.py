"""The ids Create gives entities, and which of them no Store has used yet.

An id is the reference's shape, the time in hex milliseconds and then 9 hex digits (36 bits),
which here are this process's id (Linux's process ids fit in 22 bits) and a counter of 14 bits
started at random.  Two live processes of one machine never share an id, so the ids that the
workers of one machine mint never collide, nor do a process's own unless it mints 16,384 in one
millisecond; processes of two machines collide only when their process ids match and their
counters meet in the same millisecond.  So an id that Create minted here names no row yet.

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
_COUNTER_BITS = 14
_COUNTER_MASK = (1 << _COUNTER_BITS) - 1

_process = os.getpid() << _COUNTER_BITS
_counter = itertools.count(secrets.randbits(_COUNTER_BITS))
_fresh: dict[str, None] = {}  # an ordered set: the oldest first


def _new_process() -> None:
    """A forked child is another minter: its own process id, and none of the parent's ids."""
    global _process
    _process = os.getpid() << _COUNTER_BITS
    _fresh.clear()


os.register_at_fork(after_in_child=_new_process)


def mint() -> str:
    """A new entity id, remembered as fresh until ``claim``ed or pushed out."""
    low = _process | (next(_counter) & _COUNTER_MASK)
    entity_id = f"{int(time.time() * 1000):x}{low:09x}"
    fresh = _fresh
    fresh[entity_id] = None
    if len(fresh) > FRESH_LIMIT:
        _forget_oldest()
    return entity_id


def _forget_oldest() -> None:
    """Forget the oldest quarter of the fresh ids at once, into a rebuilt dict: deleting one
    at a time would leave deleted entries for every later look at the oldest to scan past."""
    kept = list(_fresh)[FRESH_LIMIT // 4 :]
    _fresh.clear()
    _fresh.update(dict.fromkeys(kept))


def claim(entity_id: object) -> bool:
    """Whether ``entity_id`` was minted here and not claimed since; it is not fresh after."""
    return type(entity_id) is str and _fresh.pop(entity_id, False) is None
