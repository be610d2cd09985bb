"""Repositories on a Redis server that several machines share (``--store redis://HOST:PORT/DB``).

A repository ``R`` is a few Redis keys under ``aro:repo:R``: a hash of its rows (typed key,
``codec.key_text`` -> birth time, a space, the row's JSON), a sorted set of its keys ordered by
a sequence number that one counter (``aro:seq``) hands out to every process, a sorted set per
identity value (``name``/``key`` field) holding the keys of the rows that have it, and a hash
naming each row's identity sets.  Every change is one Lua script, so it is atomic on the
server; Store holds a Redis lock per repository (``atomically``) from its lookup to its
write, so that an upsert is one change across processes.  Birth times are wall-clock seconds.

The backend suspends (``redis.asyncio``): every method answers an awaitable.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from typing import Any

import orjson
import redis.asyncio as redis
from redis.exceptions import RedisError

from aro.runtime.repositories.base import (
    ABSENT,
    IDENTITY_FIELDS,
    canonical,
    field_matches,
    row_key,
)
from aro.runtime.repositories.codec import decode_row, encode_row, key_text
from aro.runtime.repositories.stores import StoreUnavailable

SEQUENCE_KEY = "aro:seq"
LOCK_EXPIRY_MS = 10_000  # how long a crashed holder keeps a repository locked at most
LOCK_POLL = 0.002  # seconds between tries of a process waiting for another's lock

# KEYS: rows hash, order zset, identities hash.  A Lua helper shared by the scripts that remove.
_REMOVE = """
local function remove(key)
    local stored = redis.call('HGET', KEYS[1], key)
    if not stored then return nil end
    redis.call('HDEL', KEYS[1], key)
    redis.call('ZREM', KEYS[2], key)
    local sets = redis.call('HGET', KEYS[3], key)
    if sets then
        for _, set in ipairs(cjson.decode(sets)) do redis.call('ZREM', set, key) end
        redis.call('HDEL', KEYS[3], key)
    end
    return stored
end
"""

# KEYS: rows, order, identities, sequence.  ARGV: key, stored, identity sets (JSON), sets...
# Answers 0 and writes nothing when a row is kept under the key, else 1.
_APPEND = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
local seq = redis.call('INCR', KEYS[4])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], seq, ARGV[1])
if #ARGV > 3 then redis.call('HSET', KEYS[3], ARGV[1], ARGV[3]) end
for i = 4, #ARGV do redis.call('ZADD', ARGV[i], seq, ARGV[1]) end
return 1
"""

# KEYS: rows, order, identities.  ARGV: key, row JSON, identity sets (JSON), sets...
# The row keeps its place and its birth time.
_REPLACE = """
local old = redis.call('HGET', KEYS[1], ARGV[1])
local born = string.sub(old, 1, string.find(old, ' ', 1, true))
redis.call('HSET', KEYS[1], ARGV[1], born .. ARGV[2])
local seq = redis.call('ZSCORE', KEYS[2], ARGV[1])
local sets = redis.call('HGET', KEYS[3], ARGV[1])
if sets then
    for _, set in ipairs(cjson.decode(sets)) do redis.call('ZREM', set, ARGV[1]) end
    redis.call('HDEL', KEYS[3], ARGV[1])
end
if #ARGV > 3 then redis.call('HSET', KEYS[3], ARGV[1], ARGV[3]) end
for i = 4, #ARGV do redis.call('ZADD', ARGV[i], seq, ARGV[1]) end
"""

# KEYS: rows, order, identities.  ARGV: keys.  Answers what was stored under each that was.
_REMOVE_KEYS = (
    _REMOVE
    + """
local removed = {}
for i = 1, #ARGV do
    local stored = remove(ARGV[i])
    if stored then table.insert(removed, stored) end
end
return removed
"""
)

# KEYS: rows, order, identities.  ARGV: limit.  Removes and answers the oldest row when more.
_EVICT_OVER = (
    _REMOVE
    + """
if redis.call('ZCARD', KEYS[2]) <= tonumber(ARGV[1]) then return false end
return remove(redis.call('ZRANGE', KEYS[2], 0, 0)[1])
"""
)

# KEYS: rows, a zset of keys.  ARGV: how many (-1: all).  The stored rows in the zset's order.
_IN_ORDER = """
local stored = {}
for _, key in ipairs(redis.call('ZRANGE', KEYS[2], 0, tonumber(ARGV[1]))) do
    table.insert(stored, redis.call('HGET', KEYS[1], key))
end
return stored
"""

# KEYS: rows, order, identities.  Removes every row; answers them in order.
_CLEAR = (
    _REMOVE
    + """
local removed = {}
for _, key in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
    table.insert(removed, remove(key))
end
return removed
"""
)


# KEYS: the lock.  ARGV: the holder's token.  Frees the lock only if it is still the holder's.
_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
"""


_UNLOCKED = nullcontext()


class RedisStore:
    """One process's client of the server; ``backend(name)`` gives each repository's view."""

    suspends = True
    clock: Callable[[], float] = staticmethod(time.time)

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = redis.Redis.from_url(url)
        self.scripts = {
            name: self.client.register_script(source)
            for name, source in (
                ("append", _APPEND),
                ("replace", _REPLACE),
                ("remove", _REMOVE_KEYS),
                ("evict_over", _EVICT_OVER),
                ("in_order", _IN_ORDER),
                ("clear", _CLEAR),
                ("unlock", _UNLOCK),
            )
        }

    async def open(self) -> None:
        try:
            await self.client.ping()
        except (RedisError, OSError) as error:
            await self.client.aclose()
            raise StoreUnavailable(f"cannot reach Redis at {self.url}: {error}") from None

    async def close(self) -> None:
        await self.client.aclose()

    def backend(self, repository: str) -> RedisBackend:
        return RedisBackend(self, repository)


class RedisBackend:
    """Implements ``base.Backend``, suspending, for one repository of a ``RedisStore``."""

    suspends = True
    writes_at_once = False
    __slots__ = ("_client", "_keys", "_lock_key", "_prefix", "_scripts", "_storing")

    def __init__(self, store: RedisStore, repository: str) -> None:
        self._client = store.client
        self._scripts = store.scripts
        self._prefix = f"aro:repo:{repository}"
        self._keys = [f"{self._prefix}:{part}" for part in ("rows", "order", "sets")]
        self._lock_key = f"{self._prefix}:lock"
        # This process's Stores queue here, so that the Redis lock is contended only by
        # other processes (its waiters poll).
        self._storing = asyncio.Lock()

    def atomically(self, looks_up: bool) -> AbstractAsyncContextManager[None]:
        """This repository's lock when Store looks a row up; an append alone is one script."""
        return self._locked() if looks_up else _UNLOCKED

    @asynccontextmanager
    async def _locked(self) -> AsyncIterator[None]:
        """This repository's lock on the server (``SET NX`` with a token and an expiry, so
        that a crashed holder frees it), taken after this process's own turn."""
        lock, token = self._lock_key, uuid.uuid4().bytes
        async with self._storing:
            waited = 0.0
            while not await self._client.set(lock, token, nx=True, px=LOCK_EXPIRY_MS):
                if waited > LOCK_EXPIRY_MS / 1000:
                    raise RedisError(f"{lock} stayed locked for {waited:.0f} s")
                await asyncio.sleep(LOCK_POLL)
                waited += LOCK_POLL
            try:
                yield
            finally:
                await self._scripts["unlock"]([lock], [token])

    async def committed(self) -> None:
        """Every script has run on the server when its call returns."""

    async def get(self, key: Hashable) -> Any:
        stored = await self._client.hget(self._keys[0], key_text(key))
        return ABSENT if stored is None else _row(stored)

    async def first(self, field: str, value: Any) -> Any:
        found = await self._in_order(self._identity_set(field, canonical(value)), 0)
        return _row(found[0]) if found else ABSENT

    async def append(self, key: Hashable, row: Any, born: float) -> bool:
        stored = repr(born).encode() + b" " + encode_row(row)
        keys = [*self._keys, SEQUENCE_KEY]
        arguments = [key_text(key), stored, *self._sets_of(row)]
        return await self._scripts["append"](keys, arguments) == 1

    async def replace(self, key: Hashable, row: Any) -> None:
        arguments = [key_text(key), encode_row(row), *self._sets_of(row)]
        await self._scripts["replace"](self._keys, arguments)

    async def evict_over(self, limit: int) -> Any:
        stored = await self._scripts["evict_over"](self._keys, [limit])
        return ABSENT if stored is None else _row(stored)

    async def rows(self, since: float | None) -> list[Any]:
        return _young_rows(await self._in_order(self._keys[1], -1), since)

    async def matching(self, field: str, value: Any, since: float | None) -> list[Any]:
        wanted = canonical(value)
        if field == "id":
            stored = await self._client.hget(self._keys[0], key_text(wanted))
            rows = [] if stored is None else _young_rows([stored], since)
            return [row for row in rows if type(row) is dict]
        if field in IDENTITY_FIELDS:
            return _young_rows(await self._in_order(self._identity_set(field, wanted), -1), since)
        return [row for row in await self.rows(since) if field_matches(row, field, wanted)]

    async def remove_matching(self, field: str, value: Any) -> list[Any]:
        keys = [key_text(row_key(row)) for row in await self.matching(field, value, None)]
        if not keys:
            return []
        return [_row(stored) for stored in await self._scripts["remove"](self._keys, keys)]

    async def clear(self) -> list[Any]:
        return [_row(stored) for stored in await self._scripts["clear"](self._keys, [])]

    async def count(self) -> int:
        return await self._client.zcard(self._keys[1])

    def _in_order(self, order: str, last: int) -> Awaitable[list[bytes]]:
        return self._scripts["in_order"]([self._keys[0], order], [last])

    def _identity_set(self, field: str, wanted: Hashable) -> str:
        return f"{self._prefix}:{field}:{key_text(wanted)}"

    def _sets_of(self, row: Any) -> list[Any]:
        """The JSON list of the row's identity sets, then the sets (nothing for no set)."""
        if type(row) is not dict:
            return []
        sets = [
            self._identity_set(field, canonical(row[field]))
            for field in IDENTITY_FIELDS
            if field in row
        ]
        return [orjson.dumps(sets), *sets] if sets else []


def _split(stored: bytes) -> tuple[float, bytes]:
    born, _, row = stored.partition(b" ")
    return float(born), row


def _row(stored: bytes) -> Any:
    return decode_row(_split(stored)[1])


def _young_rows(stored_rows: list[bytes], since: float | None) -> list[Any]:
    rows = []
    for stored in stored_rows:
        born, row = _split(stored)
        if since is None or born >= since:
            rows.append(decode_row(row))
    return rows
