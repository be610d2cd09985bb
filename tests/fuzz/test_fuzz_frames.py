"""Fuzzing the WebSocket frame parser (both builds) with hostile client streams.

tests/speedups/test_differential.py checks that valid streams, each broken in one known way,
read alike in both builds. Here every frame is hostile at once: any opcode (the reserved ones
too), any RSV bits, the mask bit set or not, each length encoding including non-minimal ones and
lengths with the top bit set, control frames too long or fragmented, fragments in any order,
close frames with every code and reasons that are not UTF-8, text whose invalid UTF-8 is split
across frames, and streams that end inside a frame. Each stream is cut at random points into
feed() calls, and:

* both builds give the same events, feed() call by feed() call;
* the events are those an independent model of RFC 6455 (``expected_events`` below) predicts:
  messages, then a close event or an error with a defined close code (1002, 1007, 1009), or
  nothing more while the parser waits for the rest of a frame;
* nothing raises, nothing hangs, and a finished parser stays silent.

Arbitrary bytes get the same checks (without the model), and the server-side encoders, which
carry text that came from clients (chat messages, close reasons), agree between the builds and
read back through the parser.

CI runs a few hundred examples per test, derandomized; ``ARO_FUZZ_EXAMPLES=100000 pytest
tests/fuzz/test_fuzz_frames.py`` runs a long hunt with fresh randomness (tests/fuzz/budget.py).
tests/fuzz/atheris_frames.py is a coverage-guided harness for much longer runs.
"""

from __future__ import annotations

import codecs
import dataclasses
import itertools

from hypothesis import given
from hypothesis import strategies as st

from aro._speedups import _pure as rfc
from tests.fuzz.budget import fuzz_settings, no_hang
from tests.support.codec import load_build

compiled = load_build("compiled")
pure = load_build("pure")

DATA, CONTROL = (0, 1, 2), (8, 9, 10)
ERROR_CODES = {1002, 1007, 1009}
INVALID_UTF8 = [b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80", b"\xe2\x82"]


@dataclasses.dataclass
class Frame:
    opcode: int
    payload: bytes
    fin: bool = True
    rsv: int = 0  # the three RSV bits, in place (0x70 mask)
    masked: bool = True
    mask: bytes = b"\x00\x00\x00\x00"
    length_bytes: int | None = None  # None: the minimal encoding; 0, 2 or 8 forces one
    length_msb: bool = False  # announce the length with bit 63 set (needs length_bytes 8)

    def encode(self) -> bytes:
        size = len(self.payload)
        minimal = 0 if size < 126 else 2 if size < 0x10000 else 8
        # A forced encoding too narrow for the size would announce another size: use minimal.
        width = minimal if self.length_bytes is None else max(self.length_bytes, minimal)
        announced = size | (1 << 63 if self.length_msb and width == 8 else 0)
        first = (0x80 if self.fin else 0) | self.rsv | self.opcode
        second = (0x80 if self.masked else 0) | {0: size & 0x7F, 2: 126, 8: 127}[width]
        head = bytes((first, second)) + (announced.to_bytes(width, "big") if width else b"")
        if not self.masked:
            return head + self.payload
        return head + self.mask + rfc.apply_mask(self.payload, self.mask)


# -- strategies ----------------------------------------------------------------------------------

# Whole characters of each UTF-8 length, and bytes that can never be (or begin) valid UTF-8.
utf8_pieces = st.sampled_from(
    [b"", b"a", b"hello ", "é".encode(), "€".encode(), "𝄞".encode(), *INVALID_UTF8]
)
texts = st.lists(utf8_pieces, max_size=6).map(b"".join)
close_codes = st.one_of(
    st.integers(0, 0xFFFF),
    st.sampled_from([999, 1000, 1003, 1004, 1005, 1006, 1007, 1014, 1015, 1016, 2999, 3000, 4999]),
)
close_payloads = st.one_of(
    st.just(b""),
    st.binary(min_size=1, max_size=1),
    st.builds(lambda code, reason: code.to_bytes(2, "big") + reason, close_codes, texts),
)
opcodes = st.one_of(st.sampled_from([0, 1, 2, 8, 9, 10]), st.integers(0, 15))
payloads = {8: close_payloads, 0: texts, 1: texts}
# Rare large payloads: the extended lengths, control frames over 125 bytes.
padding = st.integers(0, 15).flatmap(
    lambda pick: st.sampled_from([125, 126, 200, 65535, 65536]) if pick == 0 else st.just(0)
)
rarely = st.integers(0, 7).map(lambda pick: pick == 0)


@st.composite
def frames(draw, compression: bool) -> Frame:
    opcode = draw(opcodes)
    payload = draw(payloads.get(opcode, st.binary(max_size=40))).ljust(draw(padding), b"a")
    rsv_choices = [0x40, 0x40, 0x20, 0x10, 0x70] if compression else [0x40, 0x20, 0x10]
    return Frame(
        opcode,
        payload,
        fin=not draw(rarely) if opcode >= 8 else draw(st.booleans()),
        rsv=draw(st.sampled_from(rsv_choices)) if draw(rarely) else 0,
        masked=not draw(rarely),
        mask=draw(st.binary(min_size=4, max_size=4)),
        length_bytes=draw(st.sampled_from([0, 2, 8])) if draw(rarely) else None,
        length_msb=draw(rarely),
    )


@dataclasses.dataclass
class Stream:
    frames: list[Frame]
    compression: bool
    max_size: int
    cut: int  # bytes dropped from the end: the stream stops inside its last frame

    @property
    def data(self) -> bytes:
        data = b"".join(frame.encode() for frame in self.frames)
        return data[: len(data) - self.cut]


@st.composite
def streams(draw) -> Stream:
    compression = draw(st.booleans())
    drawn = draw(st.lists(frames(compression), max_size=8))
    max_size = draw(st.one_of(st.just(1 << 20), st.integers(0, 100)))
    last = drawn[-1].encode() if drawn else b""
    cut = draw(st.integers(0, len(last))) if drawn and draw(st.booleans()) else 0
    return Stream(drawn, compression, max_size, cut)


def chunked(draw, data: bytes) -> list[bytes]:
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=10)))
    edges = [0, *cuts, len(data)]
    return [data[start:end] for start, end in itertools.pairwise(edges)]


# -- the model ---------------------------------------------------------------------------------


class Model:
    """RFC 6455 as the parser applies it, frame by frame over whole frames (and the received
    part of the last one): no chunking, no incremental state but the open message."""

    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        self.kind = 0  # the open fragmented message's kind, 0 when none
        self.parts = b""

    def events(self) -> list[tuple]:
        events: list[tuple] = []
        received = len(self.stream.data)
        offset = 0
        for frame in self.stream.frames:
            encoded = frame.encode()
            arrived = encoded[: received - offset]
            offset += len(encoded)
            if self.frame(frame, arrived, events):
                break
        return events

    def frame(self, frame: Frame, arrived: bytes, events: list) -> bool:
        """Add ``frame``'s events (of its ``arrived`` bytes); True when the stream ends."""
        if len(arrived) < 2:
            return True
        fault = self.header_fault(frame, arrived[1] & 0x7F)
        if fault is None:
            head = 2 + {126: 2, 127: 8}.get(arrived[1] & 0x7F, 0) + 4
            if len(arrived) < head:
                return True
            fault = self.length_fault(frame, arrived[1] & 0x7F)
        if fault is not None:
            events.append((rfc.OP_ERROR, *fault))
            return True
        received = frame.payload[: len(arrived) - head]
        whole = len(received) == len(frame.payload)
        if frame.opcode >= 8:
            if whole:
                events.append(
                    rfc.close_event(frame.payload)
                    if frame.opcode == 8
                    else (frame.opcode, frame.payload)
                )
            return not whole or frame.opcode == 8
        return self.data(frame, received, whole, events)

    def header_fault(self, frame: Frame, marker: int) -> tuple[int, str] | None:
        opcode = frame.opcode
        compressed = frame.rsv & 0x40 and self.stream.compression and opcode in (1, 2)
        if opcode not in DATA + CONTROL:
            return 1002, rfc.REASON_RESERVED_OPCODE
        if frame.rsv & 0x30 or (frame.rsv & 0x40 and not compressed):
            return 1002, rfc.REASON_RESERVED_BITS
        if not frame.masked:
            return 1002, rfc.REASON_UNMASKED
        if opcode >= 8 and not frame.fin:
            return 1002, rfc.REASON_CONTROL_FRAGMENTED
        if opcode >= 8 and marker > 125:
            return 1002, rfc.REASON_CONTROL_TOO_LONG
        if opcode == 0 and not self.kind:
            return 1002, rfc.REASON_ORPHAN_CONTINUATION
        if opcode in (1, 2) and self.kind:
            return 1002, rfc.REASON_INTERLEAVED
        return None

    def length_fault(self, frame: Frame, marker: int) -> tuple[int, str] | None:
        size = len(frame.payload)
        if marker == 127 and frame.length_msb:
            return 1002, rfc.REASON_LENGTH_MSB
        if (marker == 126 and size < 126) or (marker == 127 and size < 0x10000):
            return 1002, rfc.REASON_NON_MINIMAL
        if frame.opcode < 8 and size > self.stream.max_size - len(self.parts):
            return 1009, rfc.REASON_TOO_BIG
        return None

    def data(self, frame: Frame, payload: bytes, whole: bool, events: list) -> bool:
        if not self.kind:
            self.kind = frame.opcode | (0x10 if frame.rsv & 0x40 else 0)
        self.parts += payload
        complete = whole and frame.fin
        if self.kind == 1 and not valid_utf8(self.parts, complete):
            events.append((rfc.OP_ERROR, 1007, rfc.REASON_BAD_UTF8))
            return True
        if complete:
            events.append((1, self.parts.decode()) if self.kind == 1 else (self.kind, self.parts))
            self.kind, self.parts = 0, b""
        return not whole


def valid_utf8(data: bytes, final: bool) -> bool:
    """Whether ``data`` is UTF-8 (``final``) or can still become UTF-8 (a prefix)."""
    if final:
        return rfc.validate_utf8(data) is not None
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(data)
    except UnicodeDecodeError:
        return False
    pending = decoder.getstate()[0]
    return not (len(pending) > 1 and pending[0] == 0xED and pending[1] >= 0xA0)


# -- the properties ------------------------------------------------------------------------------


def feed_both(chunks: list[bytes], max_size: int, compression: bool) -> list[list[tuple]]:
    """Both builds' events per feed() call, checked to agree; then a finished parser is fed
    once more and must stay silent."""
    results = []
    for build in (compiled, pure):
        parser = build.FrameParser(max_message_size=max_size, compression=compression)
        with no_hang():
            batches = [parser.feed(chunk) for chunk in chunks]
            ended = any(event[0] in (rfc.OP_CLOSE, rfc.OP_ERROR) for b in batches for event in b)
            if ended:
                assert parser.feed(b"\x81\x80\x00\x00\x00\x00") == []
        results.append(batches)
    assert results[0] == results[1]
    return results[0]


def assert_defined(events: list[tuple]) -> None:
    """Each event is well formed, and only the last may end the stream."""
    for index, event in enumerate(events):
        opcode = event[0]
        if opcode in (rfc.OP_CLOSE, rfc.OP_ERROR):
            assert index == len(events) - 1, events
            code, reason = event[1:]
            assert isinstance(reason, str)
            if opcode == rfc.OP_ERROR:
                assert code in ERROR_CODES
            else:
                assert code == 1005 or rfc.valid_close_code(code)
        elif opcode == rfc.OP_TEXT:
            assert isinstance(event[1], str)
        else:
            assert opcode in (2, 9, 10, rfc.OP_COMPRESSED_TEXT, rfc.OP_COMPRESSED_BINARY)
            assert isinstance(event[1], bytes)


@fuzz_settings(ci=300)
@given(st.data())
def test_hostile_streams_match_the_model(data) -> None:
    stream = data.draw(streams())
    raw = stream.data
    batches = feed_both(chunked(data.draw, raw), stream.max_size, stream.compression)
    events = [event for batch in batches for event in batch]
    assert_defined(events)
    assert events == Model(stream).events()


@fuzz_settings(ci=300)
@given(
    st.binary(max_size=300),
    st.data(),
    st.booleans(),
    st.one_of(st.just(1 << 20), st.integers(0, 50)),
)
def test_arbitrary_bytes_end_in_a_defined_answer(raw: bytes, data, compression, max_size) -> None:
    batches = feed_both(chunked(data.draw, raw), max_size, compression)
    assert_defined([event for batch in batches for event in batch])


@fuzz_settings(ci=300)
@given(
    st.integers(-2, 17),
    st.binary(max_size=300) | st.sampled_from([125, 126, 65535, 65536]).map(bytes),
    st.booleans(),
)
def test_encode_frame_agrees_and_reads_back(opcode: int, payload: bytes, rsv1: bool) -> None:
    """Any opcode and payload; RSV1 only where the server sets it, on a message it compressed."""
    rsv1 = rsv1 and opcode in (1, 2)
    outcomes = [encoded_or_error(build.encode_frame, opcode, payload, rsv1) for build in BUILDS]
    assert outcomes[0] == outcomes[1]
    frame = outcomes[0]
    if isinstance(frame, bytes) and opcode != 0:
        events = read_back(frame, compression=rsv1)
        kind = opcode | (0x10 if rsv1 else 0)
        if opcode == 8:
            assert events == [rfc.close_event(payload)]
        elif kind == 1 and rfc.validate_utf8(payload) is None:
            assert events[0][:2] == (rfc.OP_ERROR, 1007)
        else:
            assert events == [(kind, payload.decode() if kind == 1 else payload)]


@fuzz_settings(ci=300)
@given(close_codes, st.text(max_size=130))
def test_encode_close_agrees_and_reads_back(code: int, reason: str) -> None:
    """Close reasons may come from a client (echoed); any reason is cut to a valid frame."""
    outcomes = [encoded_or_error(build.encode_close, code, reason) for build in BUILDS]
    assert outcomes[0] == outcomes[1]
    if isinstance(outcomes[0], bytes):
        (event,) = read_back(outcomes[0], compression=False)
        assert event[:2] == (rfc.OP_CLOSE, code)
        assert reason.encode().startswith(event[2].encode())


BUILDS = (compiled, pure)


def encoded_or_error(encode, *args) -> bytes | type:
    try:
        return encode(*args)
    except ValueError:
        return ValueError


def read_back(frame: bytes, compression: bool) -> list[tuple]:
    """A server frame as a client would send it back: masked with a zero key."""
    head_size = 2 + {126: 2, 127: 8}.get(frame[1] & 0x7F, 0)
    masked = frame[:1] + bytes((frame[1] | 0x80,)) + frame[2:head_size] + bytes(4)
    parser = pure.FrameParser(compression=compression)
    return parser.feed(masked + frame[head_size:])


def test_atheris_harness_checks_its_inputs() -> None:
    """The optional atheris harness (tests/fuzz/atheris_frames.py) runs on a few inputs here,
    with or without atheris installed, so that it cannot rot unnoticed."""
    from tests.fuzz.atheris_frames import one_input

    for data in (
        b"",
        b"\x00\x01\x81\x80\x00\x00\x00\x00",
        b"\x03\x02\x88\x82abcd\x03\xe8",
        bytes(64),
    ):
        one_input(data)
