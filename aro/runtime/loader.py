"""Find and compile an application's sources (docs/semantics.md, Programs and feature sets)."""

from __future__ import annotations

from pathlib import Path

from aro.lang.bytecode import Program
from aro.lang.compiler import compile_files
from aro.lang.diagnostics import AroSyntaxError
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


def load_program(path: Path) -> Program:
    """Parse every file (collecting all their diagnostics) and compile them into one Program."""
    files = source_files(path)
    if not files:
        raise FileNotFoundError(f"No ARO source files found in {path}")
    parsed = []
    diagnostics = []
    for file in files:
        text = file.read_text(encoding="utf-8")
        try:
            parsed.append((parse_source(text, str(file)), text))
        except AroSyntaxError as error:
            diagnostics.extend(error.diagnostics)
    if diagnostics:
        raise AroSyntaxError(diagnostics)
    return compile_files(parsed)
