"""A small HTTP server for client tests, on 127.0.0.1 with an ephemeral port, in its own thread
(so that a test may run an ARO program with ``asyncio.run`` while it answers).

Routes: ``/json`` (an object), ``/text``, ``/down`` (503), ``/echo`` (the request as JSON:
method, headers, contentType, body), ``/slow?seconds=S``, ``/hold`` (answers once ``release()``
is called; ``held`` counts the requests that arrived), ``/events`` (server-sent events: two
messages, then the connection ends).  ``peers`` counts the client ports seen, to check
connection reuse; ``event_requests`` records the ``Last-Event-ID`` of each request to
``/events``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from aiohttp import web


class StubServer:
    def __init__(self) -> None:
        self.port = 0
        self.peers: set[int] = set()
        self.event_requests: list[str | None] = []
        self.held = 0
        self._released: asyncio.Event | None = None
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("stub HTTP server did not start")

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def release(self) -> None:
        """Let every request to ``/hold`` be answered."""
        self._loop.call_soon_threadsafe(self._released.set)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._ready.set()
        self._loop.run_forever()

    async def _start(self) -> None:
        self._released = asyncio.Event()
        app = web.Application(middlewares=[self._count_peer])
        app.router.add_get("/json", self._json)
        app.router.add_get("/text", self._text)
        app.router.add_get("/down", self._down)
        app.router.add_route("*", "/echo", self._echo)
        app.router.add_get("/slow", self._slow)
        app.router.add_get("/hold", self._hold)
        app.router.add_get("/events", self._events)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    @web.middleware
    async def _count_peer(self, request: web.Request, handler):
        self.peers.add(request.transport.get_extra_info("peername")[1])
        return await handler(request)

    async def _json(self, request: web.Request) -> web.Response:
        body = {"latitude": 52.52, "current": {"temperature": 15}}
        return web.json_response(body, headers={"X-Stub": "yes"})

    async def _text(self, request: web.Request) -> web.Response:
        return web.Response(text="plain words")

    async def _down(self, request: web.Request) -> web.Response:
        return web.json_response({"error": "down"}, status=503)

    async def _echo(self, request: web.Request) -> web.Response:
        body = await request.text()
        return web.json_response(
            {
                "method": request.method,
                "headers": dict(request.headers),
                "contentType": request.headers.get("Content-Type", ""),
                "body": body,
            }
        )

    async def _slow(self, request: web.Request) -> web.Response:
        await asyncio.sleep(float(request.query.get("seconds", "1")))
        return web.Response(text="late")

    async def _hold(self, request: web.Request) -> web.Response:
        self.held += 1
        await self._released.wait()
        return web.json_response({"released": True})

    async def _events(self, request: web.Request) -> web.StreamResponse:
        self.event_requests.append(request.headers.get("Last-Event-ID"))
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        round_ = len(self.event_requests)
        await response.write(b": a comment\nretry: 50\n\n")
        await response.write(f'id: {round_}\nevent: flight\ndata: {{"n": {round_}}}\n\n'.encode())
        await response.write(b"data: two\ndata: lines\r\n\r\n")
        return response


@contextmanager
def stub_server() -> Iterator[StubServer]:
    server = StubServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
