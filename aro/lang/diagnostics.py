"""Compiler diagnostics: positioned messages rendered with the offending source line."""

from __future__ import annotations

from dataclasses import dataclass

from aro.lang.ast import Span

# A source line longer than this is shown as a window of this many characters around the
# caret, so that each diagnostic costs the same to render however long its line is.
MAX_SHOWN_LINE = 160
# An error lists this many diagnostics; "and N more" stands for the rest (a file of garbage
# has one per character).
MAX_SHOWN_DIAGNOSTICS = 100


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One message, e.g. ``expected '.' to end the statement, found 'Log'``, with the hints
    that say how to fix it (printed as ``  hint: ...`` lines under the caret)."""

    severity: str
    message: str
    span: Span
    source_line: str = ""
    hints: tuple[str, ...] = ()

    def __str__(self) -> str:
        lines = [f"{self.span}: {self.severity}: {self.message}"]
        if self.source_line:
            shown, caret = _window(self.source_line, self.span.col - 1)
            # Keep tabs in the caret line so the caret stays under the column in any tab width.
            prefix = "".join(c if c == "\t" else " " for c in shown[:caret])
            lines += [shown, f"{prefix}^"]
        lines += [f"  hint: {hint}" for hint in self.hints]
        return "\n".join(lines)


def _window(line: str, caret: int) -> tuple[str, int]:
    """``line``, or of a long line the part around offset ``caret`` between '…' marks, and
    the caret's offset in what is shown."""
    if len(line) <= MAX_SHOWN_LINE:
        return line, caret
    start = max(0, min(caret - MAX_SHOWN_LINE // 2, len(line) - MAX_SHOWN_LINE))
    shown = line[start : start + MAX_SHOWN_LINE]
    if start:
        shown, caret = "…" + shown, caret + 1
    if start + MAX_SHOWN_LINE < len(line):
        shown += "…"
    return shown, caret - start


class AroSyntaxError(Exception):
    """Every lexical and syntax error of one source file."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        shown = [str(d) for d in diagnostics[:MAX_SHOWN_DIAGNOSTICS]]
        if len(diagnostics) > MAX_SHOWN_DIAGNOSTICS:
            shown.append(f"... and {len(diagnostics) - MAX_SHOWN_DIAGNOSTICS} more errors")
        super().__init__("\n".join(shown))
        self.diagnostics = diagnostics


class DiagnosticSink:
    """Collects errors for one source text; at most one message per position."""

    def __init__(self, text: str, filename: str) -> None:
        self.filename = filename
        self._lines = text.split("\n")
        self._seen: set[tuple[int, int]] = set()
        self.diagnostics: list[Diagnostic] = []

    def error(self, message: str, line: int, col: int) -> None:
        if (line, col) in self._seen:
            return
        self._seen.add((line, col))
        source_line = self._lines[line - 1].rstrip("\r") if 0 < line <= len(self._lines) else ""
        self.diagnostics.append(
            Diagnostic("error", message, Span(self.filename, line, col), source_line)
        )

    def raise_if_any(self) -> None:
        if self.diagnostics:
            ordered = sorted(self.diagnostics, key=lambda d: (d.span.line, d.span.col))
            raise AroSyntaxError(ordered)
