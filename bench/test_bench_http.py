"""The HTTP request path's parsing cost: small keep-alive GETs through ``HttpParser.feed``,
one request per read (the usual case) and 100 pipelined in one read.

Run: python -m pytest bench/test_bench_http.py --benchmark-enable
"""

from __future__ import annotations

import pytest

from aro.net.http import HttpParser

GET = (
    b"GET /messages?limit=20 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: bench\r\n"
    b"Accept: application/json\r\nConnection: keep-alive\r\n\r\n"
)
READS = 100


def feed_each(parser: HttpParser) -> int:
    return sum(len(parser.feed(GET)) for _ in range(READS))


@pytest.mark.benchmark(group="http parse")
def test_one_get_per_read(benchmark):
    assert benchmark(feed_each, HttpParser()) == READS


@pytest.mark.benchmark(group="http parse")
def test_pipelined_gets_in_one_read(benchmark):
    parser, data = HttpParser(), GET * READS
    assert len(benchmark(parser.feed, data)) == READS
