"""The ``terminal`` capability: Clear, Show and Render on the application's standard output.

When stdout is a terminal, Clear and Show write ANSI control sequences and Render keeps each
named section where it was first drawn, redrawing it in place (cursor moves relative to the
end of the output, so no absolute screen position is assumed).  When stdout is a pipe or a
file, the control sequences are left out and Render prints the text as it is, so the output
reads like a log.
"""

from __future__ import annotations

import os
from typing import Any, TextIO

CONTROLS = {
    "clear-screen": "\x1b[2J\x1b[H",
    "clear-line": "\x1b[2K\r",
    "hide-cursor": "\x1b[?25l",
    "show-cursor": "\x1b[?25h",
}
CLEAR_LINE = "\x1b[2K"
CLEAR_BELOW = "\x1b[J"
DEFAULT_SIZE = os.terminal_size((80, 24))


class ConsoleTerminal:
    """Standard output as a screen made of named sections."""

    def __init__(self, stdout: TextIO, environ: dict[str, str] | Any) -> None:
        self._out = stdout
        self._environ = environ
        self.is_tty = _is_tty(stdout)
        self._sections: dict[str, tuple[int, int]] = {}  # name -> (first line, line count)
        self._lines = 0  # lines rendered since the screen was last cleared

    def control(self, command: str) -> None:
        if command == "clear-screen":
            self._sections.clear()
            self._lines = 0
        if self.is_tty:
            self._write(CONTROLS[command])

    def render(self, section: str, text: str) -> None:
        if not self.is_tty:
            self._write(text + "\n")
            return
        lines = text.split("\n")
        placed = self._sections.get(section)
        if placed is None:
            self._sections[section] = (self._lines, len(lines))
            self._lines += len(lines)
            self._write("\n".join(lines) + "\n")
        else:
            self._redraw(section, placed, lines)

    def _redraw(self, section: str, placed: tuple[int, int], lines: list[str]) -> None:
        """Overwrite the section's lines in place.  A section with others below it keeps its
        height, so that they stay where they are; the last one may grow or shrink."""
        first, height = placed
        is_last = first + height == self._lines
        if not is_last:
            lines = (lines + [""] * height)[:height]
        output = [f"\x1b[{self._lines - first}A\r"]
        output.extend(f"{CLEAR_LINE}{line}\n" for line in lines)
        if is_last:
            output.append(CLEAR_BELOW)
            self._sections[section] = (first, len(lines))
            self._lines = first + len(lines)
        else:
            output.append(f"\x1b[{self._lines - first - height}B")
        self._write("".join(output))

    def describe(self) -> dict[str, Any]:
        size = _size(self._out) if self.is_tty else DEFAULT_SIZE
        return {
            "rows": size.lines,
            "columns": size.columns,
            "width": size.columns,
            "height": size.lines,
            "supports_color": self.is_tty and _colours_wanted(self._environ),
            "is_tty": self.is_tty,
            "encoding": getattr(self._out, "encoding", None) or "utf-8",
        }

    def _write(self, text: str) -> None:
        self._out.write(text)
        self._out.flush()


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _size(stream: TextIO) -> os.terminal_size:
    try:
        return os.get_terminal_size(stream.fileno())
    except (AttributeError, ValueError, OSError):
        return DEFAULT_SIZE


def _colours_wanted(environ: Any) -> bool:
    """No colour for ``TERM=dumb`` or when ``NO_COLOR`` is set (no-color.org)."""
    return environ.get("TERM", "") != "dumb" and "NO_COLOR" not in environ
