"""Finding plugins: ``<app>/Plugins/*/plugin.yaml`` (and the older ``<app>/plugins/*``).

A manifest names the plugin, its ``handle`` (actions are ``Handle.Verb``) and what it
``provides``: entries of type ``aro-files`` (ARO sources compiled into the program),
``c-plugin`` (C sources built into a shared library), ``python-plugin`` (a module run in
process); each entry may name a ``handler`` (qualifiers are ``<x: handler.name>``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PLUGIN_FOLDERS = ("Plugins", "plugins")
MANIFEST = "plugin.yaml"
KINDS = ("aro-files", "c-plugin", "python-plugin", "rust-plugin", "swift-plugin")


class PluginError(Exception):
    """A plugin that cannot be loaded; the message is one line and names its plugin.yaml."""

    def __init__(self, manifest: Path, problem: str) -> None:
        super().__init__(f"{manifest}: {problem}")


@dataclass(frozen=True, slots=True)
class Provided:
    kind: str
    path: Path  # absolute: the folder (or file) the entry names
    handler: str | None
    settings: dict[str, Any]  # the whole entry, for kind-specific keys (build, module)


@dataclass(frozen=True, slots=True)
class Manifest:
    file: Path
    name: str
    handle: str
    provides: tuple[Provided, ...]

    @property
    def folder(self) -> Path:
        return self.file.parent

    def error(self, problem: str) -> PluginError:
        return PluginError(self.file, problem)


def discover(root: Path) -> list[Manifest]:
    """Every plugin of the application at ``root``, in folder-name order."""
    files: list[Path] = []
    for folder in PLUGIN_FOLDERS:
        base = root / folder
        if base.is_dir():
            files.extend(sorted(base.glob(f"*/{MANIFEST}")))
    return [read_manifest(file) for file in files]


def read_manifest(file: Path) -> Manifest:
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        problem = " ".join(str(error).split())
        raise PluginError(file, f"cannot read the manifest: {problem}") from None
    if not isinstance(data, dict):
        raise PluginError(file, "the manifest must be a mapping with 'name' and 'provides'")
    name = str(data.get("name") or file.parent.name)
    entries = data.get("provides") or []
    if not isinstance(entries, list):
        raise PluginError(file, "'provides' must be a list of entries with a 'type'")
    provides = tuple(_provided(file, entry) for entry in entries)
    handle = str(data.get("handle") or name)
    return Manifest(file, name, handle, provides)


def _provided(file: Path, entry: Any) -> Provided:
    if not isinstance(entry, dict) or entry.get("type") not in KINDS:
        kinds = ", ".join(KINDS)
        raise PluginError(file, f"each 'provides' entry needs a type, one of {kinds}")
    path = (file.parent / str(entry.get("path") or ".")).resolve()
    if not path.exists():
        raise PluginError(file, f"{entry['type']} path '{entry.get('path')}' does not exist")
    handler = entry.get("handler")
    return Provided(entry["type"], path, str(handler) if handler else None, entry)
