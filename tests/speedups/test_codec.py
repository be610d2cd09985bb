"""The WebSocket codec (RFC 6455), every rule against both builds: compiled and pure Python."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest

from aro._speedups._pure import FLUSH_SLICE
from tests.support.codec import BUILDS, MASK, client_frame, load_build


@pytest.fixture(params=list(BUILDS))
def codec(request):
    return load_build(request.param)


def parse(codec, data: bytes, **options) -> list[tuple]:
    return codec.FrameParser(**options).feed(data)


def parse_in_pieces(codec, data: bytes, step: int, **options) -> list[tuple]:
    parser = codec.FrameParser(**options)
    events = []
    for start in range(0, len(data), step):
        events += parser.feed(data[start : start + step])
    return events


def close_body(code: int, reason: bytes = b"") -> bytes:
    return code.to_bytes(2, "big") + reason


def error(code: int) -> tuple[int, int]:
    return (-1, code)


def first_error(events: list[tuple]) -> tuple[int, int]:
    """(OP_ERROR, code) of the last event, which must be the stream's only error."""
    assert [event[0] for event in events].count(-1) == 1
    return events[-1][:2]


# --- messages -------------------------------------------------------------------------------


def test_api_constants(codec):
    assert (codec.OP_CONT, codec.OP_TEXT, codec.OP_BINARY) == (0, 1, 2)
    assert (codec.OP_CLOSE, codec.OP_PING, codec.OP_PONG, codec.OP_ERROR) == (8, 9, 10, -1)
    assert (codec.OP_COMPRESSED_TEXT, codec.OP_COMPRESSED_BINARY) == (0x11, 0x12)
    module_suffix = {"compiled": "_codec", "pure": "_pure"}[codec.IMPLEMENTATION]
    assert codec.__name__.endswith(module_suffix)


def test_single_frame_messages(codec):
    data = client_frame(1, "κόσμε".encode()) + client_frame(2, b"\x00\xff") + client_frame(1)
    assert parse(codec, data) == [(1, "κόσμε"), (2, b"\x00\xff"), (1, "")]


@pytest.mark.parametrize("size", [0, 1, 7, 8, 9, 125, 126, 127, 4095, 4096, 4097, 65535, 65536])
@pytest.mark.parametrize("opcode", [1, 2])
def test_length_encodings(codec, size, opcode):
    payload = bytes(0x61 + i % 26 for i in range(size))
    expected = payload.decode() if opcode == 1 else payload
    assert parse(codec, client_frame(opcode, payload)) == [(opcode, expected)]


def test_64bit_length(codec):
    payload = os.urandom(70_000)
    frame = client_frame(2, payload)
    assert frame[1] & 0x7F == 127
    assert parse(codec, frame) == [(2, payload)]
    assert parse_in_pieces(codec, frame, 4093) == [(2, payload)]


def test_many_small_frames_in_one_chunk(codec):
    data = b"".join(client_frame(1 + i % 2, b"m%d" % i) for i in range(500))
    events = parse(codec, data)
    assert len(events) == 500
    assert events[:2] == [(1, "m0"), (2, b"m1")]


def test_fragmented_message_reassembled(codec):
    data = (
        client_frame(1, b"Hel", fin=False)
        + client_frame(0, b"lo, ", fin=False)
        + client_frame(0, b"", fin=False)
        + client_frame(0, b"world")
    )
    assert parse(codec, data) == [(1, "Hello, world")]
    binary = client_frame(2, b"\x01", fin=False) + client_frame(0, b"\x02")
    assert parse(codec, binary) == [(2, b"\x01\x02")]


def test_utf8_sequence_split_across_fragments(codec):
    text = b"\xce\xba\xe1\xbd\xb9\xcf\x83"
    data = client_frame(1, text[:1], fin=False) + client_frame(0, text[1:])
    assert parse(codec, data) == [(1, text.decode())]


def test_control_frames_between_fragments(codec):
    data = (
        client_frame(1, b"fragment 1 ", fin=False)
        + client_frame(9, b"ping")
        + client_frame(0, b"fragment 2 ", fin=False)
        + client_frame(10, b"pong")
        + client_frame(0, b"end")
    )
    expected = [(9, b"ping"), (10, b"pong"), (1, "fragment 1 fragment 2 end")]
    assert parse(codec, data) == expected
    assert parse_in_pieces(codec, data, 1) == expected


def test_ping_and_pong_payloads(codec):
    data = client_frame(9) + client_frame(9, b"x" * 125) + client_frame(10, b"\xff")
    assert parse(codec, data) == [(9, b""), (9, b"x" * 125), (10, b"\xff")]


def test_accepts_bytearray_and_memoryview(codec):
    frame = client_frame(1, b"hi")
    assert codec.FrameParser().feed(bytearray(frame)) == [(1, "hi")]
    assert codec.FrameParser().feed(memoryview(frame)) == [(1, "hi")]


def test_empty_feed(codec):
    parser = codec.FrameParser()
    assert parser.feed(b"") == []
    assert parser.feed(client_frame(1, b"ok")) == [(1, "ok")]


# --- feed_into: messages handed to the connection as they complete --------------------------


class Receiver:
    """A connection for ``feed_into``: records what it is handed, in order; closes itself
    (as a handler closing its connection does) after ``close_after`` messages."""

    def __init__(self, close_after: int = -1, fail_on: str | None = None) -> None:
        self.closing = False
        self.seen: list[object] = []
        self.close_after = close_after
        self.fail_on = fail_on

    def on_message(self, conn: Receiver, payload: str | bytes) -> None:
        self.seen.append(payload)
        if payload == self.fail_on:
            raise RuntimeError("handler broke")
        if len(self.seen) == self.close_after:
            self.closing = True

    def handler_failed(self) -> None:
        self.seen.append(("failed", repr(sys.exc_info()[1])))

    def frame_event(self, event: tuple) -> None:
        self.seen.append(event)


def test_feed_into_keeps_stream_order(codec):
    conn = Receiver()
    data = client_frame(1, b"a") + client_frame(9, b"p") + client_frame(2, b"b")
    codec.FrameParser().feed_into(data, conn, conn.on_message)
    assert conn.seen == ["a", (9, b"p"), b"b"]


def test_feed_into_stops_delivering_once_the_connection_closes(codec):
    """A handler that closes its connection mid-chunk gets none of the chunk's later
    messages; control events still reach the connection (it answers the client's close)."""
    conn = Receiver(close_after=2)
    data = b"".join(client_frame(1, b"m%d" % i) for i in range(4)) + client_frame(
        8, close_body(1000)
    )
    codec.FrameParser().feed_into(data, conn, conn.on_message)
    assert conn.seen == ["m0", "m1", (8, 1000, "")]


def test_feed_into_reports_a_failing_handler_and_goes_on(codec):
    conn = Receiver(fail_on="bad")
    data = client_frame(1, b"bad") + client_frame(1, b"next")
    codec.FrameParser().feed_into(data, conn, conn.on_message)
    assert conn.seen == ["bad", ("failed", "RuntimeError('handler broke')"), "next"]


def test_feed_into_hands_compressed_messages_and_errors_to_the_connection(codec):
    conn = Receiver()
    data = client_frame(1, b"z", rsv=0x40) + client_frame(1, b"\xff")
    codec.FrameParser(compression=True).feed_into(data, conn, conn.on_message)
    assert conn.seen == [(0x11, b"z"), (-1, 1007, conn.seen[-1][2])]


# --- chunk boundaries -----------------------------------------------------------------------

STREAM = (
    client_frame(1, "héllo wörld".encode())
    + client_frame(2, bytes(range(200)))
    + client_frame(1, "κό".encode(), fin=False)
    + client_frame(9, b"beat")
    + client_frame(0, "σμε".encode(), fin=False)
    + client_frame(0, b"")
    + client_frame(2, b"b" * 300, fin=False)
    + client_frame(0, b"c" * 70)
    + client_frame(1, b"")
    + client_frame(10)
    + client_frame(8, close_body(1000, b"bye"))
)
STREAM_EVENTS = [
    (1, "héllo wörld"),
    (2, bytes(range(200))),
    (9, b"beat"),
    (1, "κόσμε"),
    (2, b"b" * 300 + b"c" * 70),
    (1, ""),
    (10, b""),
    (8, 1000, "bye"),
]


def test_stream_in_one_chunk(codec):
    assert parse(codec, STREAM) == STREAM_EVENTS


def test_every_split_point(codec):
    for cut in range(len(STREAM) + 1):
        parser = codec.FrameParser()
        assert parser.feed(STREAM[:cut]) + parser.feed(STREAM[cut:]) == STREAM_EVENTS, cut


@pytest.mark.parametrize("step", [1, 2, 3, 5, 13, 64])
def test_fixed_size_chunks(codec, step):
    assert parse_in_pieces(codec, STREAM, step) == STREAM_EVENTS


def test_events_arrive_with_the_chunk_that_completes_them(codec):
    frame = client_frame(2, b"abcdef")
    parser = codec.FrameParser()
    assert parser.feed(frame[:-1]) == []
    assert parser.feed(frame[-1:] + client_frame(9, b"p")[:3]) == [(2, b"abcdef")]
    assert parser.feed(client_frame(9, b"p")[3:]) == [(9, b"p")]


# --- close frames ---------------------------------------------------------------------------


def test_close_without_body_is_1005(codec):
    assert parse(codec, client_frame(8)) == [(8, 1005, "")]


def test_close_with_code_and_reason(codec):
    body = close_body(1001, "au revoir ☺".encode())
    assert parse(codec, client_frame(8, body)) == [(8, 1001, "au revoir ☺")]


def test_close_with_one_byte_body_is_1002(codec):
    assert first_error(parse(codec, client_frame(8, b"\x03"))) == error(1002)


@pytest.mark.parametrize(
    "code", [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]
)
def test_invalid_close_codes_are_1002(codec, code):
    assert first_error(parse(codec, client_frame(8, close_body(code)))) == error(1002)


@pytest.mark.parametrize(
    "code",
    [
        1000,
        1001,
        1002,
        1003,
        1007,
        1008,
        1009,
        1010,
        1011,
        1012,
        1013,
        1014,
        3000,
        3999,
        4000,
        4999,
    ],
)
def test_valid_close_codes(codec, code):
    assert parse(codec, client_frame(8, close_body(code))) == [(8, code, "")]


def test_close_reason_with_invalid_utf8_is_1007(codec):
    body = close_body(1000, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80")
    assert first_error(parse(codec, client_frame(8, body))) == error(1007)


def test_nothing_after_close(codec):
    parser = codec.FrameParser()
    events = parser.feed(client_frame(8, close_body(1000)) + client_frame(9, b"late"))
    assert events == [(8, 1000, "")]
    assert parser.feed(client_frame(1, b"later")) == []


def test_close_between_fragments(codec):
    data = client_frame(1, b"part", fin=False) + client_frame(8, close_body(1000))
    assert parse(codec, data) == [(8, 1000, "")]


# --- protocol violations (1002) -------------------------------------------------------------


def test_unmasked_client_frame(codec):
    assert first_error(parse(codec, client_frame(1, b"hi", mask=None))) == error(1002)


@pytest.mark.parametrize("rsv", [0x40, 0x20, 0x10, 0x70])
def test_reserved_bits_without_compression(codec, rsv):
    assert first_error(parse(codec, client_frame(1, b"hi", rsv=rsv))) == error(1002)


@pytest.mark.parametrize("opcode", [3, 4, 5, 6, 7, 11, 12, 13, 14, 15])
def test_reserved_opcodes(codec, opcode):
    assert first_error(parse(codec, client_frame(opcode, b"x"))) == error(1002)


@pytest.mark.parametrize("opcode", [8, 9, 10])
def test_control_frame_too_long(codec, opcode):
    assert first_error(parse(codec, client_frame(opcode, b"x" * 126))) == error(1002)


@pytest.mark.parametrize("opcode", [8, 9, 10])
def test_fragmented_control_frame(codec, opcode):
    assert first_error(parse(codec, client_frame(opcode, b"x", fin=False))) == error(1002)


def test_continuation_without_start(codec):
    assert first_error(parse(codec, client_frame(0, b"x"))) == error(1002)
    after_message = client_frame(1, b"done") + client_frame(0, b"x")
    assert parse(codec, after_message)[0] == (1, "done")
    assert first_error(parse(codec, after_message)) == error(1002)


@pytest.mark.parametrize("opcode", [1, 2])
def test_data_frame_inside_fragmented_message(codec, opcode):
    data = client_frame(1, b"a", fin=False) + client_frame(opcode, b"b")
    assert first_error(parse(codec, data)) == error(1002)


@pytest.mark.parametrize(
    ("size", "length_bytes"), [(0, 2), (125, 2), (125, 8), (126, 8), (65535, 8)]
)
def test_non_minimal_length(codec, size, length_bytes):
    frame = client_frame(2, b"x" * size, length_bytes=length_bytes)
    assert first_error(parse(codec, frame, max_message_size=1 << 30)) == error(1002)


def test_64bit_length_with_top_bit_set(codec):
    header = bytes((0x82, 0xFF)) + (1 << 63 | 5).to_bytes(8, "big") + MASK
    assert first_error(parse(codec, header)) == error(1002)


def test_error_stops_the_stream(codec):
    parser = codec.FrameParser()
    events = parser.feed(client_frame(1, b"ok") + client_frame(3) + client_frame(1, b"no"))
    assert events[0] == (1, "ok")
    assert first_error(events) == error(1002)
    assert len(events) == 2
    assert isinstance(events[1][2], str)
    assert parser.feed(client_frame(1, b"more")) == []


def test_header_split_before_violation_is_detected(codec):
    frame = client_frame(1, b"hi", mask=None)
    parser = codec.FrameParser()
    assert parser.feed(frame[:1]) == []
    assert first_error(parser.feed(frame[1:2])) == error(1002)


# --- UTF-8 (1007) ---------------------------------------------------------------------------

INVALID_UTF8 = [
    b"\xff",
    b"\xc0\xaf",  # overlong "/"
    b"\xe0\x80\xaf",  # overlong, 3 bytes
    b"\xed\xa0\x80",  # UTF-16 surrogate
    b"\xf4\x90\x80\x80",  # above U+10FFFF
    b"\xf8\x88\x80\x80\x80",
    b"\x80",  # lone continuation
    b"\xce",  # truncated at the end of the message
]


@pytest.mark.parametrize("bad", INVALID_UTF8)
def test_invalid_utf8_text(codec, bad):
    assert first_error(parse(codec, client_frame(1, b"ok " + bad))) == error(1007)
    fragmented = client_frame(1, b"ok ", fin=False) + client_frame(0, bad)
    assert first_error(parse(codec, fragmented)) == error(1007)


def test_utf8_failure_at_the_fragment_where_it_becomes_impossible(codec):
    """Autobahn 6.4.*: the fragment after the bad bytes has not arrived yet."""
    parser = codec.FrameParser()
    assert parser.feed(client_frame(1, b"\xce\xba\xe1\xbd", fin=False)) == []
    assert first_error(parser.feed(client_frame(0, b"\xb9\xf4\x90", fin=False))) == error(1007)


@pytest.mark.parametrize("bad", [b"\xf4\x90", b"\xed\xa0", b"\xc0", b"\xe0\x80", b"\xff"])
def test_utf8_failure_within_a_frame_split_across_feeds(codec, bad):
    frame = client_frame(1, b"\xce\xba" + bad + b" and the rest of the text")
    parser = codec.FrameParser()
    cut = 6 + 2 + len(bad)
    assert first_error(parser.feed(frame[:cut])) == error(1007)


def test_valid_prefix_waits_for_the_rest(codec):
    frame = client_frame(1, "κόσμε".encode())
    parser = codec.FrameParser()
    for cut in range(len(frame)):
        assert parser.feed(frame[cut : cut + 1]) == (
            [(1, "κόσμε")] if cut == len(frame) - 1 else []
        )


def test_truncated_sequence_at_message_end(codec):
    data = client_frame(1, b"\xe1\xbd", fin=False) + client_frame(0, b"")
    assert first_error(parse(codec, data)) == error(1007)


def test_validate_utf8(codec):
    assert codec.validate_utf8("κόσμε".encode()) == "κόσμε"
    assert codec.validate_utf8(b"") == ""
    for bad in INVALID_UTF8:
        assert codec.validate_utf8(bad) is None


# --- message size (1009) --------------------------------------------------------------------


def test_oversize_refused_from_the_header(codec):
    parser = codec.FrameParser(max_message_size=1000)
    header = bytes((0x82, 0xFF)) + (2_000_000).to_bytes(8, "big") + MASK
    assert first_error(parser.feed(header)) == error(1009)


def test_limit_is_inclusive(codec):
    assert parse(codec, client_frame(2, b"x" * 1000), max_message_size=1000) == [(2, b"x" * 1000)]


def test_fragments_count_towards_the_limit(codec):
    parser = codec.FrameParser(max_message_size=10)
    assert parser.feed(client_frame(1, b"123456", fin=False)) == []
    assert parser.feed(client_frame(9, b"control frames do not count")) == [
        (9, b"control frames do not count")
    ]
    assert first_error(parser.feed(client_frame(0, b"12345")[:6])) == error(1009)


def test_limit_resets_between_messages(codec):
    data = client_frame(2, b"x" * 8) + client_frame(2, b"y" * 8)
    assert parse(codec, data, max_message_size=10) == [(2, b"x" * 8), (2, b"y" * 8)]


# --- compression (RSV1, RFC 7692) -----------------------------------------------------------


def test_compressed_messages_are_passed_through(codec):
    data = (
        client_frame(1, b"\xff deflated", rsv=0x40)
        + client_frame(2, b"\x00", rsv=0x40, fin=False)
        + client_frame(9, b"p")
        + client_frame(0, b"\x01")
        + client_frame(1, b"plain")
    )
    assert parse(codec, data, compression=True) == [
        (0x11, b"\xff deflated"),
        (9, b"p"),
        (0x12, b"\x00\x01"),
        (1, "plain"),
    ]


def test_rsv1_only_on_the_first_data_frame(codec):
    continuation = client_frame(1, b"a", rsv=0x40, fin=False) + client_frame(0, b"b", rsv=0x40)
    assert first_error(parse(codec, continuation, compression=True)) == error(1002)
    control = client_frame(9, b"p", rsv=0x40)
    assert first_error(parse(codec, control, compression=True)) == error(1002)


def test_other_reserved_bits_with_compression(codec):
    assert first_error(parse(codec, client_frame(1, b"a", rsv=0x20), compression=True)) == error(
        1002
    )


# --- encoding -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "header_size"), [(0, 2), (125, 2), (126, 4), (65535, 4), (65536, 10), (70_000, 10)]
)
def test_encode_frame_lengths(codec, size, header_size):
    payload = b"z" * size
    frame = codec.encode_frame(2, payload)
    assert len(frame) == header_size + size
    assert frame[0] == 0x82
    assert frame[header_size:] == payload
    assert parse(codec, client_frame(2, payload)) == [(2, payload)]


def test_encode_frame_header_bytes(codec):
    assert codec.encode_frame(1, b"hi") == b"\x81\x02hi"
    assert codec.encode_frame(1, b"x" * 300)[:4] == b"\x81\x7e\x01\x2c"
    assert codec.encode_frame(2, b"x" * 65536)[:10] == b"\x82\x7f" + (65536).to_bytes(8, "big")
    assert codec.encode_frame(1, b"c", rsv1=True) == b"\xc1\x01c"
    assert codec.encode_frame(9, b"") == b"\x89\x00"


def test_encode_frame_refuses_invalid_frames(codec):
    for opcode in (3, 7, 11, 15, -1, 16):
        with pytest.raises(ValueError):
            codec.encode_frame(opcode, b"")
    with pytest.raises(ValueError):
        codec.encode_frame(9, b"x" * 126)


def test_encode_close(codec):
    assert codec.encode_close(1000) == b"\x88\x02\x03\xe8"
    assert codec.encode_close(1001, "bye") == b"\x88\x05\x03\xe9bye"
    assert codec.encode_close(1005) == b"\x88\x00"
    with pytest.raises(ValueError):
        codec.encode_close(1006)


def test_encode_close_cuts_long_reasons_at_a_character(codec):
    frame = codec.encode_close(1000, "é" * 100)
    assert frame[1] == 2 + 122
    assert frame[4:].decode() == "é" * 61


# --- masking --------------------------------------------------------------------------------


def test_apply_mask_matches_the_definition(codec):
    for size in range(0, 40):
        data = os.urandom(size)
        expected = bytes(byte ^ MASK[i % 4] for i, byte in enumerate(data))
        assert codec.apply_mask(data, MASK) == expected
        assert codec.apply_mask(expected, MASK) == data


def test_apply_mask_needs_four_bytes(codec):
    with pytest.raises(ValueError):
        codec.apply_mask(b"data", b"abc")


# --- Outbox ---------------------------------------------------------------------------------


class FakeLoop:
    def __init__(self) -> None:
        self.callbacks = []
        self.errors = []

    def call_soon(self, callback, *args):
        self.callbacks.append((callback, args))

    def call_exception_handler(self, context):
        self.errors.append(context)

    def run_once(self) -> None:
        callbacks, self.callbacks = self.callbacks, []
        for callback, args in callbacks:
            callback(*args)


class FakeTransport:
    def __init__(self, buffered: int = 0, fail: bool = False, closed: bool = False) -> None:
        self.writes = []
        self.buffered = buffered
        self.fail = fail
        self.closed = closed

    def write(self, data: bytes) -> None:
        if self.fail or self.closed:  # uvloop refuses to write to a closed transport
            raise RuntimeError("broken transport")
        self.writes.append(data)

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def is_closing(self) -> bool:
        return self.closed


class FakeConn:
    __slots__ = ("closing", "outbox_pending", "overflows", "transport", "write_limit")

    def __init__(self, transport=None, closing: bool = False, write_limit: int = 1 << 20):
        self.transport = transport or FakeTransport()
        self.closing = closing
        self.write_limit = write_limit
        self.outbox_pending = None
        self.overflows = 0

    def overflow(self) -> None:
        self.overflows += 1


def busy(codec, loop: FakeLoop):
    """An Outbox that has already written this iteration (a frame to another connection), so
    what is queued now waits for the flush turn."""
    outbox = codec.Outbox(loop)
    outbox.send(FakeConn(), b"earlier")
    return outbox


def test_frames_to_one_connection_leave_in_one_write(codec):
    loop, conn = FakeLoop(), FakeConn()
    outbox = busy(codec, loop)
    for frame in (b"one", b"two", b"three"):
        outbox.send(conn, frame)
    assert conn.transport.writes == []
    assert conn.outbox_pending == [b"one", b"two", b"three"]
    assert len(loop.callbacks) == 1
    loop.run_once()
    assert conn.transport.writes == [b"onetwothree"]
    assert conn.outbox_pending == []


def test_one_flush_per_iteration_for_many_connections(codec):
    loop = FakeLoop()
    conns = [FakeConn() for _ in range(5)]
    outbox = busy(codec, loop)
    assert outbox.broadcast(conns, b"all") == 5
    outbox.send(conns[0], b"more")
    assert len(loop.callbacks) == 1
    loop.run_once()
    assert [conn.transport.writes for conn in conns] == [[b"allmore"]] + [[b"all"]] * 4
    outbox.send(conns[1], b"next")  # the turn found work: still busy in this iteration
    assert len(loop.callbacks) == 1
    loop.run_once()
    assert conns[1].transport.writes == [b"all", b"next"]
    assert conns[0].transport.writes == [b"allmore"]


def test_a_broadcast_frame_is_shared_not_copied(codec):
    loop, conns = FakeLoop(), [FakeConn(), FakeConn()]
    frame = codec.encode_frame(codec.OP_TEXT, b"x" * 1000)
    busy(codec, loop).broadcast(conns, frame)
    loop.run_once()
    assert all(conn.transport.writes[0] is frame for conn in conns)


def test_broadcast_skips_closing_connections(codec):
    loop = FakeLoop()
    open_conn, closing_conn = FakeConn(), FakeConn(closing=True)
    outbox = codec.Outbox(loop)
    assert outbox.broadcast([closing_conn, open_conn], b"x") == 1
    outbox.send(closing_conn, b"y")
    loop.run_once()
    assert open_conn.transport.writes == [b"x"]
    assert closing_conn.transport.writes == []
    assert closing_conn.outbox_pending is None


@pytest.mark.parametrize(
    "message",
    ["", "héllo", "€" * 60, "x" * 70_000, b"", b"\x00\xff", bytearray(b"ba"), memoryview(b"mv")],
)
def test_send_message_frames_as_encode_frame_does(codec, message):
    loop, conn = FakeLoop(), FakeConn()
    outbox = busy(codec, loop)
    outbox.send_message(conn, message)
    if type(message) is str:
        expected = codec.encode_frame(codec.OP_TEXT, message.encode())
    else:
        expected = codec.encode_frame(codec.OP_BINARY, bytes(message))
    assert conn.outbox_pending == [expected]
    outbox.send_message(FakeConn(closing=True), message)  # a closing connection gets nothing
    loop.run_once()
    assert conn.transport.writes == [expected]


def test_send_message_refuses_unencodable_text(codec):
    loop, conn = FakeLoop(), FakeConn()
    with pytest.raises(UnicodeEncodeError):
        codec.Outbox(loop).send_message(conn, "lone \ud800")
    assert not conn.outbox_pending


def test_broadcast_to_nobody_schedules_nothing(codec):
    loop = FakeLoop()
    assert codec.Outbox(loop).broadcast([FakeConn(closing=True)], b"x") == 0
    assert loop.callbacks == []


def test_broadcast_accepts_any_iterable(codec):
    loop = FakeLoop()
    conns = (FakeConn(), FakeConn())
    assert codec.Outbox(loop).broadcast(iter(conns), b"x") == 2
    assert [conn.transport.writes for conn in conns] == [[b"x"], [b"x"]]


def test_frames_queued_before_closing_still_leave(codec):
    """The owner may queue its close frame last, then mark the connection closing."""
    loop, conn = FakeLoop(), FakeConn()
    outbox = busy(codec, loop)
    outbox.send(conn, b"data")
    outbox.send(conn, b"close")
    conn.closing = True
    outbox.send(conn, b"dropped")
    loop.run_once()
    assert conn.transport.writes == [b"dataclose"]


def test_overflow_past_the_write_limit(codec):
    """A reader whose transport already holds more than the limit overflows; one keeping up
    gets its frames even when they are larger than the limit (a big single message)."""
    loop = FakeLoop()
    slow = FakeConn(FakeTransport(buffered=101), write_limit=100)
    fast = FakeConn(FakeTransport(buffered=90), write_limit=100)
    outbox = busy(codec, loop)
    outbox.broadcast([slow, fast], b"123456")
    outbox.send(fast, b"7890" * 30)
    loop.run_once()
    assert (slow.overflows, slow.transport.writes, slow.outbox_pending) == (1, [], [])
    assert (fast.overflows, fast.transport.writes) == (0, [b"123456" + b"7890" * 30])


def test_overflow_owner_closes_and_later_frames_are_dropped(codec):
    """overflow() runs inside the flush: the owner marks the connection closing (and writes
    its close frame itself); the outbox queues nothing more for it."""
    loop = FakeLoop()
    outbox = codec.Outbox(loop)

    class Owner(FakeConn):
        __slots__ = ()

        def overflow(self) -> None:
            self.closing = True
            self.transport.buffered = 0
            self.transport.write(b"close 1008")
            outbox.send(self, b"too late")

    conn = Owner(FakeTransport(buffered=11), write_limit=10)
    outbox.send(conn, b"lost")
    loop.run_once()
    loop.run_once()
    assert conn.transport.writes == [b"close 1008"]
    assert loop.callbacks == []


def test_flush_writes_now(codec):
    loop, conn = FakeLoop(), FakeConn()
    outbox = busy(codec, loop)
    outbox.send(conn, b"a")
    outbox.send(conn, b"b")
    outbox.flush()
    assert conn.transport.writes == [b"ab"]
    loop.run_once()
    assert conn.transport.writes == [b"ab"]
    outbox.send(conn, b"c")
    loop.run_once()
    assert conn.transport.writes == [b"ab", b"c"]


def test_a_failing_connection_does_not_stop_the_others(codec):
    loop = FakeLoop()
    broken, healthy = FakeConn(FakeTransport(fail=True)), FakeConn()
    outbox = codec.Outbox(loop)
    outbox.broadcast([broken, healthy], b"x")
    assert healthy.transport.writes == [b"x"]
    assert [type(context["exception"]) for context in loop.errors] == [RuntimeError]
    assert broken.outbox_pending == []
    outbox.send(broken, b"y")
    assert len(loop.callbacks) == 1


def test_a_transport_closed_meanwhile_is_not_an_error(codec):
    loop, conn = FakeLoop(), FakeConn()
    outbox = busy(codec, loop)
    outbox.send(conn, b"x")
    conn.transport.closed = True
    loop.run_once()
    assert (conn.transport.writes, loop.errors) == ([], [])


def test_outbox_on_a_real_event_loop(codec):
    async def scenario() -> tuple[list[bytes], list[bytes]]:
        outbox = codec.Outbox(asyncio.get_running_loop())
        conn = FakeConn()
        outbox.send(conn, b"a")
        at_once = list(conn.transport.writes)
        outbox.send(conn, b"b")
        outbox.broadcast([conn], b"c")
        await asyncio.sleep(0)
        return at_once, conn.transport.writes

    assert asyncio.run(scenario()) == ([b"a"], [b"a", b"bc"])


# --- Outbox: batching from work that arrives together, never a timer -----------------------


def test_an_idle_outbox_writes_at_once(codec):
    """A quiet chat: the broadcast reaches every subscriber inside the call that made it (so
    before the HTTP response its handler returns), and the outbox is idle again after one
    turn that found nothing to write."""
    loop, conns = FakeLoop(), [FakeConn() for _ in range(10)]
    outbox = codec.Outbox(loop)
    for frame in (b"1", b"2"):
        assert outbox.broadcast(conns, frame) == 10
        assert conns[-1].transport.writes[-1] == frame
        loop.run_once()  # the turn finds nothing queued
        assert loop.callbacks == []
    assert [conn.transport.writes for conn in conns] == [[b"1", b"2"]] * 10


def test_work_arriving_in_the_same_iteration_is_batched(codec):
    """After an idle write, what else this iteration queues leaves together at its end; a
    turn that wrote something keeps the outbox busy for the next iteration too."""
    loop, conns = FakeLoop(), [FakeConn(), FakeConn()]
    outbox = codec.Outbox(loop)
    for frame in (b"1", b"2", b"3"):
        outbox.broadcast(conns, frame)
    assert [conn.transport.writes for conn in conns] == [[b"1"]] * 2
    loop.run_once()
    outbox.broadcast(conns, b"4")
    outbox.broadcast(conns, b"5")
    loop.run_once()
    assert [conn.transport.writes for conn in conns] == [[b"1", b"23", b"45"]] * 2
    loop.run_once()  # an iteration without work: idle again
    assert loop.callbacks == []
    outbox.broadcast(conns, b"6")
    assert [conn.transport.writes[-1] for conn in conns] == [b"6"] * 2


def test_a_frame_queued_while_writing_at_once_waits_for_the_turn(codec):
    """A write made inside the idle write (an owner reacting to overflow, say) does not
    re-enter the flush."""
    loop = FakeLoop()
    outbox = codec.Outbox(loop)
    other = FakeConn()

    class Owner(FakeConn):
        __slots__ = ()

        def overflow(self) -> None:
            self.closing = True
            outbox.send(other, b"meanwhile")

    outbox.send(Owner(FakeTransport(buffered=11), write_limit=10), b"lost")
    assert other.transport.writes == []
    loop.run_once()
    assert other.transport.writes == [b"meanwhile"]


def test_a_large_broadcast_is_never_written_at_once(codec):
    """More than a slice of sockets: the caller's own reply leaves first, then the slices."""
    loop = FakeLoop()
    conns = [FakeConn() for _ in range(FLUSH_SLICE + 10)]
    outbox = codec.Outbox(loop)
    outbox.broadcast(conns, b"1")
    assert all(conn.transport.writes == [] for conn in conns)
    loop.run_once()
    assert [len(conn.transport.writes) for conn in conns] == [1] * FLUSH_SLICE + [0] * 10
    assert len(loop.callbacks) == 1  # the next slice, after the loop has read what came in


def test_a_broadcast_made_during_a_flush_joins_the_sockets_not_yet_written(codec):
    loop = FakeLoop()
    conns = [FakeConn() for _ in range(FLUSH_SLICE + 10)]
    written_first, behind = conns[:FLUSH_SLICE], conns[FLUSH_SLICE:]
    outbox = codec.Outbox(loop)
    outbox.broadcast(conns, b"1")
    loop.run_once()
    outbox.broadcast(conns, b"2")  # e.g. the next POST, read between two slices
    while loop.callbacks:
        loop.run_once()
    assert [conn.transport.writes for conn in behind] == [[b"12"]] * 10
    assert [conn.transport.writes for conn in written_first] == [[b"1", b"2"]] * FLUSH_SLICE


def test_flush_writes_every_slice_now(codec):
    loop = FakeLoop()
    conns = [FakeConn() for _ in range(2 * FLUSH_SLICE + 1)]
    outbox = codec.Outbox(loop)
    outbox.broadcast(conns, b"x")
    outbox.flush()
    assert all(conn.transport.writes == [b"x"] for conn in conns)


# --- package selection ----------------------------------------------------------------------


def test_no_extensions_forces_pure():
    code = "import aro._speedups as s; print(s.IMPLEMENTATION, s.FrameParser.__module__)"
    env = dict(os.environ, ARO_NO_EXTENSIONS="1")
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    )
    assert result.stdout.split() == ["pure", "aro._speedups._pure"]
