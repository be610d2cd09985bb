"""Compiled programs kept on disk, so that a large application starts without recompiling.

Compiling costs tens of microseconds per statement in pure Python (lexing and parsing build
an object per token and per node); loading the same Program from a pickle costs about a
tenth of that.  An entry is only ever served for exactly the sources it was made from:

- its key hashes every source file's path and text, the aro version, the Python version and
  the bytes of the compiler's own modules (``aro/lang/*.py``), so an edited program, an
  upgraded aro or a changed compiler is a miss - never a stale Program;
- the key is stored inside the entry and compared on load; a file that is missing, truncated,
  corrupt or written by another layout of the classes is a miss and is overwritten;
- entries are written to a temporary file in the same directory and renamed into place, so a
  reader sees a whole entry or none;
- the directory is private (created 0700) and not used at all unless it belongs to this user
  and nobody else can write to it, because unpickling a file runs code its writer chose.

There is one entry per set of source paths (a new version of an app replaces its entry) and
at most :data:`MAX_ENTRIES` of them, the least recently written evicted first.  Programs
smaller than :data:`MIN_CACHED_SOURCE` are not cached: they compile in a few milliseconds,
about what hashing, reading and unpickling cost, and caching them would only fill the
directory (the test suite alone compiles hundreds of small apps).
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import stat
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import aro
from aro.lang.bytecode import Program

MIN_CACHED_SOURCE = 16 * 1024  # bytes of source, about 300 statements
MAX_ENTRIES = 64
ENTRY_SUFFIX = ".program"
_LAYOUT = 1  # bump when what an entry holds changes shape


def directory_for(setting: str) -> Path | None:
    """The directory a ``compile_cache`` setting names: ``off`` is None (no cache), empty
    is ``$XDG_CACHE_HOME/aro``, else ``~/.cache/aro``."""
    if setting.strip().lower() == "off":
        return None
    if setting:
        return Path(setting).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "aro"


def load_or_compile(
    directory: Path | None,
    sources: Sequence[tuple[str, str]],
    compile_program: Callable[[], tuple[Program, bool]],
) -> Program:
    """The Program for ``sources`` (``(path, text)`` pairs): from ``directory`` when an entry
    for exactly these sources exists, else ``compile_program()``, which answers the Program
    and whether these sources are all it was made from (only then is it stored).
    ``directory=None`` turns the cache off.  Compile errors propagate and store nothing."""
    if (
        directory is None
        or sum(len(text) for _, text in sources) < MIN_CACHED_SOURCE
        or not _usable(directory)
    ):
        return compile_program()[0]
    key = _key(sources)
    entry = directory / (_entry_name(sources) + ENTRY_SUFFIX)
    program = _read(entry, key)
    if program is None:
        program, cacheable = compile_program()
        if cacheable:
            _write(directory, entry, key, program)
    return program


def _key(sources: Sequence[tuple[str, str]]) -> str:
    digest = hashlib.sha256(_compiler_fingerprint().encode())
    for path, text in sources:
        for part in (path, text):
            data = part.encode("utf-8", "surrogatepass")
            digest.update(len(data).to_bytes(8, "little"))
            digest.update(data)
    return digest.hexdigest()


def _entry_name(sources: Sequence[tuple[str, str]]) -> str:
    paths = "\0".join(path for path, _ in sources)
    return hashlib.sha256(paths.encode("utf-8", "surrogatepass")).hexdigest()[:32]


@functools.cache
def _compiler_fingerprint() -> str:
    """What, besides the sources, decides the compiled Program: aro's version, Python's, and
    the compiler's own code (read once per process)."""
    digest = hashlib.sha256(f"{_LAYOUT}|{aro.__version__}|{sys.version}".encode())
    for module in sorted(Path(__file__).parent.parent.joinpath("lang").glob("*.py")):
        digest.update(module.name.encode())
        digest.update(module.read_bytes())
    return digest.hexdigest()


def _usable(directory: Path) -> bool:
    """Create the directory privately if needed; trust it only if it is ours alone."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = directory.stat()
    except OSError:
        return False
    owned = not hasattr(os, "getuid") or info.st_uid == os.getuid()
    return owned and stat.S_ISDIR(info.st_mode) and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _read(entry: Path, key: str) -> Program | None:
    try:
        data = entry.read_bytes()
    except OSError:
        return None
    try:
        stored_key, program = pickle.loads(data)
    except Exception:  # a damaged entry can fail in any way: it is a miss
        return None
    if stored_key != key or not isinstance(program, Program):
        return None
    return program


def _write(directory: Path, entry: Path, key: str, program: Program) -> None:
    """Write atomically; a cache that cannot be written is no error (the run goes on)."""
    try:
        data = pickle.dumps((key, program), protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, RecursionError):
        return
    temporary_name = None
    try:
        with tempfile.NamedTemporaryFile(
            dir=directory, prefix=".tmp-", suffix=ENTRY_SUFFIX, delete=False
        ) as temporary:
            temporary_name = temporary.name
            temporary.write(data)
        os.replace(temporary_name, entry)
    except OSError:
        if temporary_name is not None:
            Path(temporary_name).unlink(missing_ok=True)
        return
    _evict(directory)


def _evict(directory: Path) -> None:
    try:
        entries = [(path.stat().st_mtime, path) for path in directory.glob("*" + ENTRY_SUFFIX)]
        entries = [item for item in entries if not item[1].name.startswith(".tmp-")]
        for _, path in sorted(entries, reverse=True)[MAX_ENTRIES:]:
            path.unlink(missing_ok=True)
    except OSError:
        return
