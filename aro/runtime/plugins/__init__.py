"""Plugins: what an application's ``Plugins/*/plugin.yaml`` add to it.

``aro-files`` entries add ARO sources to the program (the loader compiles them); C and
Python plugins add actions, called as ``Handle.Verb``, and qualifiers, used as
``<x: handler.name>``.  ``PluginSet.load`` loads them all once per application; a plugin
that cannot be loaded stops the start with a one-line ``PluginError`` naming its manifest.
Swift and Rust plugins need toolchains aro-py does not drive: they are skipped with a
warning, and their actions report themselves unknown when called.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aro.plugin as api
from aro.runtime.plugins import native, python
from aro.runtime.plugins.manifest import Manifest, PluginError, Provided, discover
from aro.vm.errors import ActionError
from aro.vm.services import ActionCall

__all__ = ["PluginError", "PluginSet", "aro_sources", "discover"]

#: Entry kinds that need a toolchain this runtime does not drive.
UNSUPPORTED = {
    "swift-plugin": "Swift plugins need the Swift toolchain, which aro-py does not drive",
    "rust-plugin": "Rust plugins need cargo and their crates, which aro-py does not drive",
}

Action = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class Qualifier:
    plugin: str
    apply: Callable[[Any, Any], Any]  # (value, with-params) -> value; raises ValueError
    input_types: tuple[str, ...]


def verb_key(verb: str) -> str:
    """Verbs match without case, ``-`` or ``_``: ``ToHTML`` is ``to-html`` is ``tohtml``."""
    return verb.replace("-", "").replace("_", "").lower()


def aro_sources(root: Path) -> list[tuple[Manifest, Path]]:
    """The ``aro-files`` folders (or files) of the application's plugins."""
    return [
        (manifest, entry.path)
        for manifest in discover(root)
        for entry in manifest.provides
        if entry.kind == "aro-files"
    ]


class PluginSet:
    """The loaded plugins' actions and qualifiers (the ``qualifiers`` capability too)."""

    def __init__(self) -> None:
        self.actions: dict[tuple[str, str], tuple[str, Action]] = {}
        self.qualifiers: dict[str, Qualifier] = {}

    @classmethod
    def load(cls, root: Path | None, warn: Callable[[str], None]) -> PluginSet:
        """Every plugin of the application at ``root``; ``warn`` hears of skipped ones."""
        plugins = cls()
        for manifest in discover(root) if root is not None else ():
            for entry in manifest.provides:
                if entry.kind in UNSUPPORTED:
                    warn(f"Warning: {manifest.file}: {UNSUPPORTED[entry.kind]}; skipped")
                else:
                    plugins._add(manifest, entry)
        return plugins

    def _add(self, manifest: Manifest, entry: Provided) -> None:
        if entry.kind == "c-plugin":
            self._add_native(manifest, entry)
        elif entry.kind == "python-plugin":
            self._add_python(manifest, entry)

    def _add_native(self, manifest: Manifest, entry: Provided) -> None:
        plugin = native.NativePlugin(manifest, native.build_library(manifest, entry))
        for name, verbs in plugin.action_names():
            run = _native_action(plugin, name)
            for verb in (name, *verbs):
                self._add_action(manifest, verb, run)
        for name, input_types in plugin.qualifier_specs():
            apply = _native_qualifier(plugin, name)
            self._add_qualifier(manifest, entry, name, Qualifier(manifest.name, apply, input_types))

    def _add_python(self, manifest: Manifest, entry: Provided) -> None:
        module = python.load_module(manifest, entry)
        for export, func in python.exports(module):
            if export.kind == "action":
                run = _python_action(func)
                for verb in (export.name, *export.verbs):
                    self._add_action(manifest, verb, run)
            else:
                apply = python.as_qualifier(export, func)
                qualifier = Qualifier(manifest.name, apply, export.input_types)
                self._add_qualifier(manifest, entry, export.name, qualifier)

    def _add_action(self, manifest: Manifest, verb: str, run: Action) -> None:
        self.actions[(verb_key(manifest.handle), verb_key(verb))] = (manifest.name, run)

    def _add_qualifier(
        self, manifest: Manifest, entry: Provided, name: str, qualifier: Qualifier
    ) -> None:
        for namespace in {entry.handler or manifest.handle, manifest.handle}:
            self.qualifiers[f"{namespace}.{name}".lower()] = qualifier

    # -- what actions ask ---------------------------------------------------------------

    def call_action(self, call: ActionCall) -> Any:
        found = self.actions.get((verb_key(call.namespace), verb_key(call.verb)))
        if found is None:
            raise ActionError(f"Unknown action: {call.namespace}.{call.verb}")
        plugin, run = found
        try:
            answer = run(action_input(call))
        except ActionError:
            raise
        except Exception as error:  # a plugin's failure is the statement's, not ours
            problem = f"{type(error).__name__}: {error}"
            raise ActionError(f"Plugin '{plugin}' failed: {problem}") from None
        return answer

    def qualifier(self, name: str) -> Callable[[Any, Any], Any] | None:
        """The plugin qualifier ``handler.name`` (any case) as ``(value, params) -> value``,
        or None when no plugin provides it."""
        found = self.qualifiers.get(name.lower())
        if found is None:
            return None

        def apply(value: Any, params: Any) -> Any:
            kind = python.type_name(value)
            if found.input_types and kind not in found.input_types:
                expected = ", ".join(found.input_types)
                raise ActionError(f"Qualifier '{name}' expects {expected}, got {kind}")
            try:
                return found.apply(value, params)
            except ValueError as error:
                raise ActionError(f"Qualifier '{name}' failed: {error}") from None

        return apply


def action_input(call: ActionCall) -> dict[str, Any]:
    """What a plugin action reads: the object's value as ``data`` (and ``object``, and under
    its own name), the ``with`` map as ``_with`` (its keys also at the top, as older
    plugins read them), the result and source names, the preposition."""
    payload: dict[str, Any] = {}
    with_map = call.with_value if isinstance(call.with_value, dict) else {}
    payload.update(with_map)
    if call.object_value is not None:
        payload["data"] = payload["object"] = call.object_value
        if call.object_name:
            payload[call.object_name] = call.object_value
    payload["result"] = {"base": call.result, "specifiers": []}
    payload["source"] = {"base": call.object_name or "", "specifiers": []}
    payload["preposition"] = call.preposition or ""
    payload["_with"] = with_map
    return payload


def _native_action(plugin: native.NativePlugin, name: str) -> Action:
    def run(payload: dict[str, Any]) -> Any:
        answer = plugin.execute(name, payload)
        if isinstance(answer, dict) and "error" in answer:
            raise ActionError(f"Plugin '{plugin.manifest.name}': {answer['error']}")
        return answer

    return run


def _native_qualifier(plugin: native.NativePlugin, name: str) -> Callable[[Any, Any], Any]:
    def apply(value: Any, params: Any) -> Any:
        payload = {"value": value, "type": python.type_name(value)}
        if isinstance(params, dict):
            payload["_with"] = params
        answer = plugin.qualify(name, payload)
        if not isinstance(answer, dict) or "error" in answer:
            problem = answer.get("error") if isinstance(answer, dict) else answer
            raise ValueError(str(problem))
        return answer.get("result")

    return apply


def _python_action(func: Callable) -> Action:
    return lambda payload: func(api.PluginInput(payload))
