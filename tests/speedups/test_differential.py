"""Differential property test: random WebSocket streams, randomly corrupted and split into
random chunks, give identical events from the compiled and the pure codec, feed() call by
feed() call; valid streams give back the messages they were built from; and the outcome
agrees with an independent reader (websockets' sans-I/O protocol) where that is installed.
"""

from __future__ import annotations

import dataclasses
import itertools
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.codec import client_frame, load_build

compiled = load_build("compiled")
pure = load_build("pure")
try:
    from websockets import protocol as oracle
except ImportError:  # the oracle is optional: never a dependency of aro
    oracle = None

# (rare) long payloads exercise the 16- and 64-bit length encodings and the word-wide XOR.
LONG_SIZES = [126, 4096, 65535, 65536, 70_001]
# Corruptions, each a way a client can break the protocol; None leaves the stream valid.
CORRUPTIONS = [
    None,
    None,
    "utf8",
    "rsv",
    "opcode",
    "unmasked",
    "control_long",
    "control_fragmented",
    "oversize",
    "non_minimal",
    "byte",
]
INVALID_UTF8 = [b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80", b"\xce"]


@dataclasses.dataclass
class Frame:
    opcode: int
    payload: bytes
    fin: bool = True
    rsv: int = 0
    mask: bytes | None = b"\x00\x00\x00\x00"
    length_bytes: int | None = None
    text: bool = False  # part of an uncompressed text message: its payload must be UTF-8

    def encode(self) -> bytes:
        return client_frame(
            self.opcode,
            self.payload,
            fin=self.fin,
            rsv=self.rsv,
            mask=self.mask,
            length_bytes=self.length_bytes,
        )


@dataclasses.dataclass
class Scenario:
    frames: list[Frame]
    expected: list[tuple]  # the events of the uncorrupted stream
    compression: bool
    corruption: str | None = None
    max_size: int = 1 << 20

    @property
    def data(self) -> bytes:
        return b"".join(frame.encode() for frame in self.frames)


def mostly_short(short, long):
    """``short`` values, and one time in sixteen a ``long`` one."""
    return st.integers(0, 15).flatmap(lambda pick: long if pick == 0 else short)


# Sizes around the 7-bit length limit and the 8-byte XOR word.
EDGE_SIZES = [0, 1, 3, 4, 5, 7, 8, 9, 100, 124, 125]

payloads = mostly_short(
    st.one_of(st.binary(max_size=200), st.sampled_from(EDGE_SIZES).map(os.urandom)),
    st.sampled_from(LONG_SIZES).map(lambda size: bytes(i * 7 % 256 for i in range(size))),
)
texts = mostly_short(
    st.text(max_size=80),
    st.sampled_from(LONG_SIZES).map(lambda size: ("€a" * size)[:size]),
)


@st.composite
def data_message(draw, compression: bool) -> tuple[list[Frame], tuple]:
    """A text or binary message cut into fragments, possibly compressed, with control frames
    between the fragments; returns its frames and the event it should give."""
    compressed = compression and draw(st.booleans())
    if draw(st.booleans()):
        opcode = 1
        text = draw(texts)
        payload = text.encode()
        event = (0x11, payload) if compressed else (1, text)
    else:
        opcode, payload = 2, draw(payloads)
        event = (0x12 if compressed else 2, payload)
    cuts = sorted(draw(st.lists(st.integers(0, len(payload)), max_size=4)))
    pieces = cut(payload, cuts)
    frames, controls = [], []
    for index, piece in enumerate(pieces):
        fin = index == len(pieces) - 1
        frames.append(Frame(0 if index else opcode, piece, fin, text=event[0] == 1))
        if not fin and draw(st.integers(0, 3)) == 0:
            control = draw(control_message())
            frames.append(control[0])
            controls.append(control[1])
    if compressed:
        frames[0].rsv = 0x40
    return frames, [*controls, event]


@st.composite
def control_message(draw) -> tuple[Frame, tuple]:
    kind = draw(st.sampled_from([9, 10, 9, 10, 8]))
    if kind != 8:
        payload = draw(st.binary(max_size=125))
        return Frame(kind, payload), (kind, payload)
    if draw(st.booleans()):
        return Frame(8, b""), (8, 1005, "")
    code = draw(st.sampled_from([1000, 1001, 1003, 1011, 1013, 3000, 4999]))
    reason = draw(st.text(max_size=30).filter(lambda text: len(text.encode()) <= 123))
    return Frame(8, code.to_bytes(2, "big") + reason.encode()), (8, code, reason)


@st.composite
def scenarios(draw) -> Scenario:
    compression = draw(st.booleans())
    frames, expected = [], []
    for _ in range(draw(st.integers(0, 5))):
        if draw(st.integers(0, 3)) == 0:
            frame, event = draw(control_message())
            more_frames, more_events = [frame], [event]
        else:
            more_frames, more_events = draw(data_message(compression))
        frames += more_frames
        expected += more_events
    for frame in frames:
        frame.mask = draw(st.binary(min_size=4, max_size=4))
    # The parser stops at the first close: what follows it is never read.
    frames = frames[: first_close(frames) + 1]
    expected = expected[: first_close(expected) + 1]
    scenario = Scenario(frames, expected, compression)
    corrupt(draw, scenario, draw(st.sampled_from(CORRUPTIONS)))
    return scenario


def first_close(items: list) -> int:
    """Index of the first close frame or event (of the last item when there is none)."""
    opcodes = [item.opcode if isinstance(item, Frame) else item[0] for item in items]
    return opcodes.index(8) if 8 in opcodes else len(items) - 1


def completed_text_frames(frames: list[Frame]) -> list[Frame]:
    """Frames of the text messages that end before the stream does (a close may cut one
    short, and a truncated sequence only fails at the end of its message)."""
    completed, current = [], []
    for frame in frames:
        if frame.text:
            current.append(frame)
            if frame.fin:
                completed += current
                current = []
    return completed


def corrupt(draw, scenario: Scenario, corruption: str | None) -> None:
    """Break one frame of the scenario in the way ``corruption`` names."""
    frames = scenario.frames
    candidates = {
        "utf8": completed_text_frames(frames),
        "control_long": [f for f in frames if f.opcode >= 8],
        "control_fragmented": [f for f in frames if f.opcode >= 8],
        "oversize": [f for f in frames if f.opcode < 8 and f.payload],
        "non_minimal": [f for f in frames if len(f.payload) < 0x10000],
    }.get(corruption, frames)
    if corruption is None or not candidates:
        return
    scenario.corruption = corruption
    frame = draw(st.sampled_from(candidates))
    if corruption == "utf8":
        at = draw(st.integers(0, len(frame.payload)))
        bad = draw(st.sampled_from(INVALID_UTF8))
        frame.payload = frame.payload[:at] + bad + frame.payload[at:]
    elif corruption == "rsv":  # RSV1 is legal on a first data frame under compression
        frame.rsv |= draw(st.sampled_from([0x20, 0x10] if scenario.compression else [0x40, 0x20]))
    elif corruption == "opcode":
        frame.opcode = draw(st.sampled_from([3, 4, 5, 6, 7, 11, 12, 13, 14, 15]))
    elif corruption == "unmasked":
        frame.mask = None
    elif corruption == "control_long":
        frame.payload = frame.payload.ljust(126, b"!")
    elif corruption == "control_fragmented":
        frame.fin = False
    elif corruption == "oversize":
        scenario.max_size = draw(st.integers(0, len(frame.payload) - 1))
    elif corruption == "non_minimal":
        frame.length_bytes = draw(st.sampled_from([2, 8] if len(frame.payload) < 126 else [8]))


def cut(data: bytes, cuts: list[int]) -> list[bytes]:
    """``data`` cut at the (sorted) offsets ``cuts``."""
    return [data[start:end] for start, end in itertools.pairwise([0, *cuts, len(data)])]


def split(draw, data: bytes) -> list[bytes]:
    """Random chunks, or fixed-size ones down to single bytes (for short streams), so chunk
    edges land inside headers, masks and UTF-8 sequences."""
    if len(data) <= 4096 and draw(st.booleans()):
        step = draw(st.sampled_from([1, 1, 2, 3, 7]))
        return [data[start : start + step] for start in range(0, len(data), step)]
    cuts = sorted(set(draw(st.lists(st.integers(0, len(data)), max_size=12))))
    return cut(data, cuts)


def run(codec, scenario: Scenario, chunks: list[bytes]) -> list[list[tuple]]:
    parser = codec.FrameParser(max_message_size=scenario.max_size, compression=scenario.compression)
    return [parser.feed(chunk) for chunk in chunks]


class Recorder:
    """A connection for ``feed_into`` that records what it is handed, as ``feed`` events."""

    closing = False

    def __init__(self) -> None:
        self.events: list[tuple] = []

    def on_message(self, conn: Recorder, payload: str | bytes) -> None:
        assert conn is self
        self.events.append((1 if type(payload) is str else 2, payload))

    def frame_event(self, event: tuple) -> None:
        self.events.append(event)


def run_into(codec, scenario: Scenario, chunks: list[bytes]) -> list[list[tuple]]:
    """``run`` through ``feed_into``: what each chunk handed the connection."""
    parser = codec.FrameParser(max_message_size=scenario.max_size, compression=scenario.compression)
    batches = []
    for chunk in chunks:
        conn = Recorder()
        parser.feed_into(chunk, conn, conn.on_message)
        batches.append(conn.events)
    return batches


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_compiled_and_pure_agree(data):
    scenario = data.draw(scenarios())
    stream = scenario.data
    if scenario.corruption == "byte" and stream:
        at = data.draw(st.integers(0, len(stream) - 1))
        stream = (
            stream[:at] + bytes([stream[at] ^ data.draw(st.integers(1, 255))]) + stream[at + 1 :]
        )
    chunks = split(data.draw, stream)
    fast = run(compiled, scenario, chunks)
    assert fast == run(pure, scenario, chunks)
    assert run_into(compiled, scenario, chunks) == fast == run_into(pure, scenario, chunks)
    events = [event for batch in fast for event in batch]
    if scenario.corruption is None:
        assert events == scenario.expected
    elif scenario.corruption != "byte":
        assert events and events[-1][0] == -1
        assert events[-1][1] == (
            1007
            if scenario.corruption == "utf8"
            else 1009
            if scenario.corruption == "oversize"
            else 1002
        )
    if oracle_reads_alike(scenario):
        assert outcome(events) == oracle_outcome(scenario, chunks)


UTF8_PIECES = [
    b"a",
    "é".encode(),
    "€".encode(),
    "𝄞".encode(),
    b"\x80",
    b"\xbf",
    b"\xc0",
    b"\xc2",
    b"\xe0",
    b"\xe0\xa0",
    b"\xed",
    b"\xed\x9f",
    b"\xed\xa0",
    b"\xf0",
    b"\xf0\x90",
    b"\xf4",
    b"\xf4\x8f",
    b"\xf4\x90",
    b"\xf5",
    b"\xff",
]


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_utf8_validation_agrees(data):
    """Text built from whole and partial UTF-8 sequences, fragmented and fed in small chunks:
    the compiled DFA and the pure incremental decoder fail in the same feed() call, and the
    verdict is Python's."""
    payload = b"".join(data.draw(st.lists(st.sampled_from(UTF8_PIECES), max_size=12)))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(payload)), max_size=3)))
    pieces = cut(payload, cuts)
    frames = [
        Frame(0 if i else 1, piece, i == len(pieces) - 1, mask=os.urandom(4))
        for i, piece in enumerate(pieces)
    ]
    scenario = Scenario(frames, [], compression=False)
    chunks = split(data.draw, scenario.data)
    fast = run(compiled, scenario, chunks)
    assert fast == run(pure, scenario, chunks)
    assert run_into(compiled, scenario, chunks) == fast == run_into(pure, scenario, chunks)
    verdict = pure.validate_utf8(payload)
    events = [event for batch in fast for event in batch]
    assert events == ([(1, verdict)] if verdict is not None else [(-1, 1007, events[0][2])])


# --- the independent oracle -----------------------------------------------------------------

# Corruptions websockets reads the way RFC 6455 does; it does not validate UTF-8 in frames,
# does not reject non-minimal lengths and applies the size limit to control frames too.
ORACLE_CORRUPTIONS = {None, "rsv", "opcode", "unmasked", "control_long", "control_fragmented"}


def outcome(events: list[tuple]) -> tuple[list[tuple], int | None]:
    """Data messages and close codes received, and the error code that ended the stream."""
    received = [event if event[0] != 8 else event[:2] for event in events if event[0] != -1]
    code = events[-1][1] if events and events[-1][0] == -1 else None
    return [event for event in received if event[0] not in (9, 10)], code


def oracle_reads_alike(scenario: Scenario) -> bool:
    """Whether websockets is installed and reads this stream as RFC 6455 does: it also fails a
    close frame inside a fragmented message (Autobahn 7.1.5) and does not inflate here."""
    return (
        oracle is not None
        and scenario.corruption in ORACLE_CORRUPTIONS
        and not scenario.compression
        and not any(frame.opcode == 8 for frame in fragment_interiors(scenario.frames))
    )


def oracle_outcome(scenario: Scenario, chunks: list[bytes]) -> tuple[list[tuple], int | None]:
    """The same outcome as websockets' server-side protocol reads the stream."""
    protocol = oracle.Protocol(oracle.Side.SERVER, max_size=scenario.max_size)
    protocol.logger.disabled = True
    frames = []
    for chunk in chunks:
        protocol.receive_data(chunk)
        frames += protocol.events_received()
        if protocol.parser_exc is not None:
            break
    error = protocol.close_sent.code if protocol.parser_exc is not None else None
    return assemble(frames), error


def assemble(frames) -> list[tuple]:
    messages, parts = [], []
    for frame in frames:
        opcode = frame.opcode.value
        if opcode == 8:
            code = int.from_bytes(frame.data[:2], "big") if frame.data else 1005
            messages.append((8, code))
        elif opcode < 8:
            parts.append(frame)
            if frame.fin:
                first, payload = parts[0].opcode.value, b"".join(p.data for p in parts)
                messages.append((first, payload.decode() if first == 1 else payload))
                parts = []
    return messages


def fragment_interiors(frames: list[Frame]) -> list[Frame]:
    """Frames that arrive while a fragmented message is open."""
    inside, open_message = [], False
    for frame in frames:
        if open_message:
            inside.append(frame)
        if frame.opcode < 8:
            open_message = not frame.fin
    return inside


def test_oracle_is_exercised():
    """A fixed stream through the oracle, so a broken oracle cannot pass silently."""
    if oracle is None:
        pytest.skip("websockets is not installed")
    frames = [
        Frame(1, b"ab", fin=False, mask=os.urandom(4)),
        Frame(9, b"p"),
        Frame(0, b"c", mask=os.urandom(4)),
        Frame(8, b"\x03\xe8"),
    ]
    scenario = Scenario(frames, [], compression=False)
    expected = ([(1, "abc"), (8, 1000)], None)
    assert oracle_outcome(scenario, [scenario.data]) == expected
    assert outcome(run(compiled, scenario, [scenario.data])[0]) == expected
