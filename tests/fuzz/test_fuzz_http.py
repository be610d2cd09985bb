"""Fuzzing the HTTP request path: any byte stream given to ``HttpParser`` ends in a defined
answer - complete Requests, then at most one HttpError with a 4xx/5xx status, or waiting for
more bytes - never another exception or a hang, and however the stream is cut into reads.

Inputs are near-valid requests: methods (known, unknown, lowercase), targets (origin, absolute,
asterisk, odd bytes), versions (1.0, 1.1, 0.9, 2.0, none, garbage), header names and values
with odd bytes (NUL, CR, LF, tab, space before the colon, obs-fold, bytes >= 0x80), the framing
headers (Host, Content-Length, Transfer-Encoding) duplicated and conflicting in any spelling,
chunked bodies with bad sizes, extensions and missing CRLFs, several requests pipelined. Every
Request that comes out must be unambiguous (decision 24 in docs/decisions.md): version 1.0 or
1.1, at most one Host and exactly one for 1.1, Transfer-Encoding only as a lone ``chunked``
and never beside Content-Length. A smaller budget drives a real ``HttpProtocol`` over a fake
transport: whatever it writes is a sequence of well-formed responses, and an error response
is the last one and closes the connection.

The CI budget is a few seconds; ``ARO_FUZZ_EXAMPLES=100000 pytest tests/fuzz/test_fuzz_http.py``
runs a long hunt with fresh randomness (tests/fuzz/budget.py). ``python
tests/fuzz/atheris_http.py`` runs the same oracle under atheris (coverage-guided) where it is
installed.
"""

from __future__ import annotations

import asyncio
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aro.net.http import HttpError, HttpParser, Request
from aro.net.server import HttpProtocol, HttpServer
from tests.fuzz.budget import fuzz_settings, no_hang

ODD = b'\x00\t\n\r \x0b\x7f\x80\xff:;,"()/=?@[]{}\\'
odd_bytes = st.binary(max_size=6) | st.lists(st.sampled_from(list(ODD)), max_size=4).map(bytes)


def spoiled(words: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    """The same words in another case or with odd bytes inside."""
    return st.one_of(
        words.map(bytes.lower),
        words.map(bytes.upper),
        st.tuples(words, odd_bytes, words).map(b"".join),
    )


# Each part is (well-formed choices, malformed choices); a request draws from the malformed ones
# only now and then, so most requests get far enough for their framing headers to matter.
METHODS = st.sampled_from([b"GET", b"GET", b"POST", b"PUT", b"DELETE", b"HEAD", b"OPTIONS"])
TARGETS = st.sampled_from([b"/", b"/p?q=1", b"/a%20b", b"http://h:8/p?q", b"/a#f"])
VERSIONS = st.sampled_from([b"HTTP/1.1", b"HTTP/1.1", b"HTTP/1.0"])
PARTS = {
    "method": (METHODS, spoiled(METHODS) | st.sampled_from([b"CONNECT", b"BREW", b"PRI", b""])),
    "space": (st.just(b" "), st.sampled_from([b"  ", b"\t", b"", b" \x00"])),
    "target": (TARGETS, spoiled(TARGETS) | st.sampled_from([b"*", b"h:443", b"", b"/\xff"])),
    "version": (
        VERSIONS,
        spoiled(VERSIONS) | st.sampled_from([b"HTTP/0.9", b"HTTP/2.0", b"HTTP/1.2", b"", b"HTTP/"]),
    ),
    "end": (st.just(b"\r\n"), st.sampled_from([b"\n", b"\r", b"\r\r\n"])),
    "separator": (st.sampled_from([b": ", b":"]), st.sampled_from([b" : ", b":\t", b"\r\n ", b""])),
}
NAMES = st.sampled_from(
    [b"Host", b"Content-Length", b"Transfer-Encoding", b"Connection", b"Expect", b"X-Custom"]
)
names = NAMES | NAMES.map(bytes.lower) | NAMES.map(bytes.upper) | spoiled(NAMES)
VALUES = st.sampled_from(
    [
        b"h",
        b"",
        b"0",
        b"3",
        b"12",
        b" 3 ",
        b"-1",
        b"3, 3",
        b"99999999999999999999",
        b"chunked",
        b"Chunked",
        b"gzip, chunked",
        b"chunked, gzip",
        b"chunked, chunked",
        b"identity",
        b"close",
        b"keep-alive",
        b"upgrade",
        b"100-continue",
    ]
)
values = VALUES | VALUES | spoiled(VALUES)


@st.composite
def chunked_bodies(draw) -> bytes:
    """Chunks whose announced size may lie, carry extensions or miss their CRLF."""
    parts = []
    for payload in draw(st.lists(st.binary(max_size=12), max_size=3)):
        size = draw(
            st.sampled_from([b"%x" % len(payload), b"%X" % len(payload)])
            | st.sampled_from(
                [b"zz", b"-1", b"", b"ffffffffffffffffff", b"%x" % (len(payload) + 1)]
            )
        )
        extension = draw(st.sampled_from([b"", b"", b";x=y", b" ;x", b";" + b"e" * 40]))
        parts.append(
            size
            + extension
            + b"\r\n"
            + payload
            + draw(st.sampled_from([b"\r\n", b"\r\n", b"\n", b""]))
        )
    parts.append(
        draw(st.sampled_from([b"0\r\n\r\n", b"0\r\n\r\n", b"0\r\nT: v\r\n\r\n", b"0\r\n"]))
    )
    return b"".join(parts)


@st.composite
def requests(draw) -> bytes:
    malformed = draw(st.integers(0, 4)) == 0

    def part(name: str) -> bytes:
        well_formed, bad = PARTS[name]
        return draw(bad if malformed and draw(st.integers(0, 2)) == 0 else well_formed)

    end = part("end")
    line = part("method") + part("space") + part("target") + part("space") + part("version")
    headers = draw(st.lists(st.tuples(names, values), max_size=4))
    if draw(st.integers(0, 4)):  # usually one Host, anywhere among the others
        headers.insert(draw(st.integers(0, len(headers))), (b"Host", b"h"))
    framing = draw(st.sampled_from(["none", "length", "chunked", "any"]))
    body = b""
    if framing == "length":
        body = draw(st.binary(max_size=16))
        headers.append((b"Content-Length", b"%d" % len(body)))
    elif framing == "chunked":
        headers.append((b"Transfer-Encoding", b"chunked"))
        body = draw(chunked_bodies())
    elif framing == "any":
        body = draw(chunked_bodies() | st.binary(max_size=16))
    block = b"".join(name + part("separator") + value + end for name, value in headers)
    return line + end + block + end + body


@st.composite
def streams(draw) -> tuple[bytes, list[bytes]]:
    """Pipelined requests (or raw bytes) and the same stream cut into reads at random."""
    data = b"".join(draw(st.lists(requests(), min_size=1, max_size=3)))
    if draw(st.booleans()):
        data += draw(st.binary(max_size=40))
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=6)))
    reads = [data[start:stop] for start, stop in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    return data, reads


def answers(reads: list[bytes]) -> list[tuple]:
    """Feed every read; check each answer is defined and unambiguous; return comparable values."""
    parser = HttpParser()
    events: list[Request | HttpError] = []
    with no_hang():
        for data in reads:
            events += parser.feed(data)
    for index, event in enumerate(events):
        if type(event) is HttpError:
            assert 400 <= event.status < 600 and event.message
            assert index == len(events) - 1  # nothing after a refusal
        else:
            assert type(event) is Request
            assert_unambiguous(event)
    return [
        (e.status, e.message) if type(e) is HttpError else (e.method, e.target, e.headers, e.body)
        for e in events
    ]


def assert_unambiguous(request: Request) -> None:
    lowered = [name.lower() for name in request.headers]
    assert request.version in ("1.0", "1.1")
    assert lowered.count("host") == (1 if request.version == "1.1" else lowered.count("host"))
    assert lowered.count("host") <= 1
    if "transfer-encoding" in lowered:
        assert request.version == "1.1" and "content-length" not in lowered
        assert request.header("transfer-encoding").strip().lower() == "chunked"


@fuzz_settings(ci=400)
@given(streams())
def test_near_valid_requests_end_in_a_defined_answer_however_they_are_read(stream) -> None:
    data, reads = stream
    assert answers(reads) == answers([data])


@fuzz_settings(ci=300)
@given(st.binary(max_size=200), st.lists(st.integers(0, 200), max_size=4))
def test_arbitrary_bytes_end_in_a_defined_answer(data: bytes, cuts: list[int]) -> None:
    points = sorted({min(cut, len(data)) for cut in cuts})
    reads = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    assert answers(reads) == answers([data])


# A real connection over a fake transport -----------------------------------------------------


class FakeTransport(asyncio.Transport):
    """Collects what the protocol writes and whether it closed the connection."""

    def __init__(self) -> None:
        super().__init__()
        self.out = bytearray()
        self.closed = False

    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("127.0.0.1", 5555) if name == "peername" else default

    def write(self, data: bytes) -> None:
        assert not self.closed, "written after close"
        self.out += data

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    abort = close

    def can_write_eof(self) -> bool:
        return False  # so a refusal closes at once instead of lingering on a timer

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


STATUS_LINE = re.compile(rb"HTTP/1\.1 (\d{3}) [^\r\n]*\r\n")


def responses(out: bytes, methods: list[str]) -> list[tuple[int, bool, bytes]]:
    """Split what the server wrote into (status, closes, body), given the methods of the
    requests it served in order (a HEAD response has a length but no body); fails on
    anything malformed."""
    found = []
    while out:
        match = STATUS_LINE.match(out)
        assert match, out[:80]
        head, _, rest = out[match.end() :].partition(b"\r\n\r\n")
        fields = dict(line.split(b": ", 1) for line in head.split(b"\r\n") if line)
        status = int(match[1])
        bodiless = status < 400 and methods[len(found)] == "HEAD"
        length = 0 if bodiless else int(fields.get(b"Content-Length", b"0"))
        found.append((status, fields.get(b"Connection") == b"close", rest[:length]))
        out = rest[length:]
    return found


@pytest.fixture(scope="module")
def loop():
    with asyncio.Runner() as runner:
        yield runner.get_loop()


@fuzz_settings(ci=100)
@given(streams())
def test_a_connection_answers_well_formed_responses_and_closes_after_a_refusal(loop, stream):
    methods: list[str] = []

    def hello(request: Request) -> tuple[int, list, bytes]:
        methods.append(request.method)
        return 200, [], b"ok"

    async def serve(reads: list[bytes]) -> FakeTransport:
        protocol, transport = HttpProtocol(HttpServer(hello)), FakeTransport()
        protocol.connection_made(transport)
        for data in reads:
            if transport.closed:
                break
            protocol.data_received(data)
        protocol.connection_lost(None)
        return transport

    _, reads = stream
    with no_hang():
        transport = loop.run_until_complete(serve(reads))
    answered = responses(bytes(transport.out), methods)
    for index, (status, closes, body) in enumerate(answered):
        if status >= 400:
            assert closes and transport.closed and index == len(answered) - 1
            assert body.startswith(b'{"error":"')
        else:
            assert (status, body) == (200, b"" if methods[index] == "HEAD" else b"ok")
