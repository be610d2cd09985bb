"""Find and compile an application's sources (docs/semantics.md, Programs and feature sets)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from aro.lang.ast import SourceFile, Span
from aro.lang.bytecode import Program
from aro.lang.compiler import compile_files
from aro.lang.diagnostics import AroSyntaxError, Diagnostic
from aro.lang.parser import parse_source
from aro.runtime.compile_cache import load_or_compile
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


def load_program(path: Path, cache_directory: Path | None = None) -> Program:
    """Parse every file of the application, of the applications it imports and of its
    ``aro-files`` plugins (collecting all their diagnostics) and compile them into one
    Program.  A plugin whose manifest is wrong raises PluginError.

    With a ``cache_directory``, an application made of its own files only (no imports, no
    plugin sources) is loaded from a Program compiled earlier from the very same texts
    (``aro.runtime.compile_cache``)."""
    files = source_files(path)
    if not files:
        raise FileNotFoundError(f"No ARO source files found in {path}")
    root = application_root(path)
    if cache_directory is not None and not aro_sources(root):
        sources = _read_all(files)
        if sources is not None:
            return load_or_compile(
                cache_directory, sources, lambda: _compile_alone(sources, files, root)
            )
    return _load(files, root)


def _load(files: list[Path], root: Path) -> Program:
    parsed: Parsed = []
    diagnostics: list[Diagnostic] = []
    _parse_application(files, root, set(), parsed, diagnostics)
    for manifest, sources in aro_sources(root):
        plugin_files = source_files(sources)
        if not plugin_files:
            raise manifest.error(f"aro-files path {sources} has no .aro files")
        _parse_files(plugin_files, parsed, diagnostics)
    if diagnostics:
        raise AroSyntaxError(diagnostics)
    return compile_files(parsed)


def _read_all(files: list[Path]) -> list[tuple[str, str]] | None:
    """Every file's text, or None when one is not UTF-8 (``_load`` reports it with the
    other files' errors)."""
    try:
        return [(str(file), read_source(file)) for file in files]
    except AroSyntaxError:
        return None


def _compile_alone(
    sources: list[tuple[str, str]], files: list[Path], root: Path
) -> tuple[Program, bool]:
    """Compile the very texts the cache key was made of, and say whether the Program may be
    cached: not when the files import other applications (their files are inputs too) and
    not on errors, which ``_load`` reports in full (the imported applications' included)."""
    try:
        parsed = [(parse_source(text, name), text) for name, text in sources]
    except AroSyntaxError:
        return _load(files, root), False
    if any(source.imports for source, _ in parsed):
        return _load(files, root), False
    return compile_files(parsed), True


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
