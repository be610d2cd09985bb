"""The HTTP/1.1 core with bytes, then the asyncio glue with real sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from contextvars import ContextVar

import pytest
import uvloop

from aro.net.http import CONTINUE, HttpError, HttpParser, Request, encode_response
from aro.net.server import MAX_PIPELINE, HttpProtocol, HttpServer

GET = b"GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: example.org\r\nX-Token: abc\r\n\r\n"
JSON = [(b"Content-Type", b"application/json")]

# ---------------------------------------------------------------------------------------------
# Parser


def feed_bytewise(parser: HttpParser, data: bytes) -> list[Request | HttpError]:
    events: list[Request | HttpError] = []
    for index in range(len(data)):
        events += parser.feed(data[index : index + 1])
    return events


def test_get_request_fields() -> None:
    (request,) = HttpParser().feed(GET)
    assert request.method == "GET"
    assert request.target == "/a/b?x=1&y=2"
    assert (request.path, request.query_string) == ("/a/b", "x=1&y=2")
    assert request.headers == {"Host": "example.org", "X-Token": "abc"}
    assert (request.version, request.keep_alive, request.upgrade) == ("1.1", True, False)
    assert request.body == b""


def test_path_is_not_percent_decoded_and_absolute_form_is_accepted() -> None:
    parser = HttpParser()
    (plain,) = parser.feed(b"GET /a%20b/%2F HTTP/1.1\r\nHost: h\r\n\r\n")
    (absolute,) = parser.feed(b"GET http://h:8/p/q?z HTTP/1.1\r\nHost: h\r\n\r\n")
    assert plain.path == "/a%20b/%2F"
    assert (absolute.path, absolute.query_string) == ("/p/q", "z")


def test_header_lookup_is_case_insensitive_and_last_one_wins() -> None:
    (request,) = HttpParser().feed(
        b"GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nContent-Type: t\r\nX-A: 2\r\n\r\n"
    )
    assert request.headers["X-A"] == "2"
    assert request.header("content-type") == "t"
    assert request.header("Content-Type") == "t"
    assert request.header("missing", "d") == "d"


def test_byte_by_byte_gives_the_same_request() -> None:
    parser = HttpParser()
    assert parser.feed(GET[:5]) == []
    assert parser.partial
    (request,) = feed_bytewise(parser, GET[5:])
    assert not parser.partial
    assert (request.path, request.headers["X-Token"]) == ("/a/b", "abc")


def test_pipelined_requests_in_one_chunk() -> None:
    data = (
        GET
        + b"POST /m HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
        + b"DELETE /d HTTP/1.1\r\nHost: h\r\n\r\n"
    )
    events = HttpParser().feed(data)
    assert [(r.method, r.path, r.body) for r in events] == [
        ("GET", "/a/b", b""),
        ("POST", "/m", b"abc"),
        ("DELETE", "/d", b""),
    ]


CHUNKED = (
    b"POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
)


@pytest.mark.parametrize("bytewise", [False, True])
def test_chunked_body(bytewise: bool) -> None:
    parser = HttpParser()
    events = feed_bytewise(parser, CHUNKED) if bytewise else parser.feed(CHUNKED)
    assert [r.body for r in events] == [b"hello world"]


def test_expect_continue_is_announced_before_the_body() -> None:
    parser = HttpParser()
    head = b"PUT /u HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"
    assert parser.feed(head) == []
    assert parser.expect_continue
    (request,) = parser.feed(b"data")
    assert request.body == b"data"
    assert not parser.expect_continue


def test_expect_continue_over_the_limit_is_413_without_continue() -> None:
    parser = HttpParser(max_body=10)
    head = b"PUT /u HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n"
    assert parser.feed(head) == [HttpError(413, "Payload Too Large")]
    assert not parser.expect_continue


def test_content_length_over_the_limit_is_413_before_the_body() -> None:
    parser = HttpParser(max_body=100)
    events = parser.feed(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 101\r\n\r\n")
    assert events == [HttpError(413, "Payload Too Large")]
    assert parser.feed(b"x" * 101) == []  # the stream is over


def test_chunked_overflow_is_413_without_buffering_past_the_limit() -> None:
    parser = HttpParser(max_body=8)
    assert (
        parser.feed(
            b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
        )
        == []
    )
    assert parser.feed(b"5\r\nworld\r\n") == [HttpError(413, "Payload Too Large")]
    assert parser._body_size == 5


def test_body_exactly_at_the_limit_is_accepted() -> None:
    (request,) = HttpParser(max_body=3).feed(
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
    )
    assert request.body == b"abc"


def test_too_many_headers_is_431() -> None:
    headers = b"".join(b"X-%d: v\r\n" % i for i in range(11))
    events = HttpParser(max_headers=10).feed(b"GET / HTTP/1.1\r\nHost: h\r\n" + headers + b"\r\n")
    assert events == [HttpError(431, "Request Header Fields Too Large")]


def test_header_block_too_large_is_431_in_one_chunk_or_trickled() -> None:
    big = b"GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + b"v" * 2000 + b"\r\n\r\n"
    assert HttpParser(max_header_bytes=1024).feed(big) == [
        HttpError(431, "Request Header Fields Too Large")
    ]
    parser = HttpParser(max_header_bytes=1024)
    events: list = []
    for start in range(0, len(big), 100):  # one unfinished header value, never completed
        events += parser.feed(big[start : start + 100])
    assert events == [HttpError(431, "Request Header Fields Too Large")]


def test_malformed_request_is_400_and_unknown_method_501() -> None:
    assert HttpParser().feed(b"GET / HTTP/1.1\r\nHost: h\r\nBad Header\r\n\r\n") == [
        HttpError(400, "Bad Request: Invalid header token")
    ]
    assert HttpParser().feed(b"BREW / HTTP/1.1\r\nHost: h\r\n\r\n") == [
        HttpError(501, "Not Implemented: unknown method")
    ]


def test_requests_before_an_error_are_kept_in_order() -> None:
    events = HttpParser().feed(GET + b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: x\r\n\r\n")
    assert isinstance(events[0], Request)
    assert events[1] == HttpError(400, "Bad Request: Invalid character in Content-Length")


# Framing that two parsers could read differently is refused and ends the connection
# (docs/decisions.md, decision 24): (request, status, words the error message must hold).
AMBIGUOUS = {
    "HTTP/1.1 without Host": (b"GET / HTTP/1.1\r\n\r\n", 400, "missing host"),
    "two Host headers": (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "one host"),
    "Host in two spellings": (b"GET / HTTP/1.1\r\nhost: a\r\nHOST: a\r\n\r\n", 400, "one host"),
    "two Host headers in HTTP/1.0": (
        b"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n",
        400,
        "one host",
    ),
    "missing version": (b"GET /\r\nHost: h\r\n\r\n", 400, "http version 0.9"),
    "HTTP/0.9": (b"GET / HTTP/0.9\r\nHost: h\r\n\r\n", 400, "http version 0.9"),
    "HTTP/2.0": (b"GET / HTTP/2.0\r\nHost: h\r\n\r\n", 400, "http version 2.0"),
    "HTTP/1.2": (b"GET / HTTP/1.2\r\nHost: h\r\n\r\n", 400, "http version"),
    "gzip under chunked": (
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        501,
        "transfer coding gzip",
    ),
    "gzip and chunked on two lines": (
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        501,
        "transfer coding gzip",
    ),
    "chunked not final": (
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        400,
        "transfer-encoding",
    ),
    "gzip alone": (
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\nabc",
        400,
        "chunked is not the final",
    ),
    "identity": (
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\nabc",
        400,
        "chunked is not the final",
    ),
    "chunked twice": (
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
        400,
        "transfer-encoding",
    ),
    "Transfer-Encoding in HTTP/1.0": (
        b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
        "http/1.0",
    ),
    "Content-Length and Transfer-Encoding": (
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
        "content-length",
    ),
    "two different Content-Lengths": (
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        400,
        "content-length",
    ),
    "two equal Content-Lengths": (
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
        400,
        "content-length",
    ),
    "Content-Length list": (
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\n\r\nabc",
        400,
        "content-length",
    ),
    "obs-fold": (b"GET / HTTP/1.1\r\nHost: h\r\nX-A: b\r\n c\r\n\r\n", 400, "whitespace"),
    "space before the colon": (b"GET / HTTP/1.1\r\nHost: h\r\nX-A : b\r\n\r\n", 400, "header"),
    "NUL in a value": (b"GET / HTTP/1.1\r\nHost: h\r\nX-A: b\x00c\r\n\r\n", 400, "header"),
    "CR in a value": (b"GET / HTTP/1.1\r\nHost: h\r\nX-A: b\rc\r\n\r\n", 400, "lf"),
    "bare LF in a value": (b"GET / HTTP/1.1\r\nHost: h\r\nX-A: b\nc\r\n\r\n", 400, "cr"),
    "bare LF line ends": (b"GET / HTTP/1.1\nHost: h\n\n", 400, "crlf"),
    "space after the version": (b"GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400, "crlf"),
}


@pytest.mark.parametrize("bytewise", [False, True])
@pytest.mark.parametrize(("data", "status", "words"), AMBIGUOUS.values(), ids=AMBIGUOUS.keys())
def test_ambiguous_framing_is_refused_and_ends_the_stream(
    data: bytes, status: int, words: str, bytewise: bool
) -> None:
    parser = HttpParser()
    (error,) = feed_bytewise(parser, data) if bytewise else parser.feed(data)
    assert type(error) is HttpError
    assert error.status == status
    assert error.message.startswith("Bad Request: " if status == 400 else "Not Implemented: ")
    assert words in error.message.lower()
    assert parser.feed(GET) == []  # nothing after it is read: the connection closes


def test_an_unknown_coding_is_named_in_the_refusal_but_only_in_part() -> None:
    head = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: " + b"x" * 5000 + b", chunked\r\n\r\n"
    assert HttpParser().feed(head) == [
        HttpError(501, "Not Implemented: transfer coding " + "x" * 40)
    ]


# What RFC 9112 allows and we accept, pinned so a stricter check cannot refuse it by accident.
ACCEPTED = {
    "absolute-form target": b"GET http://h/p?q HTTP/1.1\r\nHost: h\r\n\r\n",
    "extra spaces around the target": b"GET  /p?q  HTTP/1.1\r\nHost: h\r\n\r\n",
    "HTTP/1.0 without Host": b"GET /p?q HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    "empty Host": b"GET /p?q HTTP/1.1\r\nHost:\r\n\r\n",
    "Chunked in capitals": (
        b"POST /p?q HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked \r\n\r\n0\r\n\r\n"
    ),
    "spaces around Content-Length": b"POST /p?q HTTP/1.1\r\nHost: h\r\nContent-Length:  0 \r\n\r\n",
    "obs-text in a value": b"GET /p?q HTTP/1.1\r\nHost: h\r\nX-A: caf\xe9\r\n\r\n",
}


@pytest.mark.parametrize("data", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_lenient_but_unambiguous_requests_are_accepted(data: bytes) -> None:
    (request,) = HttpParser().feed(data)
    assert (request.path, request.query_string, request.keep_alive) == ("/p", "q", True)


def test_data_after_a_closing_request_is_ignored() -> None:
    parser = HttpParser()
    events = parser.feed(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n" + GET)
    assert [r.keep_alive for r in events] == [False]
    assert parser.feed(GET) == []


def test_http_10_closes_unless_keep_alive_is_asked() -> None:
    (plain,) = HttpParser().feed(b"GET / HTTP/1.0\r\n\r\n")
    (kept,) = HttpParser().feed(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    assert (plain.version, plain.keep_alive, kept.keep_alive) == ("1.0", False, True)


def test_upgrade_stops_parsing_and_keeps_the_tail() -> None:
    parser = HttpParser()
    head = b"GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
    (request,) = parser.feed(head + b"\x81\x00")
    assert request.upgrade
    assert parser.upgrade_tail == b"\x81\x00"
    assert parser.feed(GET) == []


# ---------------------------------------------------------------------------------------------
# Encoder


def test_encode_keep_alive_response() -> None:
    assert encode_response(200, JSON, b'{"a":1}', True) == (
        b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{"a":1}'
    )


def test_encode_closing_response_with_several_headers() -> None:
    headers = ((b"Content-Type", b"text/plain"), (b"Allow", b"GET, HEAD"))
    assert encode_response(405, headers, b"no", False) == (
        b"HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain\r\nAllow: GET, HEAD\r\n"
        b"Content-Length: 2\r\nConnection: close\r\n\r\nno"
    )


def test_encode_head_keeps_the_length_and_drops_the_body() -> None:
    assert encode_response(200, [], b"hello", True, head=True) == (
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
    )


@pytest.mark.parametrize("status", [204, 304])
def test_encode_no_body_statuses(status: int) -> None:
    data = encode_response(status, JSON, b"ignored", True)
    assert data.endswith(b"application/json\r\n\r\n")
    assert b"Content-Length" not in data


def test_encode_reason_phrases_and_unknown_codes() -> None:
    assert encode_response(413, [], b"", True).startswith(b"HTTP/1.1 413 Payload Too Large\r\n")
    assert encode_response(599, [], b"", True).startswith(b"HTTP/1.1 599 \r\n")
    with pytest.raises(ValueError):
        encode_response(42, [], b"", True)


# ---------------------------------------------------------------------------------------------
# End to end: real sockets


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request: pytest.FixtureRequest) -> Callable[[Coroutine], object]:
    factory = uvloop.new_event_loop if request.param == "uvloop" else asyncio.new_event_loop

    def runner(coro: Coroutine) -> object:
        with asyncio.Runner(loop_factory=factory) as loop_runner:
            return loop_runner.run(asyncio.wait_for(coro, 5))

    return runner


async def echo(request: Request) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Echo handler; ``?sleep=S`` suspends first, ``/boom`` fails."""
    if request.query_string.startswith("sleep="):
        await asyncio.sleep(float(request.query_string[6:]))
    if request.path == "/boom":
        raise RuntimeError("secret detail")
    body = f"{request.method} {request.target} {request.body.decode()}".encode()
    return 200, [(b"Content-Type", b"text/plain")], body


@contextlib.asynccontextmanager
async def serving(handler=echo, **options) -> AsyncIterator[tuple[HttpServer, Client]]:
    server = HttpServer(handler, port=0, **options)
    port = await server.start()
    client = Client(*await asyncio.open_connection("127.0.0.1", port))
    try:
        yield server, client
    finally:
        client.writer.close()
        await server.stop(grace=1)


class Client:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def response(self, head: bool = False) -> tuple[int, dict[str, str], bytes]:
        block = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *lines = block.decode().split("\r\n")[:-2]
        headers = dict(line.split(": ", 1) for line in lines)
        length = 0 if head else int(headers.get("Content-Length", 0))
        return int(status_line.split()[1]), headers, await self.reader.readexactly(length)

    async def closed(self) -> bool:
        return await self.reader.read() == b""


def test_pipelined_keep_alive_requests_answer_in_order(run) -> None:
    handled: list[str] = []

    async def counting_echo(request: Request) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        handled.append(request.target)
        return await echo(request)

    async def scenario() -> None:
        async with serving(counting_echo) as (server, client):
            client.writer.write(
                b"GET /1?sleep=0.05 HTTP/1.1\r\nHost: h\r\n\r\n"  # the slowest handler comes first
                b"POST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi"
                b"GET /3?sleep=0.01 HTTP/1.1\r\nHost: h\r\n\r\n"
                b"GET /4 HTTP/1.1\r\nHost: h\r\n\r\n"
            )
            responses = [await client.response() for _ in range(4)]
            assert [status for status, _, _ in responses] == [200] * 4
            assert [body for _, _, body in responses] == [
                b"GET /1?sleep=0.05 ",
                b"POST /2 hi",
                b"GET /3?sleep=0.01 ",
                b"GET /4 ",
            ]
            client.writer.write(b"GET /5 HTTP/1.1\r\nHost: h\r\n\r\n")  # still alive
            status, _, body = await client.response()
            assert (status, body) == (200, b"GET /5 ")
            assert handled == ["/1?sleep=0.05", "/2", "/3?sleep=0.01", "/4", "/5"]
            assert server.open_connections == 1

    run(scenario())


def test_head_has_the_length_but_no_body(run) -> None:
    async def scenario() -> None:
        async with serving() as (_, client):
            client.writer.write(
                b"HEAD /h HTTP/1.1\r\nHost: h\r\n\r\nGET /g HTTP/1.1\r\nHost: h\r\n\r\n"
            )
            status, headers, body = await client.response(head=True)
            assert (status, headers["Content-Length"], body) == (200, "8", b"")
            assert (await client.response())[2] == b"GET /g "

    run(scenario())


def test_failing_handler_is_500_without_traceback(run, caplog) -> None:
    async def scenario() -> None:
        async with serving() as (_, client):
            client.writer.write(
                b"GET /boom HTTP/1.1\r\nHost: h\r\n\r\n"
                b"GET /boom?sleep=0 HTTP/1.1\r\nHost: h\r\n\r\n"
            )
            for _ in range(2):
                status, headers, body = await client.response()
                assert (status, json.loads(body)) == (500, {"error": "Internal Server Error"})
                assert headers["Content-Type"] == "application/json"

    with caplog.at_level(logging.ERROR, logger="aro.net"):
        run(scenario())
    failures = [record for record in caplog.records if record.name == "aro.net"]
    assert [record.getMessage() for record in failures] == [
        "handler failed for GET /boom",
        "handler failed for GET /boom?sleep=0",
    ]
    assert all("secret detail" in str(record.exc_info[1]) for record in failures)


def test_plain_tuple_handler_and_http_10_keep_alive(run) -> None:
    async def scenario() -> None:
        async with serving(lambda request: (204, [], b"")) as (_, client):
            client.writer.write(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            status, headers, _ = await client.response()
            assert (status, headers.get("Connection")) == (204, "keep-alive")
            client.writer.write(b"GET / HTTP/1.0\r\n\r\n")
            status, headers, _ = await client.response()
            assert (status, headers.get("Connection")) == (204, "close")
            assert await client.closed()

    run(scenario())


def test_expect_continue_and_413(run) -> None:
    async def scenario() -> None:
        async with serving(max_body=8) as (_, client):
            client.writer.write(
                b"PUT /u HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"
            )
            assert await client.reader.readexactly(len(CONTINUE)) == CONTINUE
            client.writer.write(b"data")
            assert (await client.response())[::2] == (200, b"PUT /u data")
            client.writer.write(
                b"PUT /u HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 9\r\n\r\n"
            )
            status, headers, body = await client.response()
            assert (status, headers["Connection"], json.loads(body)) == (
                413,
                "close",
                {"error": "Payload Too Large"},
            )
            assert await client.closed()

    run(scenario())


@pytest.mark.parametrize(
    ("framing", "status", "error"),
    [
        (b"", 400, "Bad Request: missing Host header"),
        (
            b"Host: h\r\nTransfer-Encoding: gzip, chunked\r\n",
            501,
            "Not Implemented: transfer coding gzip",
        ),
    ],
)
def test_ambiguous_request_is_answered_and_the_connection_closed(
    run, framing: bytes, status: int, error: str
) -> None:
    handled: list[str] = []

    async def recording_echo(request: Request) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        handled.append(request.target)
        return await echo(request)

    async def scenario() -> None:
        async with serving(recording_echo) as (_, client):
            # A smuggling attempt: what follows the ambiguous request must never be served.
            client.writer.write(
                GET
                + b"POST /ambiguous HTTP/1.1\r\n"
                + framing
                + b"\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n"
            )
            assert (await client.response())[0] == 200
            answer, headers, body = await client.response()
            assert (answer, headers["Connection"]) == (status, "close")
            assert json.loads(body) == {"error": error}
            assert await client.closed()
            assert handled == ["/a/b?x=1&y=2"]

    run(scenario())


def test_slow_client_gets_408(run) -> None:
    async def scenario() -> None:
        async with serving(request_timeout=0.1) as (_, client):
            client.writer.write(b"GET / HTTP/1.1\r\nHost: slow")
            status, headers, _ = await client.response()
            assert (status, headers["Connection"]) == (408, "close")
            assert await client.closed()

    run(scenario())


def test_idle_keep_alive_connection_is_closed(run) -> None:
    async def scenario() -> None:
        async with serving(keepalive_timeout=0.1) as (server, client):
            client.writer.write(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
            await client.response()
            assert await client.closed()
            await asyncio.sleep(0)
            assert server.open_connections == 0

    run(scenario())


def test_graceful_stop_finishes_the_request_in_flight(run) -> None:
    async def scenario() -> None:
        server = HttpServer(echo, port=0)
        port = await server.start()
        busy = Client(*await asyncio.open_connection("127.0.0.1", port))
        idle = Client(*await asyncio.open_connection("127.0.0.1", port))
        busy.writer.write(b"GET /?sleep=0.1 HTTP/1.1\r\nHost: h\r\n\r\n")
        idle.writer.write(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        await idle.response()
        await asyncio.sleep(0.02)  # the slow request is now in its handler
        stopping = asyncio.create_task(server.stop(grace=2))
        assert await idle.closed()  # idle keep-alive connections go at once
        status, headers, body = await busy.response()
        assert (status, headers["Connection"], body) == (200, "close", b"GET /?sleep=0.1 ")
        assert await busy.closed()
        await stopping
        assert server.open_connections == 0
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", port)
        busy.writer.close()
        idle.writer.close()

    run(scenario())


def test_stop_aborts_what_outlives_the_grace(run) -> None:
    async def scenario() -> None:
        server = HttpServer(echo, port=0)
        port = await server.start()
        client = Client(*await asyncio.open_connection("127.0.0.1", port))
        client.writer.write(b"GET /?sleep=10 HTTP/1.1\r\nHost: h\r\n\r\n")
        await asyncio.sleep(0.02)
        await server.stop(grace=0.05)
        with contextlib.suppress(ConnectionError):
            assert await client.reader.read() == b""
        client.writer.close()

    run(scenario())


current_path: ContextVar[str] = ContextVar("current_path", default="unset")


def test_each_handler_runs_in_its_own_context(run) -> None:
    async def handler(request: Request) -> tuple[int, list, bytes]:
        before = current_path.get()
        current_path.set(request.path)
        if request.query_string:
            await asyncio.sleep(0)
        return 200, [], f"{before} {current_path.get()}".encode()

    async def scenario() -> None:
        async with serving(handler) as (_, client):
            client.writer.write(
                b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b?s HTTP/1.1\r\nHost: h\r\n\r\n"
            )
            assert (await client.response())[2] == b"unset /a"
            assert (await client.response())[2] == b"unset /b"
            client.writer.write(b"GET /c HTTP/1.1\r\nHost: h\r\n\r\n")
            assert (await client.response())[2] == b"unset /c"

    run(scenario())


class Echo(asyncio.Protocol):
    """What an upgrade handler installs: here, a raw byte echo."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.transport.write(data.upper())


@pytest.mark.parametrize("first", ["/first", "/first?sleep=0.02"])
def test_upgrade_handler_takes_the_connection(run, first: str) -> None:
    def upgrade(request: Request, transport: asyncio.Transport, protocol: HttpProtocol) -> bool:
        if request.header("upgrade") != "echo":
            return False
        transport.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\n\r\n")
        transport.set_protocol(Echo(transport))
        return True

    async def scenario() -> None:
        async with serving(upgrade_handler=upgrade) as (server, client):
            client.writer.write(
                b"GET %s HTTP/1.1\r\nHost: h\r\n\r\n" % first.encode()
                + b"GET /e HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n"
            )
            assert (await client.response())[2] == b"GET %s " % first.encode()
            assert (await client.response())[0] == 101
            client.writer.write(b"abc")
            assert await client.reader.readexactly(3) == b"ABC"
            assert server.open_connections == 1  # upgraded: counted until its protocol ends
            declined = Client(*await asyncio.open_connection("127.0.0.1", server.port))
            declined.writer.write(
                b"GET /d HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n"
            )
            status, headers, body = await declined.response()
            assert (status, headers["Connection"], body) == (200, "close", b"GET /d ")
            declined.writer.close()

    run(scenario())


class FakeTransport:
    def __init__(self) -> None:
        self.out = bytearray()
        self.reading = True

    def get_extra_info(self, name: str) -> object:
        return ("10.0.0.7", 5555)

    def write(self, data: bytes) -> None:
        self.out += data

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True


def test_flow_control_pauses_reading(run) -> None:
    async def scenario() -> None:
        gate = asyncio.get_running_loop().create_future()

        async def handler(request: Request) -> tuple[int, list, bytes]:
            await gate
            return 200, [], request.remote_address.encode()

        protocol, transport = HttpProtocol(HttpServer(handler)), FakeTransport()
        protocol.connection_made(transport)
        protocol.data_received(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n" * MAX_PIPELINE)
        assert not transport.reading  # too many requests in flight
        gate.set_result(None)
        while transport.out.count(b"200 OK") < MAX_PIPELINE:
            await asyncio.sleep(0)
        assert transport.reading
        assert transport.out.endswith(b"\r\n\r\n10.0.0.7")
        protocol.pause_writing()  # the transport's write buffer is full
        assert not transport.reading
        protocol.resume_writing()
        assert transport.reading
        protocol.connection_lost(None)

    run(scenario())
