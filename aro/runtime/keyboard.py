"""The ``keyboard`` capability: keys typed on the terminal become ``KeyPress`` domain events.

``Listen the <keyboard> to the <stdin>`` starts it.  Only a terminal has keys to read: when
stdin is a pipe, a file or closed, listening does nothing, so Keepalive does not wait for keys
that cannot come.  On a terminal, stdin is put in cbreak mode (each key arrives as it is
typed, without echo; Ctrl-C still interrupts) and read by the event loop's reader callback.
Each key is one ``KeyPress`` event with the payload ``{key}``, named as the reference runtime
names it (:class:`KeyDecoder`); its handlers finish before the next key is delivered, so that
in a burst of keys (a paste) each handler sees the state the previous key left.

The terminal gets its mode back when the program stops the keyboard (``Stop the <keyboard>``),
when the application ends (the reader is an event source, cancelled then), when the terminal
hangs up, and at interpreter exit should anything else end the process.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import termios
from typing import Any, TextIO

from aro.runtime.handlers import KEY_PRESS
from aro.runtime.sources import EventSources
from aro.vm.services import Events

ESCAPE = 0x1B
ARROWS = {ord("A"): "up", ord("B"): "down", ord("C"): "right", ord("D"): "left"}
# An arrow is ESC [ X, or ESC O X when the terminal is in application cursor mode.
ARROW_INTRODUCERS = (ord("["), ord("O"))
CONTROL_KEYS = {0x09: "tab", 0x0A: "enter", 0x0D: "enter", 0x7F: "backspace"}
PRINTABLE = range(0x20, 0x7F)
READ_SIZE = 256
# Bracketed paste: asked for while listening, so that the terminal wraps pasted text in these
# markers and an ESC inside the paste is text, not the Escape key.
PASTE_MODE_ON = b"\x1b[?2004h"
PASTE_MODE_OFF = b"\x1b[?2004l"
PASTE_START = b"\x1b[200~"
PASTE_END = b"\x1b[201~"


class KeyDecoder:
    """Names the keys in what the terminal sends, one read at a time: ``up``, ``down``,
    ``left``, ``right``, ``escape``, ``enter`` (CR or LF), ``tab``, ``backspace`` (DEL) and each
    printable ASCII character as itself.  Other bytes (control characters, the bytes of a
    non-ASCII character) name no key and are dropped, as the reference runtime does.  A paste
    may span reads, so whether we are inside one is kept between them."""

    __slots__ = ("in_paste",)

    def __init__(self) -> None:
        self.in_paste = False

    def feed(self, chunk: bytes) -> list[str]:
        keys = []
        index = 0
        while index < len(chunk):
            marker = chunk[index : index + len(PASTE_START)]
            if marker in (PASTE_START, PASTE_END):
                self.in_paste = marker == PASTE_START
                index += len(marker)
                continue
            if chunk[index] == ESCAPE and not self.in_paste:
                key, length = _escape_key(chunk, index)
            else:
                key, length = _byte_key(chunk[index]), 1
            if key is not None:
                keys.append(key)
            index += length
        return keys


def _escape_key(chunk: bytes, start: int) -> tuple[str, int]:
    """An arrow (three bytes), else the Escape key alone: a terminal sends a lone ESC for
    Escape, and the bytes of any other sequence after it are read as keys of their own."""
    introducer = chunk[start + 1 : start + 3]
    if len(introducer) == 2 and introducer[0] in ARROW_INTRODUCERS and introducer[1] in ARROWS:
        return ARROWS[introducer[1]], 3
    return "escape", 1


def _byte_key(byte: int) -> str | None:
    if byte in PRINTABLE:
        return chr(byte)
    return CONTROL_KEYS.get(byte)


def cbreak(mode: list[Any]) -> list[Any]:
    """``mode`` (as ``termios.tcgetattr`` answers it) changed so that each key is readable as
    soon as it is typed and is not echoed.  ISIG stays, so Ctrl-C still stops the program;
    OPOST stays, so the program's line breaks still return the carriage; IXON goes, so that
    Ctrl-S does not freeze the screen; IEXTEN goes, so that Ctrl-V does not swallow the next
    key."""
    iflag, oflag, cflag, lflag, ispeed, ospeed, control_chars = mode
    control_chars = list(control_chars)
    control_chars[termios.VMIN] = 1
    control_chars[termios.VTIME] = 0
    return [
        iflag & ~termios.IXON,
        oflag,
        cflag,
        lflag & ~(termios.ECHO | termios.ICANON | termios.IEXTEN),
        ispeed,
        ospeed,
        control_chars,
    ]


class TerminalKeyboard:
    """The application's keyboard: at most one listening session at a time."""

    __slots__ = ("_events", "_session", "_sources", "_stdin")

    def __init__(self, events: Events, sources: EventSources, stdin: TextIO) -> None:
        self._events = events
        self._sources = sources
        self._stdin = stdin
        self._session: _Session | None = None

    def listen(self) -> None:
        fd = terminal_fd(self._stdin)
        if fd is None or (self._session is not None and self._session.is_open):
            return
        session = self._session = _Session(fd)
        self._sources.spawn(self._deliver(session))

    def stop(self) -> None:
        if self._session is not None:
            self._session.close()

    async def _deliver(self, session: _Session) -> None:
        """Publish the session's keys one at a time until it closes; close it also when the
        application ends (this task is cancelled then) or anything else ends this task."""
        try:
            decoder = KeyDecoder()
            while (chunk := await session.next_chunk()) is not None:
                for key in decoder.feed(chunk):
                    if session.is_open:  # no key after Stop, even one read with it
                        await self._events.emit(KEY_PRESS, {"key": key})
        finally:
            session.close()
            if self._session is session:
                self._session = None


class _Session:
    """One period of listening: the terminal in cbreak mode, its reader callback on the event
    loop, and the chunks read but not yet delivered (None once the session closed)."""

    __slots__ = ("_chunks", "_fd", "_loop", "_saved_mode")

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._loop = asyncio.get_running_loop()
        self._chunks: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._saved_mode: list[Any] | None = termios.tcgetattr(fd)
        atexit.register(self._restore_mode)
        try:
            termios.tcsetattr(fd, termios.TCSAFLUSH, cbreak(self._saved_mode))
            self._tell_terminal(PASTE_MODE_ON)
            self._loop.add_reader(fd, self._read)
        except BaseException:
            self.close()
            raise

    @property
    def is_open(self) -> bool:
        return self._saved_mode is not None

    async def next_chunk(self) -> bytes | None:
        return await self._chunks.get()

    def close(self) -> None:
        """Stop reading and restore the terminal's mode; closing twice does nothing."""
        if self._saved_mode is None:
            return
        self._loop.remove_reader(self._fd)
        self._restore_mode()
        atexit.unregister(self._restore_mode)
        self._chunks.put_nowait(None)

    def _read(self) -> None:
        """The fd is readable: in cbreak mode with VMIN 1 this read returns what was typed
        without blocking.  An empty read or an error means the terminal hung up."""
        try:
            chunk = os.read(self._fd, READ_SIZE)
        except OSError:
            chunk = b""
        if chunk:
            self._chunks.put_nowait(chunk)
        else:
            self.close()

    def _restore_mode(self) -> None:
        if self._saved_mode is not None:
            saved, self._saved_mode = self._saved_mode, None
            self._tell_terminal(PASTE_MODE_OFF)
            with contextlib.suppress(termios.error):  # a hung-up terminal has no mode left
                termios.tcsetattr(self._fd, termios.TCSAFLUSH, saved)

    def _tell_terminal(self, sequence: bytes) -> None:
        """Write a mode sequence to the terminal itself (a terminal's stdin is open for
        writing too), not to stdout, which may be a file; a hung-up terminal is left alone."""
        with contextlib.suppress(OSError):
            os.write(self._fd, sequence)


def terminal_fd(stream: TextIO) -> int | None:
    """The stream's file descriptor when it is a terminal, else None (a pipe, a file, or a
    stream without one, such as a test runner's captured stdin)."""
    try:
        fd = stream.fileno()
    except (AttributeError, ValueError, OSError):
        return None
    return fd if os.isatty(fd) else None
