"""Find and compile an application's sources (docs/semantics.md, Programs and feature sets)."""

from __future__ import annotations

from pathlib import Path

from aro.lang.ast import Span
from aro.lang.bytecode import Program
from aro.lang.compiler import compile_files
from aro.lang.diagnostics import AroSyntaxError, Diagnostic
from aro.lang.parser import parse_source

SOURCE_SUFFIXES = (".aro", ".fdd")


def application_root(path: Path) -> Path:
    """A directory is the root; a single source file's directory is."""
    return path if path.is_dir() else path.parent


def source_files(path: Path) -> list[Path]:
    """Every source of the app: ``main.aro`` first, then path order; hidden folders and
    ``Plugins/`` excluded."""
    if path.is_file():
        return [path]
    found = [
        file
        for file in path.rglob("*")
        if file.suffix in SOURCE_SUFFIXES
        and file.is_file()
        and not any(
            part.startswith(".") or part == "Plugins" for part in file.relative_to(path).parts[:-1]
        )
    ]
    return sorted(found, key=lambda file: (file.relative_to(path) != Path("main.aro"), str(file)))


def read_source(file: Path) -> str:
    """The file's text; a file that is not UTF-8 is a compile error at its first bad byte
    (``main.aro:3:7: error: not valid UTF-8 at byte 41``), reported with the other files'."""
    data = file.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        good = data[: error.start]
        line = good.count(b"\n") + 1
        col = len(good[good.rfind(b"\n") + 1 :].decode("utf-8")) + 1
        span = Span(str(file), line, col)
        message = f"not valid UTF-8 at byte {error.start}"
        raise AroSyntaxError([Diagnostic("error", message, span)]) from None


def load_program(path: Path) -> Program:
    """Parse every file (collecting all their diagnostics) and compile them into one Program."""
    files = source_files(path)
    if not files:
        raise FileNotFoundError(f"No ARO source files found in {path}")
    parsed = []
    diagnostics = []
    for file in files:
        try:
            text = read_source(file)
            parsed.append((parse_source(text, str(file)), text))
        except AroSyntaxError as error:
            diagnostics.extend(error.diagnostics)
    if diagnostics:
        raise AroSyntaxError(diagnostics)
    return compile_files(parsed)
