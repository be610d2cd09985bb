"""permessage-deflate: offer parsing and negotiation (RFC 7692 §5, §7.1), codec round trips."""

from __future__ import annotations

import os
import sys
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aro.net.websocket.deflate import (
    COMPRESS_MIN,
    DeflateParams,
    MessageTooBig,
    PerMessageDeflate,
    negotiate,
    parse_offers,
)

TAIL = b"\x00\x00\xff\xff"


def client_deflate(data: bytes, compressor: zlib._Compress) -> bytes:
    """What a client puts in a compressed frame: raw deflate, sync flush, tail removed."""
    out = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(TAIL)
    return out[:-4]


def client_inflate(payload: bytes, bits: int = 15) -> bytes:
    return zlib.decompressobj(wbits=-bits).decompress(payload + TAIL)


# Offers ---------------------------------------------------------------------------------------


def test_parse_offers_with_parameters_and_quoted_values() -> None:
    header = 'permessage-deflate; client_max_window_bits; server_max_window_bits="10", x-foo'
    assert parse_offers(header) == [
        (
            "permessage-deflate",
            [("client_max_window_bits", None), ("server_max_window_bits", "10")],
        ),
        ("x-foo", []),
    ]


@pytest.mark.parametrize("header", ["", ",", "permessage-deflate;", "a b", 'p; x="1', "p, ;x"])
def test_parse_offers_rejects_malformed_headers(header: str) -> None:
    with pytest.raises(ValueError):
        parse_offers(header)


@pytest.mark.parametrize(
    ("offer", "answer", "params"),
    [
        (
            "permessage-deflate",
            "permessage-deflate; server_no_context_takeover",
            DeflateParams(),
        ),
        (
            "permessage-deflate; client_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
            DeflateParams(client_no_context_takeover=True),
        ),
        (
            "permessage-deflate; server_max_window_bits=10; client_max_window_bits=12",
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; "
            "client_max_window_bits=12",
            DeflateParams(server_max_window_bits=10, client_max_window_bits=12),
        ),
        (
            "permessage-deflate; client_max_window_bits",  # what browsers send
            "permessage-deflate; server_no_context_takeover",
            DeflateParams(),
        ),
        (
            'PerMessage-Deflate; Server_Max_Window_Bits="15"',
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=15",
            DeflateParams(server_max_window_bits=15),
        ),
        (
            # the first offer has a bad value, so the second (plain) one is accepted
            "permessage-deflate; server_max_window_bits=16, permessage-deflate",
            "permessage-deflate; server_no_context_takeover",
            DeflateParams(),
        ),
        (
            "x-webkit-deflate-frame, permessage-deflate; client_no_context_takeover",
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
            DeflateParams(client_no_context_takeover=True),
        ),
    ],
)
def test_negotiate_accepts_the_first_acceptable_offer(
    offer: str, answer: str, params: DeflateParams
) -> None:
    assert negotiate(offer, True) == (answer, params)


@pytest.mark.parametrize(
    "offer",
    [
        "permessage-deflate; server_max_window_bits",  # value required
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=08",  # no leading zeros
        "permessage-deflate; client_max_window_bits=16",
        "permessage-deflate; client_max_window_bits=abc",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; client_no_context_takeover=yes",
        "permessage-deflate; unknown_parameter",
        "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
        "permessage-deflate; server_max_window_bits=9; server_max_window_bits=10",
        "x-webkit-deflate-frame",
        "permessage-deflate;;",  # malformed: no compression rather than a refusal
    ],
)
def test_negotiate_declines_bad_offers(offer: str) -> None:
    assert negotiate(offer, True) == (None, None)


def test_negotiate_when_disabled_or_not_offered() -> None:
    assert negotiate("permessage-deflate", False) == (None, None)
    assert negotiate(None, True) == (None, None)
    assert negotiate("", True) == (None, None)


# Codec ----------------------------------------------------------------------------------------


@given(st.lists(st.binary(max_size=3000), max_size=6))
def test_server_messages_are_independent_raw_deflate_streams(messages: list[bytes]) -> None:
    codec = PerMessageDeflate(DeflateParams())
    for message in messages:
        payload = codec.compress(message)
        assert not payload.endswith(TAIL)
        assert client_inflate(payload) == message  # a fresh inflater: no context needed


def test_same_message_compresses_the_same_every_time() -> None:
    """No context takeover is what lets a broadcast share one compressed frame."""
    a, b = PerMessageDeflate(DeflateParams()), PerMessageDeflate(DeflateParams())
    message = b"hello hello hello " * 20
    assert a.compress(message) == a.compress(message) == b.compress(message)
    assert len(a.compress(message)) < len(message) // 4


def test_server_window_bits_are_honoured() -> None:
    codec = PerMessageDeflate(DeflateParams(server_max_window_bits=9))
    message = os.urandom(200) * 20  # repeats 200 bytes apart: reachable in a 512-byte window
    assert (codec.min_size, codec.window_bits) == (COMPRESS_MIN, 9)
    assert client_inflate(codec.compress(message), bits=9) == message


def test_an_eight_bit_window_sends_uncompressed() -> None:
    assert PerMessageDeflate(DeflateParams(server_max_window_bits=8), 0).min_size == sys.maxsize


def test_server_context_takeover_when_asked_for() -> None:
    codec = PerMessageDeflate(DeflateParams(server_no_context_takeover=False))
    inflater = zlib.decompressobj(wbits=-15)
    message = b"the same sentence over and over. " * 4
    first, second = codec.compress(message), codec.compress(message)
    assert len(second) < len(first)  # refers back into the first message
    assert inflater.decompress(first + TAIL) == message
    assert inflater.decompress(second + TAIL) == message


@given(st.lists(st.binary(max_size=2000), min_size=1, max_size=6), st.booleans())
def test_client_context_takeover_round_trips(messages: list[bytes], takeover: bool) -> None:
    codec = PerMessageDeflate(DeflateParams(client_no_context_takeover=not takeover))
    compressor = zlib.compressobj(wbits=-15)
    for message in messages:
        if not takeover:
            compressor = zlib.compressobj(wbits=-15)
        assert codec.decompress(client_deflate(message, compressor), 1 << 20) == message


def test_context_takeover_needs_the_kept_window() -> None:
    compressor = zlib.compressobj(wbits=-15)
    message = b"a message that repeats itself " * 3
    first = client_deflate(message, compressor)
    second = client_deflate(message, compressor)  # only back-references into the first
    keeping = PerMessageDeflate(DeflateParams())
    assert keeping.decompress(first, 1000) == message
    assert keeping.decompress(second, 1000) == message
    forgetting = PerMessageDeflate(DeflateParams(client_no_context_takeover=True))
    forgetting.decompress(first, 1000)
    with pytest.raises(zlib.error):
        forgetting.decompress(second, 1000)


def test_client_window_bits_are_used_for_inflating() -> None:
    compressor = zlib.compressobj(wbits=-10)
    codec = PerMessageDeflate(DeflateParams(client_max_window_bits=10))
    message = os.urandom(300) * 5
    assert codec.decompress(client_deflate(message, compressor), 1 << 20) == message


def test_a_final_block_restarts_the_context() -> None:
    codec = PerMessageDeflate(DeflateParams())
    for message in (b"first", b"second"):
        compressor = zlib.compressobj(wbits=-15)
        payload = compressor.compress(message) + compressor.flush(zlib.Z_FINISH)
        assert codec.decompress(payload, 100) == message


def test_decompression_stops_at_the_limit() -> None:
    bomb = client_deflate(b"\0" * 10_000_000, zlib.compressobj(wbits=-15))
    assert len(bomb) < 20_000
    codec = PerMessageDeflate(DeflateParams())
    with pytest.raises(MessageTooBig):
        codec.decompress(bomb, 1 << 20)
    exact = client_deflate(b"x" * 1000, zlib.compressobj(wbits=-15))
    assert codec.decompress(exact, 1000) == b"x" * 1000
    with pytest.raises(MessageTooBig):
        PerMessageDeflate(DeflateParams()).decompress(exact, 999)


def test_corrupt_data_raises_zlib_error() -> None:
    with pytest.raises(zlib.error):
        PerMessageDeflate(DeflateParams()).decompress(b"\xff\xff\xff\xff", 100)


def test_empty_message() -> None:
    codec = PerMessageDeflate(DeflateParams())
    assert client_inflate(codec.compress(b"")) == b""
    assert codec.decompress(b"\x00", 10) == b""
