"""The Messages API of bench/apps/MessagesAPI written for aiohttp's web server, on uvloop.

It is a load-test peer for ``bench/http_load.py``: same routes, same status codes and the same
JSON bytes as our server (compact, ``{"data":[...]}`` for the list, an ``id`` of the same length
and form as ARO's ``Create`` gives), so req/s compare like for like.  Access logging is off, as
in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import time

import uvloop
from aiohttp import web

MESSAGES: web.AppKey[list[dict[str, str]]] = web.AppKey("messages", list)
compact_dumps = functools.partial(json.dumps, separators=(",", ":"), ensure_ascii=False)


def entity_id() -> str:
    """The id ARO's typed Create makes (hex epoch milliseconds + 8 random hex digits), so the
    response bodies have the same length as ours."""
    return f"{int(time.time() * 1000):x}{random.getrandbits(32):08x}"


async def get_messages(request: web.Request) -> web.Response:
    return web.json_response({"data": request.app[MESSAGES]}, dumps=compact_dumps)


async def post_message(request: web.Request) -> web.Response:
    body = await request.json()
    if not isinstance(body, dict) or not isinstance(body.get("message"), str):
        raise web.HTTPBadRequest(text='{"error":"message must be a string"}')
    message = {"id": entity_id(), "message": body["message"]}
    request.app[MESSAGES].append(message)
    return web.json_response(message, status=201, dumps=compact_dumps)


def make_app() -> web.Application:
    app = web.Application()
    app[MESSAGES] = []
    app.router.add_get("/messages", get_messages)
    app.router.add_post("/messages", post_message)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    options = parser.parse_args()
    web.run_app(
        make_app(),
        host=options.host,
        port=options.port,
        access_log=None,
        print=None,
        loop=uvloop.new_event_loop(),
    )


if __name__ == "__main__":
    main()
