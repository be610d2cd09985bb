"""Find and compile an application's sources (docs/semantics.md, Programs and feature sets)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from aro.lang.ast import SourceFile, Span
from aro.lang.bytecode import Program
from aro.lang.compiler import compile_files
from aro.lang.diagnostics import AroSyntaxError, Diagnostic
from aro.lang.parser import parse_source
from aro.runtime.plugins import aro_sources

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


#: Feature sets an imported application does not bring along: the importing root's own
#: lifecycle is the program's.
ROOT_ONLY = frozenset(("Application-Start", "Application-End"))

Parsed = list[tuple[SourceFile, str]]


def load_program(path: Path) -> Program:
    """Parse every file of the application, of the applications it imports and of its
    ``aro-files`` plugins (collecting all their diagnostics) and compile them into one
    Program.  A plugin whose manifest is wrong raises PluginError."""
    files = source_files(path)
    if not files:
        raise FileNotFoundError(f"No ARO source files found in {path}")
    parsed: Parsed = []
    diagnostics: list[Diagnostic] = []
    root = application_root(path)
    _parse_application(files, root, set(), parsed, diagnostics)
    for manifest, sources in aro_sources(root):
        plugin_files = source_files(sources)
        if not plugin_files:
            raise manifest.error(f"aro-files path {sources} has no .aro files")
        _parse_files(plugin_files, parsed, diagnostics)
    if diagnostics:
        raise AroSyntaxError(diagnostics)
    return compile_files(parsed)


def _parse_files(files: list[Path], parsed: Parsed, diagnostics: list[Diagnostic]) -> Parsed:
    """Parse ``files`` into ``parsed``; answer the ones parsed here."""
    added: Parsed = []
    for file in files:
        try:
            text = read_source(file)
            added.append((parse_source(text, str(file)), text))
        except AroSyntaxError as error:
            diagnostics.extend(error.diagnostics)
    parsed.extend(added)
    return added


def _parse_application(
    files: list[Path],
    root: Path,
    visited: set[Path],
    parsed: Parsed,
    diagnostics: list[Diagnostic],
) -> None:
    """Parse one application's files, then every application they import (``import
    ../Other``, relative to this application's root), depth first; an application already
    loaded is not loaded again, so import cycles end."""
    visited.add(root.resolve())
    for source, _ in _parse_files(files, parsed, diagnostics):
        for statement in source.imports:
            imported = (root / statement.path).resolve()
            if imported in visited:
                continue
            imported_files = source_files(imported) if imported.is_dir() else []
            if not imported_files:
                problem = "is not a directory" if not imported.is_dir() else "has no .aro files"
                message = f"Imported application '{statement.path}' ({imported}) {problem}"
                diagnostics.append(Diagnostic("error", message, statement.span))
                continue
            start = len(parsed)
            _parse_application(imported_files, imported, visited, parsed, diagnostics)
            parsed[start:] = [_without_lifecycle(item) for item in parsed[start:]]


def _without_lifecycle(item: tuple[SourceFile, str]) -> tuple[SourceFile, str]:
    source, text = item
    kept = tuple(fs for fs in source.feature_sets if fs.name not in ROOT_ONLY)
    return replace(source, feature_sets=kept), text
