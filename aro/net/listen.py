"""Listening sockets, made one way for the HTTP and the TCP server: ``aro serve``'s workers
share a port through ``SO_REUSEPORT`` (docs/decisions.md, decision 29)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

BACKLOG = 1024  # connections the kernel queues before accept: bursts of reconnects fit


async def listen(
    factory: Callable[[], asyncio.Protocol], host: str, port: int, reuse_port: bool
) -> tuple[asyncio.Server, int]:
    """Bind and listen; answer the server and its actual port (``port=0`` picks a free one)."""
    server = await asyncio.get_running_loop().create_server(
        factory, host, port, reuse_address=True, reuse_port=reuse_port or None, backlog=BACKLOG
    )
    return server, server.sockets[0].getsockname()[1]
