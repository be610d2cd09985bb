"""Minimal picows, websockets and aiohttp servers behaving as bench/ws_load.py measures ours.

Each echoes every message on /ws back to its sender, and broadcasts the JSON of each message
POSTed (form ``message=...``) to every open socket, as examples/WebChat does, so that the same
client measures them in the same run.  websockets broadcasts with ``websockets.broadcast``;
picows with its documented loop of ``transport.send``; aiohttp awaits ``send_str`` per socket
in its POST handler, as its docs' chat example does.  Neither picows nor websockets serves plain
HTTP on its WebSocket port with keep-alive, so their POST endpoint is a tiny asyncio protocol on
``--http-port`` in the same process and loop: its CPU counts in the server's /proc figures,
and at 1,000 subscribers it is well under 1 % of the per-broadcast cost.  aiohttp serves its
own POST route on both ports.

Run: ``python bench/peers/ws_peers.py picows|websockets|aiohttp --port P --http-port Q`` (uvloop).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable
from urllib.parse import parse_qs

HOST = "127.0.0.1"


def message_json(body: bytes) -> str:
    """The WebChat shape ({message, createdAt}), so payload sizes match ours."""
    text = parse_qs(body.decode()).get("message", [""])[0]
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return json.dumps({"message": text, "createdAt": stamp}, separators=(",", ":"))


class PostProtocol(asyncio.Protocol):
    """Keep-alive HTTP/1.1 POST /messages: broadcast the message, answer 201 with its JSON."""

    def __init__(self, broadcast: Callable[[str], None]) -> None:
        self.broadcast = broadcast
        self.buf = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while (end := self.buf.find(b"\r\n\r\n")) >= 0:
            head = self.buf[:end].lower()
            length = 0
            if (at := head.find(b"content-length:")) >= 0:
                length = int(head[at + 15 :].split(b"\r\n", 1)[0])
            if len(self.buf) < end + 4 + length:
                return
            body = self.buf[end + 4 : end + 4 + length]
            self.buf = self.buf[end + 4 + length :]
            self.respond(body)

    def respond(self, body: bytes) -> None:
        payload = message_json(body)
        self.broadcast(payload)
        raw = payload.encode()
        head = (
            b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(raw)
        )
        assert self.transport is not None
        self.transport.write(head + raw)


async def serve_picows(port: int, http_port: int) -> None:
    """picows: echo in the listener, broadcast with the send loop of its docs."""
    import picows

    clients: set = set()

    class Listener(picows.WSListener):
        def on_ws_connected(self, transport: picows.WSTransport) -> None:
            clients.add(transport)

        def on_ws_disconnected(self, transport: picows.WSTransport) -> None:
            clients.discard(transport)

        def on_ws_frame(self, transport: picows.WSTransport, frame: picows.WSFrame) -> None:
            if frame.msg_type in (picows.WSMsgType.TEXT, picows.WSMsgType.BINARY):
                transport.send(frame.msg_type, frame.get_payload_as_bytes())
            elif frame.msg_type == picows.WSMsgType.CLOSE:
                transport.send_close(frame.get_close_code())
                transport.disconnect()

    def broadcast(text: str) -> None:
        data = text.encode()
        for transport in clients:
            transport.send(picows.WSMsgType.TEXT, data)

    await picows.ws_create_server(lambda _req: Listener(), HOST, port, backlog=4096)
    await serve_http(http_port, broadcast)


async def serve_websockets(port: int, http_port: int) -> None:
    """websockets: an echo handler per connection, broadcast with ``websockets.broadcast``."""
    import websockets
    from websockets.asyncio.server import serve

    clients: set = set()

    async def handler(ws) -> None:
        clients.add(ws)
        try:
            async for message in ws:
                await ws.send(message)
        except websockets.ConnectionClosed:
            pass
        finally:
            clients.discard(ws)

    def broadcast(text: str) -> None:
        websockets.broadcast(clients, text)

    await serve(handler, HOST, port, backlog=4096, compression=None, ping_interval=None)
    await serve_http(http_port, broadcast)


async def serve_aiohttp(port: int, http_port: int) -> None:
    """aiohttp: one application (WebSocket echo and POST /messages) listening on both ports."""
    from aiohttp import WSMsgType, web

    clients: set = set()

    async def socket(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=False, autoping=True)
        await ws.prepare(request)
        clients.add(ws)
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    await ws.send_str(message.data)
                elif message.type == WSMsgType.BINARY:
                    await ws.send_bytes(message.data)
        finally:
            clients.discard(ws)
        return ws

    async def post(request: web.Request) -> web.Response:
        payload = message_json(await request.read())
        for ws in list(clients):
            await ws.send_str(payload)
        return web.Response(status=201, text=payload, content_type="application/json")

    app = web.Application()
    app.router.add_get("/ws", socket)
    app.router.add_post("/messages", post)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    for listen in (port, http_port):
        await web.TCPSite(runner, HOST, listen, backlog=4096).start()
    print(f"ready on {HOST} http {http_port}", flush=True)
    await asyncio.Event().wait()


async def serve_http(port: int, broadcast: Callable[[str], None]) -> None:
    """Serve POST /messages forever, then tell the runner the WebSocket side is up."""
    loop = asyncio.get_running_loop()
    await loop.create_server(lambda: PostProtocol(broadcast), HOST, port, backlog=4096)
    print(f"ready on {HOST} http {port}", flush=True)
    await asyncio.Event().wait()


PEERS = {"picows": serve_picows, "websockets": serve_websockets, "aiohttp": serve_aiohttp}


def main() -> None:
    """Parse the command line and run the chosen peer on uvloop."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("peer", choices=sorted(PEERS))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--http-port", type=int, required=True)
    args = parser.parse_args()
    import uvloop

    try:
        uvloop.run(PEERS[args.peer](args.port, args.http_port))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
