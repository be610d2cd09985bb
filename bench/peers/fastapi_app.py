"""The Messages API of bench/apps/MessagesAPI written the idiomatic FastAPI way, on uvicorn.

It is a load-test peer for ``bench/http_load.py``: same routes, same status codes and the same
JSON bytes as our server (compact, ``{"data":[...]}`` for the list, an ``id`` of the same length
and form as ARO's ``Create`` gives), so req/s compare like for like.  uvicorn runs with
httptools and uvloop and without access logging, its fastest single-process configuration
(the one bench/RESULTS.md was measured with).
"""

from __future__ import annotations

import argparse
import random
import time

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()
MESSAGES: list[dict[str, str]] = []


class MessageIn(BaseModel):
    """The request body; FastAPI validates it as an idiomatic app would."""

    message: str


def entity_id() -> str:
    """The id ARO's typed Create makes (hex epoch milliseconds + 8 random hex digits), so the
    response bodies have the same length as ours."""
    return f"{int(time.time() * 1000):x}{random.getrandbits(32):08x}"


@app.get("/messages")
async def get_messages() -> dict[str, list[dict[str, str]]]:
    return {"data": MESSAGES}


@app.post("/messages", status_code=201)
async def post_message(body: MessageIn) -> dict[str, str]:
    message = {"id": entity_id(), "message": body.message}
    MESSAGES.append(message)
    return message


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    options = parser.parse_args()
    uvicorn.run(
        app,
        host=options.host,
        port=options.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
