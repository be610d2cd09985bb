"""Compiler diagnostics: positioned messages rendered with the offending source line."""

from __future__ import annotations

from dataclasses import dataclass

from aro.lang.ast import Span


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
            # Keep tabs in the caret line so the caret stays under the column in any tab width.
            indent = self.source_line[: self.span.col - 1]
            prefix = "".join(c if c == "\t" else " " for c in indent)
            lines += [self.source_line, f"{prefix}^"]
        lines += [f"  hint: {hint}" for hint in self.hints]
        return "\n".join(lines)


class AroSyntaxError(Exception):
    """Every lexical and syntax error of one source file."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("\n".join(str(d) for d in diagnostics))
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
