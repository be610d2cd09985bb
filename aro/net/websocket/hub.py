"""The registry of a server's WebSocket connections by id, and broadcast to all of them.

A broadcast is framed once; when some connections negotiated compression, the message is
also compressed once per window size and threshold (one variant in practice), which every
such connection can share because we never keep compression context.  What a broadcast needs
of the connections (their Outbox, who compresses how) is sorted out when the membership
changes, not per message.

:meth:`WebSocketHub.broadcast_payload` takes a message already serialized (text as its UTF-8
bytes), as a bus between processes delivers it; :meth:`WebSocketHub.broadcast` serializes a
str or bytes and goes through it.
"""

from __future__ import annotations

import asyncio
import sys

from aro._speedups import OP_BINARY, OP_TEXT, Outbox, encode_frame
from aro.net.websocket.codes import CloseCode
from aro.net.websocket.deflate import PerMessageDeflate
from aro.net.websocket.server import WebSocket

__all__ = ["WebSocketHub"]


class WebSocketHub:
    """The connections by id; broadcast to all of them, close them all."""

    __slots__ = ("_by_id", "_groups")

    def __init__(self) -> None:
        self._by_id: dict[str, WebSocket] = {}
        self._groups: _Groups | None = None

    def add(self, conn: WebSocket) -> None:
        self._by_id[conn.id] = conn
        self._groups = None

    def remove(self, conn: WebSocket) -> None:
        if self._by_id.pop(conn.id, None) is not None:
            self._groups = None

    def get(self, conn_id: str) -> WebSocket | None:
        return self._by_id.get(conn_id)

    @property
    def connections(self) -> list[WebSocket]:
        return list(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def broadcast(self, data: str | bytes) -> int:
        """Queue one message to every open connection; answer how many it was queued to."""
        if type(data) is str:
            return self.broadcast_payload(data.encode(), True)
        return self.broadcast_payload(bytes(data), False)

    def broadcast_payload(self, payload: bytes, text: bool) -> int:
        """Queue one serialized message (``text``: UTF-8 bytes sent as a text message) to every
        open connection; answer how many it was queued to."""
        groups = self._groups or self._group()
        if not groups.everyone:
            return 0
        opcode = OP_TEXT if text else OP_BINARY
        outbox = groups.outbox
        frame = encode_frame(opcode, payload)
        size = len(payload)
        if size < groups.compress_from:
            return outbox.broadcast(groups.everyone, frame)
        count = outbox.broadcast(groups.plain, frame)
        for deflate, conns in groups.compressed:
            if size < deflate.min_size:
                count += outbox.broadcast(conns, frame)
            else:
                deflated = encode_frame(opcode, deflate.compress(payload), True)
                count += outbox.broadcast(conns, deflated)
        return count

    def _group(self) -> _Groups:
        """Sort the connections by what frame they take; kept until the membership changes."""
        groups = self._groups = _Groups(list(self._by_id.values()))
        variants: dict[tuple[int, int], list[WebSocket]] = {}
        for conn in groups.everyone:
            deflate = conn.deflate
            if deflate is None or deflate.min_size == sys.maxsize:
                groups.plain.append(conn)
            else:
                variants.setdefault((deflate.window_bits, deflate.min_size), []).append(conn)
                groups.compress_from = min(groups.compress_from, deflate.min_size)
        groups.compressed = [(conns[0].deflate, conns) for conns in variants.values()]
        if groups.everyone:
            groups.outbox = groups.everyone[0].outbox
        return groups

    async def close_all(self, code: int = CloseCode.GOING_AWAY, reason: str = "") -> None:
        """Close every connection and wait for the handshakes, at most ``close_timeout``
        (then the stragglers are aborted)."""
        conns = self.connections
        if not conns:
            return
        waiters = [conn.wait_closed() for conn in conns]
        for conn in conns:
            conn.close(code, reason)
        timeout = max(conn.close_timeout for conn in conns)
        await asyncio.wait(waiters, timeout=timeout + 0.5)


class _Groups:
    """A hub's connections: all, and the Outbox they share; those never sent compressed
    frames; the others by compression variant (one compressor of each variant beside its
    connections); and the smallest message any of them would get compressed."""

    __slots__ = ("compress_from", "compressed", "everyone", "outbox", "plain")

    def __init__(self, everyone: list[WebSocket]) -> None:
        self.everyone = everyone
        self.outbox: Outbox | None = None
        self.plain: list[WebSocket] = []
        self.compressed: list[tuple[PerMessageDeflate, list[WebSocket]]] = []
        self.compress_from = sys.maxsize
