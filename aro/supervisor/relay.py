"""The message relay between workers: a Unix-domain socket in the supervisor that copies every
frame one worker writes to every other worker, in the order it arrived.

A frame is a 4-byte big-endian length and that many bytes; the relay never looks inside one.
It forwards whole frames only (a partial one waits for its tail), and all the complete frames
of one read leave in one write per receiving worker, so a stream of small messages costs the
supervisor a few system calls per batch, not per message.  One sender's frames reach every
receiver in the order they were written.
"""

from __future__ import annotations

import asyncio
import struct

LENGTH = struct.Struct(">I")


def frame(body: bytes) -> bytes:
    """One message as the relay carries it."""
    return LENGTH.pack(len(body)) + body


def complete_length(buffer: bytes | bytearray) -> int:
    """How many leading bytes of ``buffer`` are whole frames."""
    end = 0
    size = len(buffer)
    while end + 4 <= size:
        (length,) = LENGTH.unpack_from(buffer, end)
        if end + 4 + length > size:
            break
        end += 4 + length
    return end


def split_frames(buffer: bytearray) -> list[bytes]:
    """Take the whole frames off the front of ``buffer``; leave a partial one in it."""
    bodies = []
    start = 0
    size = len(buffer)
    while start + 4 <= size:
        (length,) = LENGTH.unpack_from(buffer, start)
        if start + 4 + length > size:
            break
        bodies.append(bytes(buffer[start + 4 : start + 4 + length]))
        start += 4 + length
    del buffer[:start]
    return bodies


class _Peer(asyncio.Protocol):
    __slots__ = ("pending", "relay", "transport")

    def __init__(self, relay: Relay) -> None:
        self.relay = relay
        self.pending = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.relay.peers.add(self)

    def data_received(self, data: bytes) -> None:
        pending = self.pending
        if pending:
            pending += data
            data = bytes(pending)
            pending.clear()
        end = complete_length(data)
        if end < len(data):
            pending += data[end:]
        if end:
            self.relay.forward(self, data[:end] if end < len(data) else data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.relay.peers.discard(self)


class Relay:
    """Listens on ``path``; every connected worker is a peer."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.peers: set[_Peer] = set()
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_unix_server(lambda: _Peer(self), self.path)

    def forward(self, sender: _Peer, frames: bytes) -> None:
        for peer in self.peers:
            if peer is not sender and peer.transport is not None:
                peer.transport.write(frames)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for peer in list(self.peers):
            if peer.transport is not None:
                peer.transport.close()
