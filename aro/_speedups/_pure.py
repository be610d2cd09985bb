"""Pure-Python twin of ``_codec.pyx``: the same WebSocket codec API (RFC 6455) and JSON shaping
walk, used when the extension is absent or ``ARO_NO_EXTENSIONS=1``.

It is also the one home of what both builds share verbatim: the error reasons (they are part
of the event tuples, which the differential test compares), close-frame validation and close
payloads (rare, so the compiled module imports them from here instead of restating them), and
the limits (the outbox's flush slice, JSON depth).
"""

import codecs
import math
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson

# What aro._speedups exports; both builds define these (tests/speedups/test_exports.py).
__all__ = [
    "IMPLEMENTATION",
    "OP_BINARY",
    "OP_CLOSE",
    "OP_COMPRESSED_BINARY",
    "OP_COMPRESSED_TEXT",
    "OP_CONT",
    "OP_ERROR",
    "OP_PING",
    "OP_PONG",
    "OP_TEXT",
    "FeatureSetStats",
    "FrameParser",
    "JsonShaper",
    "Outbox",
    "apply_mask",
    "encode_close",
    "encode_frame",
    "step_in_context",
    "validate_utf8",
]

IMPLEMENTATION = "pure"

OP_CONT, OP_TEXT, OP_BINARY = 0, 1, 2
OP_CLOSE, OP_PING, OP_PONG = 8, 9, 10
OP_ERROR = -1
# Connections the outbox writes per loop turn: a flush to more yields to the loop between slices,
# so that work arriving meanwhile (the next broadcast) joins the sockets not yet written.  Also
# the most an idle outbox writes at once, inside the call that queued the frames.
FLUSH_SLICE = 128
COMPRESSED = 0x10  # added to the opcode of a message whose first frame had RSV1 set
OP_COMPRESSED_TEXT, OP_COMPRESSED_BINARY = COMPRESSED | OP_TEXT, COMPRESSED | OP_BINARY
_PLAIN_DATA = (OP_TEXT, OP_BINARY)  # the opcodes feed_into hands to its message callback

REASON_RESERVED_OPCODE = "reserved opcode"
REASON_RESERVED_BITS = "reserved bits set"
REASON_UNMASKED = "client frame not masked"
REASON_CONTROL_FRAGMENTED = "fragmented control frame"
REASON_CONTROL_TOO_LONG = "control frame payload over 125 bytes"
REASON_ORPHAN_CONTINUATION = "continuation frame without a message to continue"
REASON_INTERLEAVED = "new data frame inside a fragmented message"
REASON_NON_MINIMAL = "payload length not minimally encoded"
REASON_LENGTH_MSB = "payload length with the most significant bit set"
REASON_TOO_BIG = "message larger than max_message_size"
REASON_BAD_UTF8 = "invalid UTF-8 in text message"
REASON_CLOSE_BODY = "close frame with a 1-byte body"
REASON_CLOSE_CODE = "invalid close code"
REASON_CLOSE_UTF8 = "invalid UTF-8 in close reason"

MAX_CONTROL = 125
_DATA_OPCODES = frozenset((OP_CONT, OP_TEXT, OP_BINARY))
_CONTROL_OPCODES = frozenset((OP_CLOSE, OP_PING, OP_PONG))
_Utf8Decoder = codecs.getincrementaldecoder("utf-8")


def apply_mask(data: bytes, mask: bytes) -> bytes:
    """XOR ``data`` with the 4-byte ``mask`` (RFC 6455 §5.3) as one big integer operation."""
    if len(mask) != 4:
        raise ValueError("mask must be 4 bytes")
    size = len(data)
    if not size:
        return b""
    key = (mask * (size // 4 + 1))[:size]
    return (int.from_bytes(data, "little") ^ int.from_bytes(key, "little")).to_bytes(size, "little")


def validate_utf8(data: bytes) -> str | None:
    """The text ``data`` encodes, or None when it is not valid UTF-8."""
    try:
        return data.decode()
    except UnicodeDecodeError:
        return None


def valid_close_code(code: int) -> bool:
    """Whether a peer may send ``code`` (RFC 6455 §7.4): the registered codes except 1004-1006
    and 1015, which never travel in a frame, and the 3000-4999 ranges for libraries and apps."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def close_event(payload: bytes) -> tuple:
    """The event for a received close frame's (unmasked) payload (RFC 6455 §5.5.1)."""
    if not payload:
        return (OP_CLOSE, 1005, "")
    if len(payload) == 1:
        return (OP_ERROR, 1002, REASON_CLOSE_BODY)
    code = int.from_bytes(payload[:2], "big")
    if not valid_close_code(code):
        return (OP_ERROR, 1002, REASON_CLOSE_CODE)
    reason = validate_utf8(payload[2:])
    if reason is None:
        return (OP_ERROR, 1007, REASON_CLOSE_UTF8)
    return (OP_CLOSE, code, reason)


def close_payload(code: int, reason: str = "") -> bytes:
    """The body of a close frame we send; 1005 ("no code") is an empty body, and the reason
    is cut at a character boundary to fit the 125-byte control frame."""
    if code == 1005:
        return b""
    if not valid_close_code(code):
        raise ValueError(f"close code {code} may not be sent")
    encoded = reason.encode()
    if len(encoded) > MAX_CONTROL - 2:
        encoded = encoded[: MAX_CONTROL - 2].decode("utf-8", "ignore").encode()
    return code.to_bytes(2, "big") + encoded


def encode_frame(opcode: int, payload: bytes, rsv1: bool = False) -> bytes:
    """A final, unmasked server frame (RFC 6455 §5.2)."""
    size = len(payload)
    if opcode not in _DATA_OPCODES and (opcode not in _CONTROL_OPCODES or size > MAX_CONTROL):
        raise ValueError(f"cannot encode opcode {opcode} with {size} bytes")
    first = 0xC0 | opcode if rsv1 else 0x80 | opcode
    if size < 126:
        header = bytes((first, size))
    elif size < 0x10000:
        header = bytes((first, 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((first, 127)) + size.to_bytes(8, "big")
    return header + payload


def encode_close(code: int, reason: str = "") -> bytes:
    """A close frame carrying ``code`` and ``reason``."""
    return encode_frame(OP_CLOSE, close_payload(code, reason))


def _header_size(second: int) -> int:
    """Header bytes (with the mask) announced by the second byte of a client frame."""
    length = second & 0x7F
    return 6 if length < 126 else 8 if length == 126 else 14


class FrameParser:
    """Incremental parser of client frames; ``feed()`` returns the events completed so far.

    Payload bytes are unmasked (and text validated) as they arrive, so between calls it holds
    at most a partial header and the unfinished message, and invalid UTF-8 fails in the call
    that delivers it. After an error or a close frame it returns no more events: the peer has
    nothing more to say that the connection may act on.
    """

    __slots__ = (
        "_compression",
        "_control",
        "_decoder",
        "_done",
        "_frame",
        "_header",
        "_left",
        "_max_size",
        "_message",
        "_parts",
        "_seen",
        "_size",
    )

    def __init__(self, max_message_size: int = 1 << 20, compression: bool = False) -> None:
        self._max_size = max_message_size
        self._compression = compression
        self._done = False
        self._header = b""  # a header split across feed() calls
        self._frame = None  # (opcode, fin, rsv1, mask) while its payload arrives
        self._left = 0  # payload bytes of that frame still to come
        self._seen = 0  # payload bytes of it already read (the mask's phase)
        self._control = b""  # a control payload split across feed() calls
        self._message = 0  # kind of the fragmented message in progress, 0 when none
        self._parts = []  # its payload so far: decoded pieces for text, bytes otherwise
        self._size = 0  # its size so far, in payload bytes
        self._decoder = None

    def feed(self, data: bytes) -> list[tuple]:
        """Parse ``data`` (any chunk of the stream); return the events it completed."""
        events = []
        pos, end = 0, len(data)
        while not self._done:
            if self._frame is not None:
                if pos == end and self._left:
                    break
                pos = self._payload(data, pos, end, events)
            elif pos < end:
                pos = self._read_header(data, pos, events)
            else:
                break
        return events

    def feed_into(self, data: bytes, conn: Any, on_message: Callable[[Any, Any], object]) -> None:
        """Parse ``data`` and act on each event in stream order: a text or binary message goes
        to ``on_message(conn, payload)`` while ``conn.closing`` is false (an exception from it
        goes to ``conn.handler_failed()``), any other event to ``conn.frame_event(event)``.
        The compiled parser does so as each event completes, with no event list."""
        for event in self.feed(data):
            if event[0] in _PLAIN_DATA:
                if not conn.closing:
                    try:
                        on_message(conn, event[1])
                    except Exception:
                        conn.handler_failed()
            else:
                conn.frame_event(event)

    def _read_header(self, data: bytes, pos: int, events: list) -> int:
        """Consume header bytes; start the frame once the whole header is in."""
        kept = len(self._header)
        head = self._header + data[pos : pos + 14 - kept]
        if len(head) < 2:
            self._header = head
            return pos + len(head) - kept
        size = self._check_start(head[0], head[1], events)
        if not size:
            return pos
        if len(head) < size:  # the slice hit the end of the data
            self._header = head
            return pos + len(head) - kept
        self._header = b""
        self._start_frame(head[:size], events)
        return pos + size - kept

    def _check_start(self, first: int, second: int, events: list) -> int:
        """Check what the first two header bytes allow (RFC 6455 §5.2, §5.4, §5.5); return the
        header size, or 0 after failing the stream."""
        opcode = first & 0x0F
        if opcode not in _DATA_OPCODES and opcode not in _CONTROL_OPCODES:
            return self._fail(events, 1002, REASON_RESERVED_OPCODE)
        rsv1_allowed = self._compression and opcode in (OP_TEXT, OP_BINARY)
        if first & 0x30 or (first & 0x40 and not rsv1_allowed):
            return self._fail(events, 1002, REASON_RESERVED_BITS)
        if not second & 0x80:
            return self._fail(events, 1002, REASON_UNMASKED)
        if opcode >= OP_CLOSE:
            if not first & 0x80:
                return self._fail(events, 1002, REASON_CONTROL_FRAGMENTED)
            if second & 0x7F > MAX_CONTROL:
                return self._fail(events, 1002, REASON_CONTROL_TOO_LONG)
        elif opcode == OP_CONT:
            if not self._message:
                return self._fail(events, 1002, REASON_ORPHAN_CONTINUATION)
        elif self._message:
            return self._fail(events, 1002, REASON_INTERLEAVED)
        return _header_size(second)

    def _start_frame(self, head: bytes, events: list) -> None:
        """Read the length and mask of a checked header; refuse oversize before any payload."""
        opcode, length = head[0] & 0x0F, head[1] & 0x7F
        if length == 126:
            length = int.from_bytes(head[2:4], "big")
            if length < 126:
                return self._fail(events, 1002, REASON_NON_MINIMAL)
        elif length == 127:
            length = int.from_bytes(head[2:10], "big")
            if length >> 63:
                return self._fail(events, 1002, REASON_LENGTH_MSB)
            if length < 0x10000:
                return self._fail(events, 1002, REASON_NON_MINIMAL)
        if opcode < OP_CLOSE and length > self._max_size - self._size:
            return self._fail(events, 1009, REASON_TOO_BIG)
        self._frame = (opcode, head[0] & 0x80, head[0] & 0x40, head[-4:])
        self._left, self._seen = length, 0
        return None

    def _payload(self, data: bytes, pos: int, end: int, events: list) -> int:
        """Consume payload bytes of the current frame; emit what it completes."""
        opcode, fin, rsv1, mask = self._frame
        take = min(self._left, end - pos)
        chunk = _unmask(data[pos : pos + take], mask, self._seen)
        whole = self._seen == 0 and take == self._left
        self._seen += take
        self._left -= take
        if not self._left:
            self._frame = None
        if opcode >= OP_CLOSE:
            self._control += chunk
            if not self._left:
                self._control_event(opcode, events)
        elif whole and fin and not self._message:
            self._message_event(opcode | COMPRESSED if rsv1 else opcode, chunk, events)
        else:
            if not self._message:
                self._start_message(opcode | COMPRESSED if rsv1 else opcode)
            self._append(chunk, events)
            if fin and not self._left and not self._done:
                self._finish_message(events)
        return pos + take

    def _control_event(self, opcode: int, events: list) -> None:
        payload, self._control = self._control, b""
        if opcode == OP_CLOSE:
            events.append(close_event(payload))
            self._done = True
        else:
            events.append((opcode, payload))

    def _message_event(self, kind: int, payload: bytes, events: list) -> None:
        """Emit a complete message of ``kind``; text must be valid UTF-8."""
        if kind != OP_TEXT:
            events.append((kind, payload))
            return
        text = validate_utf8(payload)
        if text is None:
            self._fail(events, 1007, REASON_BAD_UTF8)
        else:
            events.append((OP_TEXT, text))

    def _start_message(self, kind: int) -> None:
        self._message = kind
        self._decoder = _Utf8Decoder() if kind == OP_TEXT else None

    def _append(self, chunk: bytes, events: list) -> None:
        """Add payload to the message in progress, validating text as it arrives."""
        self._size += len(chunk)
        if self._decoder is None:
            self._parts.append(chunk)
            return
        try:
            self._parts.append(self._decoder.decode(chunk))
        except UnicodeDecodeError:
            self._fail(events, 1007, REASON_BAD_UTF8)
            return
        if _surrogate_pending(self._decoder):
            self._fail(events, 1007, REASON_BAD_UTF8)

    def _finish_message(self, events: list) -> None:
        if self._decoder is None:
            events.append((self._message, b"".join(self._parts)))
        else:
            try:
                self._decoder.decode(b"", True)
            except UnicodeDecodeError:
                return self._fail(events, 1007, REASON_BAD_UTF8)
            events.append((OP_TEXT, "".join(self._parts)))
        self._drop_message()
        return None

    def _drop_message(self) -> None:
        self._message, self._parts, self._size, self._decoder = 0, [], 0, None

    def _fail(self, events: list, code: int, reason: str) -> int:
        """Record a protocol violation; the stream yields nothing more. Returns 0 (no header)."""
        events.append((OP_ERROR, code, reason))
        self._done = True
        self._frame = None
        self._drop_message()
        return 0


def _unmask(data: bytes, mask: bytes, phase: int) -> bytes:
    """Unmask a payload slice that starts ``phase`` bytes into its frame."""
    phase &= 3
    return apply_mask(data, mask[phase:] + mask[:phase] if phase else mask)


def _surrogate_pending(decoder) -> bool:
    """Whether the decoder holds ED A0 to ED BF, the start of a UTF-16 surrogate: CPython waits
    for the third byte to reject it, but no continuation can make it valid, and the compiled
    build fails it at once (both must fail in the same feed() call)."""
    pending = decoder.getstate()[0]
    return len(pending) > 1 and pending[0] == 0xED and pending[1] >= 0xA0


class _Pending(list):
    """A connection's ``outbox_pending``: its queued frames (empty when none), kept for the
    connection's life beside what the flush needs of it: its transport's bound methods and
    its write limit, read once, when the outbox first queues for the connection."""

    __slots__ = ("buffer_size", "conn", "transport", "write", "write_limit")

    def __init__(self, conn) -> None:
        super().__init__()
        self.conn = conn
        self.transport = conn.transport
        self.write = self.transport.write
        self.buffer_size = self.transport.get_write_buffer_size
        self.write_limit = conn.write_limit


class Outbox:
    """Coalescing writer, one per event loop; no timer anywhere.

    Frames queued for one connection leave in one ``transport.write``.  When they leave
    depends on whether the outbox is *idle* (no flush turn pending) or *busy*:

    - Idle: the frames that made it busy leave at once, inside the call that queued them,
      when they are due to at most ``FLUSH_SLICE`` connections (what one flush turn writes
      anyway).  A quiet chat's broadcast thus reaches its subscribers before the handler's
      HTTP response is written, with no loop turn in between.  The outbox is busy from then
      until the end of this loop iteration: anything else queued meanwhile waits for the
      flush turn (``loop.call_soon``), so frames queued together still share a write.
    - Busy: a flush turn writes at most ``FLUSH_SLICE`` connections, first-queued first, and
      lets the loop turn before the next slice.  That is where batching under load comes from:
      while a broadcast to thousands of sockets is being written, the loop reads the next
      requests between slices, and a broadcast they make joins the queue of every socket not
      yet written, which then gets both frames in one write.  A turn that found frames to
      write stays busy for one more iteration (work keeps arriving together); a turn that
      found none makes the outbox idle again.

    A broadcast to more than ``FLUSH_SLICE`` connections never goes out at once: the caller's
    own reply (the POST's 201) leaves first, and the slices batch as above.

    A connection that is ``closing`` gets nothing new, but frames already queued still leave,
    so an owner that queues its close frame and then sets ``closing`` sends it last. When the
    transport still holds more than ``write_limit`` unsent bytes (the reader is not keeping
    up; one large message to a reader that is keeping up still goes out), the outbox drops the
    frames and calls ``overflow()`` instead; the owner should then write its 1008 close straight to
    the transport and set ``closing``.
    """

    __slots__ = ("_dirty", "_loop", "_scheduled")

    def __init__(self, loop) -> None:
        self._loop = loop
        self._dirty = []  # the _Pending of each connection with frames queued, first-queued first
        self._scheduled = False  # a flush turn is due at the next loop iteration

    def send(self, conn, frame: bytes) -> None:
        """Queue ``frame`` for ``conn`` unless it is closing."""
        if not conn.closing:
            self._queue(conn, frame)
            self._queued()

    def send_message(self, conn, message: str | bytes) -> None:
        """Queue ``message`` for ``conn`` as one uncompressed frame (text for a str, binary
        otherwise) unless it is closing: encoding and queueing in one call."""
        if not conn.closing:
            if type(message) is str:
                self._queue(conn, encode_frame(OP_TEXT, message.encode()))
            else:
                self._queue(conn, encode_frame(OP_BINARY, bytes(message)))
            self._queued()

    def broadcast(self, conns, frame: bytes) -> int:
        """Queue the same ``frame`` for every connection that is not closing; return how many."""
        queued = 0
        for conn in conns:
            if not conn.closing:
                self._queue(conn, frame)
                queued += 1
        if queued:
            self._queued()
        return queued

    def flush(self) -> None:
        """Write every pending frame now (used at shutdown)."""
        self._write(len(self._dirty))

    def _queued(self) -> None:
        """Frames were queued: an idle outbox turns busy and writes a small queue at once."""
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self._flush_turn)
            if len(self._dirty) <= FLUSH_SLICE:
                self._write(FLUSH_SLICE)

    def _flush_turn(self) -> None:
        """The scheduled callback: one slice and another turn, or idle when nothing came."""
        if self._dirty:
            self._write(FLUSH_SLICE)
            self._loop.call_soon(self._flush_turn)
        else:
            self._scheduled = False

    def _write(self, upto: int) -> None:
        dirty = self._dirty
        if upto >= len(dirty):
            batch, self._dirty = dirty, []
        else:
            batch = dirty[:upto]
            del dirty[:upto]
        for pending in batch:
            try:
                _deliver(pending)
            except Exception as exc:
                self._report(pending, exc)

    def _queue(self, conn, frame: bytes) -> None:
        pending = conn.outbox_pending
        if type(pending) is not _Pending:  # None, or whatever the owner started it with
            pending = conn.outbox_pending = _Pending(conn)
        if not pending:
            self._dirty.append(pending)
        pending.append(frame)

    def _report(self, pending: _Pending, exc: Exception) -> None:
        """One broken connection must not starve the rest; a transport that closed meanwhile
        (uvloop refuses writes then) is no news."""
        if not pending.transport.is_closing():
            self._loop.call_exception_handler(
                {"message": "WebSocket outbox delivery failed", "exception": exc}
            )


def _deliver(pending: _Pending) -> None:
    """Write a connection's pending frames in one call, or report it over its write limit."""
    try:
        data = pending[0] if len(pending) == 1 else b"".join(pending)
    finally:
        pending.clear()
    if pending.buffer_size() > pending.write_limit:
        pending.conn.overflow()
    else:
        pending.write(data)


# ---------------------------------------------------------------------------------------------
# Starting coroutines eagerly (aro.net.aio): every request and WebSocket event takes one step.


def step_in_context(coro, context, on_suspend: Callable):
    """Run ``coro``'s next step inside ``context`` (as ``context.run`` does): its result when
    it finished, else ``on_suspend(coro, context, yielded)``. The compiled build learns that
    the coroutine finished without the StopIteration a ``send`` raises."""
    try:
        yielded = context.run(coro.send, None)
    except StopIteration as stop:
        return stop.value
    return on_suspend(coro, context, yielded)


# ---------------------------------------------------------------------------------------------
# JSON shaping: every HTTP body and broadcast is a JSON value walked once before orjson writes it.

MAX_KEY_ORDERS = 4096  # distinct dict shapes remembered; programs have a handful
# Both builds refuse a container (or non-JSON leaf) this deep, 0 being the value itself: the
# compiled walk so that it cannot overflow the C stack, this one to refuse the same values.
MAX_JSON_DEPTH = 1000
JSON_TOO_DEEP = "value nested too deeply for JSON"
_PLAIN_LEAVES = frozenset((str, int, bool, type(None)))
# A date in UTC from year 1000 on is a plain leaf too: orjson writes it as ARO does (ISO, whole
# seconds, ``Z``) under PLAIN_DATE_OPTIONS, so a listing of dated rows needs no copy.  Other
# dates (an offset to convert, a naive date, a year strftime writes unpadded) are converted.
PLAIN_DATE_OPTIONS = orjson.OPT_OMIT_MICROSECONDS | orjson.OPT_UTC_Z
# Python frames the walks below take per level of nesting at most (a dict comprehension and
# _copy), and spare frames for what they call (order_keys, convert_leaf).
_FRAMES_PER_LEVEL = 2
_SPARE_FRAMES = 100


class JsonShaper:
    """Prepares a value for orjson so that it writes the reference's JSON.

    Calling it returns the value itself when orjson's ``OPT_SORT_KEYS`` (with
    PLAIN_DATE_OPTIONS) suffices: only str, int, bool, None and plain-date leaves, and dicts
    whose keys sort by code point as ``order_keys(keys)`` orders them (asked once per shape).
    Otherwise it returns a copy to write unsorted: keys in ``order_keys`` order, integral
    floats in ±1e16 as ints, non-finite floats as None, tuples as lists, plain dates as they
    are and any other leaf through ``convert_leaf``.
    """

    def __init__(self, order_keys: Callable, convert_leaf: Callable) -> None:
        self._order_keys = order_keys
        self._convert_leaf = convert_leaf
        self._shapes: dict[tuple, tuple[tuple, bool]] = {}

    def __call__(self, value: object) -> object:
        try:
            return value if self._is_plain(value, 0) else self._copy(value, 0)
        except RecursionError as error:
            if error.args == (JSON_TOO_DEEP,):
                raise
            return self._shape_with_room(value)

    def _shape_with_room(self, value: object) -> object:
        """Walk again with the interpreter's recursion limit raised above the caller's stack
        by what MAX_JSON_DEPTH needs, so that the limit, not the caller's depth, decides what
        is refused (as in the compiled walk). Python-to-Python calls take no C stack."""
        limit = sys.getrecursionlimit()
        needed = _stack_depth() + _FRAMES_PER_LEVEL * MAX_JSON_DEPTH + _SPARE_FRAMES
        sys.setrecursionlimit(max(limit, needed))
        try:
            return value if self._is_plain(value, 0) else self._copy(value, 0)
        finally:
            sys.setrecursionlimit(limit)

    def _is_plain(self, value: object, depth: int) -> bool:
        kind = type(value)
        if kind is not dict and kind is not list:
            return kind in _PLAIN_LEAVES or (kind is datetime and _is_plain_date(value))
        if depth >= MAX_JSON_DEPTH:
            raise RecursionError(JSON_TOO_DEEP)
        if kind is dict:
            if not self._shape_of(value)[1]:
                return False
            value = value.values()
        depth += 1
        for item in value:
            if type(item) not in _PLAIN_LEAVES and not self._is_plain(item, depth):
                return False
        return True

    def _copy(self, value: object, depth: int) -> object:
        kind = type(value)
        if kind in _PLAIN_LEAVES or (kind is datetime and _is_plain_date(value)):
            return value
        if depth >= MAX_JSON_DEPTH:
            raise RecursionError(JSON_TOO_DEEP)
        depth += 1
        if kind is dict:
            return {key: self._copy(value[key], depth) for key in self._shape_of(value)[0]}
        if kind is list or kind is tuple:
            return [self._copy(item, depth) for item in value]
        if kind is float:
            return float_for_json(value)
        return self._convert_leaf(value)

    def _shape_of(self, data: dict) -> tuple[tuple, bool]:
        """The keys in JSON order, and whether that is code-point order."""
        keys = tuple(data)
        shape = self._shapes.get(keys)
        if shape is None:
            if len(self._shapes) >= MAX_KEY_ORDERS:
                self._shapes.clear()
            ordered = tuple(self._order_keys(keys))
            shape = self._shapes[keys] = (ordered, ordered == tuple(sorted(keys)))
        return shape


def _is_plain_date(value: datetime) -> bool:
    """A leaf orjson writes as ARO writes it under PLAIN_DATE_OPTIONS (see above)."""
    return value.tzinfo is UTC and value.year >= 1000


def _stack_depth() -> int:
    frame, depth = sys._getframe(), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    return depth


def float_for_json(value: float) -> object:
    if value.is_integer() and -1e16 < value < 1e16:
        return int(value)
    return value if math.isfinite(value) else None


class FeatureSetStats:
    """One feature set's runs, failures and durations (seconds), as the execution metrics keep
    them; ``add`` counts a run (every handler run makes one call: compiled, a C call)."""

    __slots__ = ("activity", "executions", "failures", "longest", "name", "shortest", "total")

    def __init__(self, name: str, activity: str) -> None:
        self.name = name
        self.activity = activity
        self.executions = 0
        self.failures = 0
        self.total = 0.0
        self.shortest = math.inf
        self.longest = 0.0

    def add(self, elapsed: float, failed: bool = False) -> None:
        """Count one run that took ``elapsed`` seconds."""
        self.executions += 1
        if failed:
            self.failures += 1
        self.total += elapsed
        if elapsed > self.longest:
            self.longest = elapsed
        if elapsed < self.shortest:
            self.shortest = elapsed

    @property
    def successes(self) -> int:
        return self.executions - self.failures

    @property
    def average(self) -> float:
        return self.total / self.executions if self.executions else 0.0
