# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled WebSocket codec (RFC 6455): frame parser, frame encoder and coalescing outbox, plus
the JSON shaping walk that bodies and broadcasts take before orjson writes them.

``_pure.py`` is its behavioural twin (``tests/speedups`` hold both to identical event lists)
and the home of what the two share verbatim: error reasons, close-frame rules, float shaping,
limits. The C kernels (unmasking, UTF-8 validation) are in ``_mask.h`` and ``_utf8.h``.
"""

cimport cython
from cpython.bytes cimport (
    PyBytes_AS_STRING,
    PyBytes_CheckExact,
    PyBytes_FromStringAndSize,
    PyBytes_GET_SIZE,
)
from cpython.bool cimport PyBool_Check
from cpython.dict cimport PyDict_CheckExact, PyDict_Next, PyDict_Size
from cpython.object cimport Py_EQ, PyObject_RichCompareBool
from cpython.ref cimport Py_DECREF, PyObject
from cpython.float cimport PyFloat_CheckExact
from cpython.list cimport PyList_Append, PyList_CheckExact, PyList_GET_ITEM, PyList_GET_SIZE
from cpython.long cimport PyLong_CheckExact
from cpython.mem cimport PyMem_Free, PyMem_Realloc
from cpython.sequence cimport PySequence_Tuple
from cpython.tuple cimport PyTuple_CheckExact, PyTuple_GET_ITEM, PyTuple_GET_SIZE
from cpython.unicode cimport PyUnicode_AsUTF8AndSize, PyUnicode_CheckExact, PyUnicode_DecodeUTF8
from libc.stdint cimport uint8_t, uint64_t
from libc.string cimport memcpy

from datetime import UTC as _UTC, datetime as _datetime

from aro._speedups._pure import (
    JSON_TOO_DEEP,
    FLUSH_SLICE,
    MAX_JSON_DEPTH,
    MAX_KEY_ORDERS,
    REASON_BAD_UTF8,
    REASON_CONTROL_FRAGMENTED,
    REASON_CONTROL_TOO_LONG,
    REASON_INTERLEAVED,
    REASON_LENGTH_MSB,
    REASON_NON_MINIMAL,
    REASON_ORPHAN_CONTINUATION,
    REASON_RESERVED_BITS,
    REASON_RESERVED_OPCODE,
    REASON_TOO_BIG,
    REASON_UNMASKED,
    float_for_json,
    close_event,
    close_payload,
)

cdef extern from "Python.h":
    # Declared here with a NULL-able item list: PyList_SetSlice(list, low, high, NULL) deletes.
    int list_delete_slice "PyList_SetSlice" (object, Py_ssize_t, Py_ssize_t, void*) except -1
    # PYGEN_ERROR is -1 (an exception is set), PYGEN_RETURN 0 and PYGEN_NEXT 1.
    int PyIter_Send(object, object, PyObject**) except -1
    int PyContext_Enter(object) except -1
    int PyContext_Exit(object) except -1

# The C kernels: payload unmasking and incremental UTF-8 validation.
cdef extern from "_mask.h":
    void aro_unmask(uint8_t* dst, const uint8_t* src, size_t n, const uint8_t* mask,
                    size_t phase) nogil

cdef extern from "_utf8.h":
    void aro_utf8_init()
    int aro_utf8_run(int state, const uint8_t* p, size_t n) nogil
    enum:
        ARO_UTF8_ACCEPT
        ARO_UTF8_REJECT

aro_utf8_init()

# What aro._speedups exports: the twin's list, kept once (tests/speedups/test_exports.py
# checks that both builds define every name on it and that the stub declares exactly those).
from aro._speedups._pure import __all__

IMPLEMENTATION = "compiled"

cpdef enum:
    OP_CONT = 0
    OP_TEXT = 1
    OP_BINARY = 2
    OP_CLOSE = 8
    OP_PING = 9
    OP_PONG = 10
    OP_ERROR = -1
    COMPRESSED = 0x10
    OP_COMPRESSED_TEXT = 0x11
    OP_COMPRESSED_BINARY = 0x12

cdef enum:
    MAX_CONTROL = 125
    MAX_HEADER = 14
    SCRATCH = 4096  # text messages up to this size are unmasked on the stack, not the heap


def apply_mask(bytes data, bytes mask):
    """XOR ``data`` with the 4-byte ``mask`` (RFC 6455 §5.3), a vector of bytes at a time."""
    if len(mask) != 4:
        raise ValueError("mask must be 4 bytes")
    cdef Py_ssize_t size = PyBytes_GET_SIZE(data)
    result = PyBytes_FromStringAndSize(NULL, size)
    aro_unmask(<uint8_t*> PyBytes_AS_STRING(result), <const uint8_t*> PyBytes_AS_STRING(data),
               size, <const uint8_t*> PyBytes_AS_STRING(mask), 0)
    return result


cdef object _decode(const uint8_t* data, Py_ssize_t size):
    """The text ``data`` encodes, or None when it is not valid UTF-8 (one decoder pass)."""
    try:
        return PyUnicode_DecodeUTF8(<const char*> data, size, NULL)
    except UnicodeDecodeError:
        return None


def validate_utf8(bytes data):
    """The text ``data`` encodes, or None when it is not valid UTF-8."""
    return _decode(<const uint8_t*> PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data))


def encode_frame(int opcode, payload, bint rsv1=False):
    """A final, unmasked server frame (RFC 6455 §5.2), built in one allocation."""
    if not PyBytes_CheckExact(payload):
        payload = bytes(payload)
    cdef Py_ssize_t size = PyBytes_GET_SIZE(payload)
    if not (0 <= opcode <= 2 or (8 <= opcode <= 10 and size <= MAX_CONTROL)):
        raise ValueError(f"cannot encode opcode {opcode} with {size} bytes")
    return _frame(opcode, PyBytes_AS_STRING(payload), size, rsv1)


cdef bytes _frame(int opcode, const char* payload, Py_ssize_t size, bint rsv1):
    cdef Py_ssize_t head = 2 if size < 126 else 4 if size < 0x10000 else 10
    cdef Py_ssize_t i
    frame = PyBytes_FromStringAndSize(NULL, head + size)
    cdef uint8_t* out = <uint8_t*> PyBytes_AS_STRING(frame)
    out[0] = (0xC0 if rsv1 else 0x80) | opcode
    if head == 2:
        out[1] = <uint8_t> size
    else:
        out[1] = 126 if head == 4 else 127
        for i in range(head - 2):
            out[head - 1 - i] = <uint8_t> ((<uint64_t> size) >> (8 * i))
    memcpy(out + head, payload, size)
    return frame


cdef bytes _message_frame(message):
    """A str as a text frame (its UTF-8 read in place, no bytes object between), anything
    else as a binary frame of its bytes."""
    cdef Py_ssize_t size
    cdef const char* text
    if PyUnicode_CheckExact(message):
        text = PyUnicode_AsUTF8AndSize(message, &size)
        return _frame(OP_TEXT, text, size, False)
    if not PyBytes_CheckExact(message):
        message = bytes(message)
    return _frame(OP_BINARY, PyBytes_AS_STRING(message), PyBytes_GET_SIZE(message), False)


def encode_close(int code, str reason=""):
    """A close frame carrying ``code`` and ``reason``."""
    return encode_frame(OP_CLOSE, close_payload(code, reason))


@cython.final
cdef class FrameParser:
    """Incremental parser of client frames; ``feed()`` returns the events completed so far.

    Payload bytes are unmasked (and text validated) as they arrive, so between calls the
    parser holds at most a partial header and the unfinished message, and invalid UTF-8 fails
    in the call that delivers it. A message that lies whole in one chunk (the common case) is
    unmasked straight into its event's object. After an error or a close frame it returns no
    more events: the peer has nothing more to say that the connection may act on.
    """

    cdef Py_ssize_t max_size
    cdef bint compression
    cdef bint done
    cdef uint8_t header[MAX_HEADER]  # a header split across feed() calls
    cdef Py_ssize_t header_len
    cdef bint in_frame  # a header is parsed and its payload is arriving
    cdef int f_opcode
    cdef bint f_fin, f_rsv1
    cdef uint8_t f_mask[4]
    cdef Py_ssize_t f_left  # payload bytes still to come
    cdef Py_ssize_t f_seen  # payload bytes already read: the mask's phase
    cdef uint8_t control[MAX_CONTROL]  # a control payload split across feed() calls
    cdef int m_kind  # kind of the fragmented message in progress, 0 when none
    cdef int m_utf8  # DFA state of its text
    cdef uint8_t* m_buf  # its unmasked payload so far; freed when it completes
    cdef Py_ssize_t m_len, m_cap
    cdef object sink_conn, sink  # feed_into's connection and message callback, while it runs

    def __init__(self, Py_ssize_t max_message_size=1 << 20, bint compression=False):
        self.max_size = max_message_size
        self.compression = compression

    def __dealloc__(self):
        PyMem_Free(self.m_buf)

    def feed(self, data):
        """Parse ``data`` (any chunk of the stream); return the events it completed."""
        cdef list events = []
        self._parse(data, events)
        return events

    def feed_into(self, data, conn, on_message):
        """Parse ``data`` and act on each event as it completes, in stream order, with no
        event list: a text or binary message goes to ``on_message(conn, payload)`` while
        ``conn.closing`` is false (an exception from it goes to ``conn.handler_failed()``),
        any other event to ``conn.frame_event(event)``."""
        self.sink_conn = conn
        self.sink = on_message
        try:
            self._parse(data, None)
        finally:
            self.sink_conn = self.sink = None

    cdef int _parse(self, data, list events) except -1:
        if not PyBytes_CheckExact(data):
            data = bytes(data)
        cdef const uint8_t* p = <const uint8_t*> PyBytes_AS_STRING(data)
        cdef Py_ssize_t n = PyBytes_GET_SIZE(data), used
        while not self.done:
            if self.in_frame:
                if n == 0 and self.f_left:
                    break
                used = self._payload(p, n, events)
            elif n:
                used = self._header(p, n, events)
            else:
                break
            p += used
            n -= used
        return 0

    cdef int _message(self, int kind, payload, list events) except -1:
        """A complete message: onto the event list, or a plain one to the sink."""
        if events is not None:
            events.append((kind, payload))
        elif kind & COMPRESSED:
            self.sink_conn.frame_event((kind, payload))
        elif not self.sink_conn.closing:
            try:
                self.sink(self.sink_conn, payload)
            except Exception:
                self.sink_conn.handler_failed()
        return 0

    cdef int _event(self, tuple event, list events) except -1:
        """Any other event: to the connection, or onto the event list."""
        if events is not None:
            events.append(event)
        else:
            self.sink_conn.frame_event(event)
        return 0

    cdef Py_ssize_t _header(self, const uint8_t* p, Py_ssize_t n, list events) except -1:
        """Consume header bytes; start the frame once the whole header is in. A header that
        lies whole in the chunk is read in place; a split one is gathered into ``header``."""
        cdef Py_ssize_t size, used
        if self.header_len == 0 and n >= 2:
            size = self._check_start(p[0], p[1], events)
            if size == 0:
                return n
            if size <= n:
                self._start_frame(p, events)
                return size
        used = 0
        if self.header_len < 2:
            used = self._gather(p, n, 2)
            if self.header_len < 2:
                return used
        size = self._check_start(self.header[0], self.header[1], events)
        if size == 0:
            return n
        used += self._gather(p + used, n - used, size)
        if self.header_len == size:
            self.header_len = 0
            self._start_frame(self.header, events)
        return used

    cdef inline Py_ssize_t _gather(self, const uint8_t* p, Py_ssize_t n, Py_ssize_t upto):
        cdef Py_ssize_t take = upto - self.header_len
        if take > n:
            take = n
        memcpy(self.header + self.header_len, p, take)
        self.header_len += take
        return take

    cdef Py_ssize_t _check_start(self, uint8_t first, uint8_t second, list events) except -1:
        """Check what the first two header bytes allow (RFC 6455 §5.2, §5.4, §5.5); return the
        header size, or 0 after failing the stream."""
        cdef int opcode = first & 0x0F
        cdef int length = second & 0x7F
        if 2 < opcode < 8 or opcode > 10:
            return self._fail(events, 1002, REASON_RESERVED_OPCODE)
        if first & 0x30 or (first & 0x40 and not (self.compression and 1 <= opcode <= 2)):
            return self._fail(events, 1002, REASON_RESERVED_BITS)
        if not second & 0x80:
            return self._fail(events, 1002, REASON_UNMASKED)
        if opcode >= OP_CLOSE:
            if not first & 0x80:
                return self._fail(events, 1002, REASON_CONTROL_FRAGMENTED)
            if length > MAX_CONTROL:
                return self._fail(events, 1002, REASON_CONTROL_TOO_LONG)
        elif opcode == OP_CONT:
            if not self.m_kind:
                return self._fail(events, 1002, REASON_ORPHAN_CONTINUATION)
        elif self.m_kind:
            return self._fail(events, 1002, REASON_INTERLEAVED)
        return 6 if length < 126 else 8 if length == 126 else 14

    cdef int _start_frame(self, const uint8_t* head, list events) except -1:
        """Read the length and mask of a checked header; refuse oversize before any payload."""
        cdef uint64_t length = head[1] & 0x7F
        cdef Py_ssize_t i, offset = 2
        if length == 126:
            length = (<uint64_t> head[2] << 8) | head[3]
            offset = 4
            if length < 126:
                return self._fail(events, 1002, REASON_NON_MINIMAL)
        elif length == 127:
            length = 0
            for i in range(2, 10):
                length = (length << 8) | head[i]
            offset = 10
            if length >> 63:
                return self._fail(events, 1002, REASON_LENGTH_MSB)
            if length < 0x10000:
                return self._fail(events, 1002, REASON_NON_MINIMAL)
        self.f_opcode = head[0] & 0x0F
        if self.f_opcode < OP_CLOSE and length > <uint64_t> (self.max_size - self.m_len):
            return self._fail(events, 1009, REASON_TOO_BIG)
        self.f_fin = head[0] & 0x80
        self.f_rsv1 = head[0] & 0x40
        memcpy(self.f_mask, head + offset, 4)
        self.f_left = <Py_ssize_t> length
        self.f_seen = 0
        self.in_frame = True
        return 0

    cdef Py_ssize_t _payload(self, const uint8_t* p, Py_ssize_t n, list events) except -1:
        """Consume payload bytes of the current frame; emit what it completes."""
        cdef Py_ssize_t take = self.f_left if self.f_left < n else n
        cdef int kind = self.f_opcode | COMPRESSED if self.f_rsv1 else self.f_opcode
        if self.f_opcode >= OP_CLOSE:
            aro_unmask(self.control + self.f_seen, p, take, self.f_mask, self.f_seen)
            self._advance(take)
            if not self.in_frame:
                self._control_event(events)
            return take
        if (self.f_seen == 0 and take == self.f_left and self.f_fin and not self.m_kind
                and (kind != OP_TEXT or take <= SCRATCH)):
            self._advance(take)
            self._whole_message(kind, p, take, events)
            return take
        if not self.m_kind:
            self.m_kind = kind
            self.m_utf8 = ARO_UTF8_ACCEPT
        if not self._append(p, take, events):
            return n
        self._advance(take)
        if self.f_fin and not self.in_frame:
            self._finish_message(events)
        return take

    cdef inline void _advance(self, Py_ssize_t take):
        self.f_seen += take
        self.f_left -= take
        if not self.f_left:
            self.in_frame = False

    cdef int _control_event(self, list events) except -1:
        payload = PyBytes_FromStringAndSize(<char*> self.control, self.f_seen)
        if self.f_opcode == OP_CLOSE:
            self.done = True
            self._event(close_event(payload), events)
        else:
            self._event((self.f_opcode, payload), events)
        return 0

    cdef int _whole_message(self, int kind, const uint8_t* p, Py_ssize_t size,
                            list events) except -1:
        """Emit a one-frame message that lies whole in the chunk, without buffering it."""
        cdef uint8_t scratch[SCRATCH]
        if kind == OP_TEXT:
            aro_unmask(scratch, p, size, self.f_mask, 0)
            return self._text_event(scratch, size, events)
        payload = PyBytes_FromStringAndSize(NULL, size)
        aro_unmask(<uint8_t*> PyBytes_AS_STRING(payload), p, size, self.f_mask, 0)
        return self._message(kind, payload, events)

    cdef int _text_event(self, const uint8_t* data, Py_ssize_t size, list events) except -1:
        text = _decode(data, size)
        if text is None:
            return self._fail(events, 1007, REASON_BAD_UTF8)
        return self._message(OP_TEXT, text, events)

    cdef bint _append(self, const uint8_t* p, Py_ssize_t take, list events) except -1:
        """Add payload to the message in progress, validating text as it arrives; False when
        that failed the stream."""
        if self.m_len + take > self.m_cap:
            self._grow(self.m_len + take)
        cdef uint8_t* dst = self.m_buf + self.m_len
        aro_unmask(dst, p, take, self.f_mask, self.f_seen)
        self.m_len += take
        if self.m_kind == OP_TEXT:
            self.m_utf8 = aro_utf8_run(self.m_utf8, dst, take)
            if self.m_utf8 == ARO_UTF8_REJECT:
                self._fail(events, 1007, REASON_BAD_UTF8)
                return False
        return True

    cdef int _grow(self, Py_ssize_t need) except -1:
        """Double the message buffer (at least to ``need``, at most to the size limit)."""
        cdef Py_ssize_t cap = self.m_cap * 2
        if cap > self.max_size:
            cap = self.max_size
        if cap < need:
            cap = need
        cdef uint8_t* grown = <uint8_t*> PyMem_Realloc(self.m_buf, cap)
        if grown == NULL:
            raise MemoryError()
        self.m_buf = grown
        self.m_cap = cap
        return 0

    cdef int _finish_message(self, list events) except -1:
        cdef int kind = self.m_kind
        if kind == OP_TEXT:
            payload = _decode(self.m_buf, self.m_len)
        else:
            payload = PyBytes_FromStringAndSize(<char*> self.m_buf, self.m_len)
        self._drop_message()  # before the message is acted on, which may run any code
        if payload is None:
            return self._fail(events, 1007, REASON_BAD_UTF8)
        return self._message(kind, payload, events)

    cdef void _drop_message(self):
        PyMem_Free(self.m_buf)
        self.m_buf = NULL
        self.m_len = self.m_cap = 0
        self.m_kind = 0

    cdef int _fail(self, list events, int code, str reason) except -1:
        """Record a protocol violation; the stream yields nothing more. Returns 0 (no header)."""
        self.done = True
        self.in_frame = False
        self._drop_message()
        self._event((OP_ERROR, code, reason), events)
        return 0


@cython.final
cdef class _Pending(list):
    """A connection's ``outbox_pending``: its queued frames (empty when none), kept for the
    connection's life beside what the flush needs of it (its transport's bound methods and its
    write limit, read once) so the flush loop reads C fields instead of attributes."""

    cdef object conn, transport, write, buffer_size
    cdef Py_ssize_t write_limit

    def __init__(self, conn):
        self.conn = conn
        self.transport = conn.transport
        self.write = self.transport.write
        self.buffer_size = self.transport.get_write_buffer_size
        self.write_limit = conn.write_limit


cdef Py_ssize_t SLICE = FLUSH_SLICE


cdef class Outbox:
    """Coalescing writer, one per event loop; ``_pure.Outbox`` documents the behaviour
    (an idle outbox writes a small queue at once, a busy one once per loop iteration, in
    slices; no timer).

    Broadcast and flush walk their lists in C (Cython compiles ``for x in <list>`` to
    ``PyList_GET_ITEM``); per delivery the flush makes the two calls it cannot avoid (the
    transport's buffer size and its write) and touches no attribute.
    """

    cdef object loop
    cdef list dirty  # the _Pending of each connection with frames queued, first-queued first
    cdef bint scheduled  # busy: a flush turn is due at the next loop iteration

    def __init__(self, loop):
        self.loop = loop
        self.dirty = []

    def send(self, conn, frame):
        """Queue ``frame`` for ``conn`` unless it is closing."""
        if not conn.closing:
            self._queue(conn, frame)
            self._queued()

    def send_message(self, conn, message):
        """Queue ``message`` for ``conn`` as one uncompressed frame (text for a str, binary
        otherwise) unless it is closing: encoding and queueing in one call."""
        if not conn.closing:
            self._queue(conn, _message_frame(message))
            self._queued()

    def broadcast(self, conns, frame):
        """Queue the same ``frame`` for every connection that is not closing; return how many."""
        cdef list targets = conns if type(conns) is list else list(conns)
        cdef Py_ssize_t queued = 0
        for conn in targets:
            if not conn.closing:
                self._queue(conn, frame)
                queued += 1
        if queued:
            self._queued()
        return queued

    def flush(self):
        """Write every pending frame now (used at shutdown)."""
        self._write(PyList_GET_SIZE(self.dirty))

    cdef int _queued(self) except -1:
        """Frames were queued: an idle outbox turns busy and writes a small queue at once."""
        if not self.scheduled:
            self.scheduled = True
            self.loop.call_soon(self._flush_turn)
            if PyList_GET_SIZE(self.dirty) <= SLICE:
                self._write(SLICE)
        return 0

    def _flush_turn(self):
        """The scheduled callback: one slice and another turn, or idle when nothing came."""
        if PyList_GET_SIZE(self.dirty):
            self._write(SLICE)
            self.loop.call_soon(self._flush_turn)
        else:
            self.scheduled = False

    cdef int _write(self, Py_ssize_t upto) except -1:
        cdef list batch = self.dirty
        cdef _Pending pending
        if upto >= PyList_GET_SIZE(batch):
            self.dirty = []
        else:
            batch = self.dirty[:upto]
            list_delete_slice(self.dirty, 0, upto, NULL)
        for pending in batch:
            try:
                _deliver(pending)
            except Exception as exc:
                self._report(pending, exc)
        return 0

    cdef int _queue(self, conn, frame) except -1:
        cdef _Pending pending
        held = conn.outbox_pending
        if type(held) is _Pending:
            pending = <_Pending> held
        else:  # None (or anything else the owner started it with): first frame for conn
            pending = _Pending(conn)
            conn.outbox_pending = pending
        if PyList_GET_SIZE(pending) == 0:
            self.dirty.append(pending)
        PyList_Append(pending, frame)
        return 0

    cdef int _report(self, _Pending pending, exc) except -1:
        """One broken connection must not starve the rest; a transport that closed meanwhile
        (uvloop refuses writes then) is no news."""
        if not pending.transport.is_closing():
            self.loop.call_exception_handler(
                {"message": "WebSocket outbox delivery failed", "exception": exc}
            )
        return 0


cdef int _deliver(_Pending pending) except -1:
    """Write a connection's pending frames in one call, or report it over its write limit."""
    cdef Py_ssize_t count = PyList_GET_SIZE(pending)
    try:
        data = <object> PyList_GET_ITEM(pending, 0) if count == 1 else b"".join(pending)
    finally:
        list_delete_slice(pending, 0, count, NULL)
    cdef Py_ssize_t buffered = pending.buffer_size()
    if buffered > pending.write_limit:
        pending.conn.overflow()
    else:
        pending.write(data)
    return 0


# ---------------------------------------------------------------------------------------------
# Starting coroutines eagerly: the twin's step_in_context, with PyIter_Send, which reports a
# finished coroutine by its return value instead of raising StopIteration.


def step_in_context(coro, context, on_suspend):
    """Run ``coro``'s next step inside ``context``: its result when it finished, else
    ``on_suspend(coro, context, yielded)``."""
    cdef PyObject* produced = NULL
    cdef int status
    PyContext_Enter(context)
    try:
        status = PyIter_Send(coro, None, &produced)
    finally:
        PyContext_Exit(context)
    value = <object> produced  # a new reference, now held by ``value`` as well
    Py_DECREF(value)
    if status == 0:
        return value
    return on_suspend(coro, context, value)


# ---------------------------------------------------------------------------------------------
# JSON shaping (the twin's JsonShaper): the walk every HTTP body and broadcast takes before
# orjson writes it, compiled because it touches every row of a repository listing.

cdef int MAX_DEPTH = MAX_JSON_DEPTH
cdef object DATETIME = _datetime
cdef object UTC_ZONE = _UTC


cdef inline bint _is_json_scalar(object value, int depth) except -1:
    """str, int, bool, None or a plain date, which orjson writes as they are; a container past MAX_DEPTH is
    refused here, where both walks pass first."""
    if PyUnicode_CheckExact(value) or PyLong_CheckExact(value) or PyBool_Check(value):
        return True
    if value is None:
        return True
    if type(value) is DATETIME and value.tzinfo is UTC_ZONE and value.year >= 1000:
        return True  # a plain date (the twin's PLAIN_DATE_OPTIONS)
    if depth >= MAX_DEPTH:
        raise RecursionError(JSON_TOO_DEEP)
    return False


cdef class _Shape:
    cdef tuple ordered  # the keys in the order JSON writes them
    cdef bint plain  # that order is code-point order, which orjson's OPT_SORT_KEYS gives


cdef class JsonShaper:
    """See the twin: the value itself when orjson's OPT_SORT_KEYS suffices, else a copy."""

    cdef object _order_keys
    cdef object _convert_leaf
    cdef dict _shapes
    cdef tuple _last_keys  # the last shape looked up, by its keys in insertion order
    cdef _Shape _last

    def __init__(self, order_keys, convert_leaf):
        self._order_keys = order_keys
        self._convert_leaf = convert_leaf
        self._shapes = {}

    def __call__(self, value):
        if self._is_plain(value, 0):
            return value
        return self._copy(value, 0)

    cdef bint _is_plain(self, object value, int depth) except -1:
        if _is_json_scalar(value, depth):
            return True
        if PyDict_CheckExact(value):
            if not self._shape_of(<dict> value).plain:
                return False
            for item in (<dict> value).values():
                if not self._is_plain(item, depth + 1):
                    return False
            return True
        if PyList_CheckExact(value):
            for item in <list> value:
                if not self._is_plain(item, depth + 1):
                    return False
            return True
        return False

    cdef object _copy(self, object value, int depth):
        if _is_json_scalar(value, depth):
            return value
        if PyDict_CheckExact(value):
            out = {}
            for key in self._shape_of(<dict> value).ordered:
                out[key] = self._copy((<dict> value)[key], depth + 1)
            return out
        if PyList_CheckExact(value) or PyTuple_CheckExact(value):
            items = []
            for item in value:
                PyList_Append(items, self._copy(item, depth + 1))
            return items
        if PyFloat_CheckExact(value):
            return float_for_json(value)
        return self._convert_leaf(value)

    cdef _Shape _shape_of(self, dict data):
        if self._same_keys_as_last(data):
            return self._last
        keys = PySequence_Tuple(data)
        cached = self._shapes.get(keys)
        if cached is None:
            if len(self._shapes) >= MAX_KEY_ORDERS:
                self._shapes.clear()
            cached = _Shape()
            (<_Shape> cached).ordered = tuple(self._order_keys(keys))
            (<_Shape> cached).plain = (<_Shape> cached).ordered == tuple(sorted(keys))
            self._shapes[keys] = cached
        self._last_keys = keys
        self._last = <_Shape> cached
        return self._last

    cdef bint _same_keys_as_last(self, dict data) except -1:
        """Rows of a listing share their keys, mostly as the same objects: checking the last
        shape's keys in place saves building a tuple per row."""
        cdef tuple last_keys = self._last_keys
        if last_keys is None or PyDict_Size(data) != PyTuple_GET_SIZE(last_keys):
            return False
        cdef Py_ssize_t position = 0, index = 0
        cdef PyObject* key
        cdef PyObject* item
        cdef PyObject* expected
        while PyDict_Next(data, &position, &key, &item):
            expected = PyTuple_GET_ITEM(last_keys, index)
            if key != expected and not PyObject_RichCompareBool(<object> key, <object> expected, Py_EQ):
                return False
            index += 1
        return True


# ---------------------------------------------------------------------------------------------
# Execution metrics: the twin's FeatureSetStats, whose add() every handler run calls.


@cython.final
cdef class FeatureSetStats:
    """See the twin: one feature set's runs, failures and durations (seconds)."""

    cdef public str name, activity
    cdef public long long executions, failures
    cdef public double total, shortest, longest

    def __init__(self, str name, str activity):
        self.name = name
        self.activity = activity
        self.shortest = float("inf")

    def add(self, double elapsed, bint failed=False):
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
    def successes(self):
        return self.executions - self.failures

    @property
    def average(self):
        return self.total / self.executions if self.executions else 0.0
