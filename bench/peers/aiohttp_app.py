"""The Messages API of bench/apps/MessagesAPI written for aiohttp's web server, on uvloop.

It is a load-test peer for ``bench/http_load.py``: same routes, same status codes and the same
JSON bytes as our server (compact, ``{"data":[...]}`` for the list, an ``id`` of the same length
and form as ARO's ``Create`` gives), so req/s compare like for like.  Access logging is off, as
in bench/RESULTS.md.

``--workers N`` runs it the way ``aro serve --workers N`` runs ours: a parent that starts N
processes, each listening on the port with ``SO_REUSEPORT``, and stops them when it gets SIGTERM.
Each process keeps its own list, so ``--seed N`` stores the same N messages in every one of them
at start (a POST would reach only one), and every process answers GET with the same bytes.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import signal
import subprocess
import sys
import time

import uvloop
from aiohttp import web

SEED_TEXT = "hello from the seed"  # bench/http_load.py's seed message
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


def make_app(seed: int = 0) -> web.Application:
    app = web.Application()
    app[MESSAGES] = [{"id": entity_id(), "message": SEED_TEXT} for _ in range(seed)]
    app.router.add_get("/messages", get_messages)
    app.router.add_post("/messages", post_message)
    return app


def run_workers(count: int, argv: list[str]) -> None:
    """Start ``count`` copies of this server sharing the port; on SIGTERM or SIGINT stop them
    (by their PIDs) and return; if one dies, stop the others too."""
    command = [sys.executable, __file__, *argv, "--workers", "0"]
    workers = [subprocess.Popen(command) for _ in range(count)]

    def stop(*_: object) -> None:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    os.wait()  # the first worker to end, asked to or not (a signal's handler runs meanwhile)
    stop()
    for worker in workers:
        worker.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--seed", type=int, default=0, help="messages stored at start (0)")
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="N > 0: a parent and N processes sharing the port (SO_REUSEPORT); 0: one process",
    )
    options = parser.parse_args()
    if options.workers > 0:
        argv = ["--port", str(options.port), "--host", options.host, "--seed", str(options.seed)]
        run_workers(options.workers, argv)
        return
    web.run_app(
        make_app(options.seed),
        host=options.host,
        port=options.port,
        access_log=None,
        print=None,
        reuse_port=True,
        loop=uvloop.new_event_loop(),
    )


if __name__ == "__main__":
    main()
