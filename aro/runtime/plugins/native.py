"""Native plugins through ``ctypes``: the C ABI every compiled ARO plugin exports.

``char* aro_plugin_info(void)`` describes the plugin (JSON with ``actions`` and
``qualifiers``); ``char* aro_plugin_execute(const char* action, const char* input_json)``
runs an action; ``char* aro_plugin_qualifier(const char* name, const char* input_json)``
applies a qualifier (input ``{value, type}``, answer ``{"result": …}`` or ``{"error": …}``);
``void aro_plugin_free(char*)`` releases each answer; ``aro_plugin_init`` and
``aro_plugin_shutdown`` are optional.

A ``c-plugin`` entry names a folder of C sources.  A shared library already built in the
plugin folder and newer than every source is used as is; otherwise the sources are built
with the system C compiler into a cache keyed by their content, so each change is built
once and an unchanged plugin never again.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import orjson

from aro.runtime.plugins.manifest import Manifest, Provided

COMPILERS = ("gcc", "cc", "clang")
BUILD_FLAGS = ("-shared", "-fPIC", "-O2")
BUILD_TIMEOUT_SECONDS = 120
LIBRARY_SUFFIXES = (".so", ".dylib")


def cache_folder() -> Path:
    """Where built plugins are kept: ``$XDG_CACHE_HOME/aro-py/plugins`` (``~/.cache``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "aro-py" / "plugins"


def _sources(entry: Provided) -> list[Path]:
    if entry.path.is_file():
        return [entry.path]
    return sorted(entry.path.rglob("*.c"))


def _prebuilt(manifest: Manifest, sources: list[Path]) -> Path | None:
    """A library in the plugin folder newer than every source (built by its Makefile)."""
    newest = max((source.stat().st_mtime for source in sources), default=0.0)
    for candidate in sorted(manifest.folder.rglob("*")):
        if candidate.suffix in LIBRARY_SUFFIXES and candidate.stat().st_mtime >= newest:
            return candidate
    return None


def _compiler(entry: Provided) -> str | None:
    """The compiler the manifest asks for when it is installed, else gcc, cc or clang."""
    build = entry.settings.get("build")
    wanted = build.get("compiler") if isinstance(build, dict) else None
    for name in (wanted, *COMPILERS):
        if name and shutil.which(name):
            return name
    return None


def build_library(manifest: Manifest, entry: Provided) -> Path:
    """The shared library of a ``c-plugin`` entry: prebuilt, cached, or built now."""
    sources = _sources(entry)
    if not sources:
        raise manifest.error(f"c-plugin path {entry.path} has no .c sources")
    prebuilt = _prebuilt(manifest, sources)
    if prebuilt is not None:
        return prebuilt
    compiler = _compiler(entry)
    if compiler is None:
        raise manifest.error("no C compiler found (gcc, cc or clang) to build the plugin")
    includes = [f"-I{folder}" for folder in (manifest.folder / "include", entry.path)]
    digest = hashlib.sha256(compiler.encode())
    for source in sources:
        digest.update(source.read_bytes())
    for header in sorted(manifest.folder.rglob("*.h")):
        digest.update(header.read_bytes())
    target = cache_folder() / f"{manifest.name}-{digest.hexdigest()[:16]}.so"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.tmp")
    command = [compiler, *BUILD_FLAGS, *includes, "-o", str(partial), *map(str, sources)]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=BUILD_TIMEOUT_SECONDS, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise manifest.error(f"building the C plugin failed: {error}") from None
    if done.returncode != 0:
        first = next((line for line in done.stderr.splitlines() if "error" in line), "")
        raise manifest.error(f"building the C plugin with {compiler} failed: {first.strip()}")
    partial.replace(target)  # atomic: a concurrent build never sees half a library
    return target


class NativePlugin:
    """One loaded shared library and what its ``aro_plugin_info`` says it provides."""

    def __init__(self, manifest: Manifest, library: Path) -> None:
        self.manifest = manifest
        try:
            self.library = ctypes.CDLL(str(library))
        except OSError as error:
            raise manifest.error(f"cannot load {library}: {error}") from None
        self._info = self._function("aro_plugin_info", [])
        self._execute = self._function("aro_plugin_execute", [ctypes.c_char_p, ctypes.c_char_p])
        self._qualifier = self._function(
            "aro_plugin_qualifier", [ctypes.c_char_p, ctypes.c_char_p], required=False
        )
        self._free = self._function("aro_plugin_free", [ctypes.c_void_p], restype=None)
        init = self._function("aro_plugin_init", [], restype=None, required=False)
        if init is not None:
            init()
        self.info = self._answer(self._info())

    def _function(
        self, name: str, argtypes: list, restype: Any = ctypes.c_void_p, required: bool = True
    ) -> Any:
        function = getattr(self.library, name, None)
        if function is None:
            if required:
                raise self.manifest.error(f"the library does not export {name}")
            return None
        function.argtypes = argtypes
        function.restype = restype
        return function

    def _answer(self, pointer: int | None) -> Any:
        """Decode a JSON answer and free it with the plugin's own allocator."""
        if not pointer:
            return {"error": "the plugin answered nothing"}
        try:
            return orjson.loads(ctypes.string_at(pointer))
        except orjson.JSONDecodeError:
            return {"error": "the plugin answered something that is not JSON"}
        finally:
            self._free(pointer)

    def action_names(self) -> list[tuple[str, tuple[str, ...]]]:
        """(action name, its verbs) from the plugin's info."""
        names = []
        for entry in self.info.get("actions") or []:
            if isinstance(entry, str):
                names.append((entry, ()))
            elif isinstance(entry, dict) and entry.get("name"):
                verbs = tuple(v.rpartition(".")[2] for v in entry.get("verbs") or ())
                names.append((entry["name"], verbs))
        return names

    def qualifier_specs(self) -> list[tuple[str, tuple[str, ...]]]:
        """(qualifier name, input types) from the plugin's info."""
        specs = []
        for entry in self.info.get("qualifiers") or []:
            if isinstance(entry, dict) and entry.get("name"):
                specs.append((entry["name"], tuple(entry.get("inputTypes") or ())))
        return specs

    def execute(self, action: str, payload: dict[str, Any]) -> Any:
        data = orjson.dumps(payload, default=str)
        return self._answer(self._execute(action.encode(), data))

    def qualify(self, name: str, payload: dict[str, Any]) -> Any:
        if self._qualifier is None:
            return {"error": f"plugin '{self.manifest.name}' provides no qualifiers"}
        return self._answer(self._qualifier(name.encode(), orjson.dumps(payload, default=str)))
