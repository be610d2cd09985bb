"""The bus between the workers of one ``aro serve``: a Unix-domain connection to the
supervisor's relay (``aro/supervisor/relay.py``), which copies every frame a worker writes to
every other worker.  Publishing is one write here (the relay does the fan-out) and delivering
locally; what arrives is applied to this worker's clients in the order it was written, so
per-connection ordering holds.  Nothing needs a server besides ``aro serve`` itself."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aro.runtime.broadcast import LocalClients
from aro.runtime.buses import wire
from aro.runtime.errors import StartupError
from aro.supervisor.relay import LENGTH, split_frames


class _Receiver(asyncio.Protocol):
    def __init__(self, local: LocalClients, log: Callable[[str], None]) -> None:
        self.local = local
        self.log = log
        self.pending = bytearray()
        self.closing = False

    def data_received(self, data: bytes) -> None:
        self.pending += data
        for message in split_frames(self.pending):
            wire.apply(message, self.local)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closing:
            self.log("bus: lost the connection to the other workers (supervisor gone?)")


class RelayBus:
    """``unix:PATH``: the relay socket ``aro serve`` gave this worker."""

    def __init__(self, local: LocalClients, url: str, log: Callable[[str], None]) -> None:
        self.local = local
        self.path = url.partition(":")[2]
        self.log = log
        self._transport: asyncio.WriteTransport | None = None
        self._receiver = _Receiver(local, log)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            transport, _ = await loop.create_unix_connection(lambda: self._receiver, self.path)
        except OSError as error:
            raise StartupError(f"cannot reach the other workers at {self.path}: {error}") from None
        self._transport = transport

    async def stop(self) -> None:
        if self._transport is not None:
            self._receiver.closing = True
            self._transport.close()
            self._transport = None

    def _write(self, message: bytes) -> None:
        if self._transport is not None:
            self._transport.writelines((LENGTH.pack(len(message)), message))

    def publish(self, channel: str, payload: bytes, text: bool) -> int:
        self._write(wire.broadcast(channel, payload, text))
        return self.local.deliver(channel, payload, text)

    def send(self, connection_id: str, payload: bytes, text: bool, websocket_only: bool) -> None:
        self._write(wire.send(connection_id, payload, text, websocket_only))

    def close(self, connection_id: str) -> None:
        self._write(wire.close(connection_id))
