"""``redis://HOST:PORT[/DB]``: every server on one Redis forms one chat, through pub/sub on one
channel (redis-py's asyncio client).

Each message carries the id of the worker that published it (a worker ignores its own: it
delivered locally already).  What a worker publishes leaves in order through one queue and
one pipeline at a time, and each worker reads the channel on one connection, so per-connection
ordering holds.  A lost connection is retried with a doubling delay and logged, both ways;
messages published meanwhile wait in the queue."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as redis
from redis.exceptions import RedisError

from aro.runtime.broadcast import LocalClients
from aro.runtime.buses import wire
from aro.runtime.errors import StartupError

CHANNEL = "aro:bus"
ORIGIN_BYTES = 8
FIRST_RETRY = 0.1
LAST_RETRY = 5.0
FLUSH_AT_STOP = 2.0  # seconds a stopping worker waits for its last messages to leave
_LOST = (RedisError, OSError)


class RedisBus:
    def __init__(self, local: LocalClients, url: str, log: Callable[[str], None]) -> None:
        self.local = local
        self.url = url
        self.log = log
        self.origin = secrets.token_bytes(ORIGIN_BYTES)
        self._client = redis.Redis.from_url(url)
        self._outgoing: list[bytes] = []
        self._wake = asyncio.Event()
        self._sent = asyncio.Event()  # set while nothing waits to be published
        self._sent.set()
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        try:
            pubsub = await self._subscribe()
        except _LOST as error:
            raise StartupError(f"cannot reach Redis at {self.url}: {error}") from None
        self._tasks = [
            asyncio.ensure_future(self._listen(pubsub)),
            asyncio.ensure_future(self._publish_queued()),
        ]

    async def stop(self) -> None:
        """Leave once what was published here has left (Application-End's broadcasts too),
        or after FLUSH_AT_STOP when Redis is away."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._sent.wait(), FLUSH_AT_STOP)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._client.aclose()

    def _queue(self, message: bytes) -> None:
        self._outgoing.append(self.origin + message)
        self._sent.clear()
        self._wake.set()

    def publish(self, channel: str, payload: bytes, text: bool) -> int:
        self._queue(wire.broadcast(channel, payload, text))
        return self.local.deliver(channel, payload, text)

    def send(self, connection_id: str, payload: bytes, text: bool, websocket_only: bool) -> None:
        self._queue(wire.send(connection_id, payload, text, websocket_only))

    def close(self, connection_id: str) -> None:
        self._queue(wire.close(connection_id))

    async def _subscribe(self) -> redis.client.PubSub:
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(CHANNEL)
        return pubsub

    async def _listen(self, pubsub: redis.client.PubSub) -> None:
        origin = self.origin
        while True:
            try:
                async for message in pubsub.listen():
                    data = message["data"]
                    if data[:ORIGIN_BYTES] != origin:
                        wire.apply(data[ORIGIN_BYTES:], self.local)
            except _LOST as error:
                await pubsub.aclose()
                pubsub = await self._reconnect("subscription", error, self._subscribe)

    async def _publish_queued(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._outgoing = self._outgoing, []
            try:
                async with self._client.pipeline(transaction=False) as pipe:
                    for message in batch:
                        pipe.publish(CHANNEL, message)
                    await pipe.execute()
                if not self._outgoing:
                    self._sent.set()
            except _LOST as error:
                self._outgoing[:0] = batch  # first in the queue again, in their order
                await self._reconnect("publisher", error, self._client.ping)
                self._wake.set()

    async def _reconnect(
        self, what: str, error: Exception, attempt: Callable[[], Awaitable[Any]]
    ) -> Any:
        """Retry ``attempt`` with a doubling delay until it works, saying so in the log."""
        delay = FIRST_RETRY
        self.log(f"bus: lost Redis at {self.url} ({what}: {error}); reconnecting")
        while True:
            await asyncio.sleep(delay)
            try:
                result = await attempt()
            except _LOST:
                delay = min(delay * 2, LAST_RETRY)
                continue
            self.log(f"bus: reconnected to Redis at {self.url} ({what})")
            return result
