"""Types of the compiled codec's public names; ``_pure.py`` is its behavioural twin and defines
the same names (tests/speedups/test_exports.py holds the three to one list)."""

from asyncio import AbstractEventLoop
from collections.abc import Callable, Coroutine, Iterable
from contextvars import Context
from typing import Any, Final, Protocol

IMPLEMENTATION: Final[str]  # "compiled" here, "pure" in the twin

OP_CONT: Final[int]
OP_TEXT: Final[int]
OP_BINARY: Final[int]
OP_CLOSE: Final[int]
OP_PING: Final[int]
OP_PONG: Final[int]
OP_ERROR: Final[int]  # an event (OP_ERROR, close code, reason): the stream failed
OP_COMPRESSED_TEXT: Final[int]  # a message whose first frame had RSV1 set (permessage-deflate)
OP_COMPRESSED_BINARY: Final[int]

# (opcode, payload) for a message, ping or pong; (OP_CLOSE, code, reason) for a close frame;
# (OP_ERROR, close code, reason) when the stream failed.
_Event = tuple[int, str | bytes] | tuple[int, int, str]

def apply_mask(data: bytes, mask: bytes) -> bytes: ...
def validate_utf8(data: bytes) -> str | None: ...
def encode_frame(opcode: int, payload: bytes, rsv1: bool = False) -> bytes: ...
def encode_close(code: int, reason: str = "") -> bytes: ...
def step_in_context(
    coro: Coroutine[Any, Any, Any], context: Context, on_suspend: Callable[..., Any]
) -> Any: ...

class FeatureSetStats:
    name: str
    activity: str
    executions: int
    failures: int
    total: float
    shortest: float
    longest: float
    def __init__(self, name: str, activity: str) -> None: ...
    successes: int  # read-only: executions - failures
    average: float  # read-only: seconds per run, 0.0 before the first
    def add(self, elapsed: float, failed: bool = False) -> None: ...

class FrameParser:
    def __init__(self, max_message_size: int = 1 << 20, compression: bool = False) -> None: ...
    def feed(self, data: bytes) -> list[_Event]: ...
    def feed_into(
        self, data: bytes, conn: _Receiver, on_message: Callable[[Any, str | bytes], object]
    ) -> None: ...

class _Receiver(Protocol):
    """What ``FrameParser.feed_into`` reads and calls on the connection it parses for."""

    closing: bool  # true once no more messages may be delivered
    def handler_failed(self) -> None: ...  # on_message raised (the exception is current)
    def frame_event(self, event: _Event) -> None: ...  # any event but a plain data message

class _Transport(Protocol):
    def write(self, data: bytes) -> None: ...
    def get_write_buffer_size(self) -> int: ...
    def is_closing(self) -> bool: ...

class _Connection(Protocol):
    """What the outbox reads and calls on a connection it writes to."""

    transport: _Transport
    closing: bool
    write_limit: int
    outbox_pending: Any  # the outbox's own per-connection queue; None before the first frame
    def overflow(self) -> None: ...

class Outbox:
    def __init__(self, loop: AbstractEventLoop) -> None: ...
    def send(self, conn: _Connection, frame: bytes) -> None: ...
    def send_message(self, conn: _Connection, message: str | bytes) -> None: ...
    def broadcast(self, conns: Iterable[_Connection], frame: bytes) -> int: ...
    def flush(self) -> None: ...

class JsonShaper:
    def __init__(
        self,
        order_keys: Callable[[tuple[str, ...]], Iterable[str]],
        convert_leaf: Callable[[Any], Any],
    ) -> None: ...
    def __call__(self, value: object) -> object: ...
