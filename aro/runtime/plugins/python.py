"""Python plugins, run in this process (``aro.plugin`` says how to write one).

The module is imported with importlib under a name of its own (two plugins may both call
their file ``plugin.py``); ``aro_plugin_sdk`` resolves to ``aro.plugin`` so plugins written
for the reference runtime's SDK load unchanged.  Actions and qualifiers are the module's
functions marked by ``aro.plugin``'s decorators, called directly with ARO values.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import aro.plugin as api
from aro.runtime.plugins.manifest import Manifest, Provided

SDK_MODULE = "aro_plugin_sdk"
DEFAULT_MODULES = ("plugin.py", "__init__.py", "main.py")


def module_file(manifest: Manifest, entry: Provided) -> Path:
    """The entry's module: ``module:`` when given, else ``plugin.py`` (or ``__init__.py``,
    ``main.py``) in its path, else its only ``.py`` file."""
    if entry.path.is_file():
        return entry.path
    named = entry.settings.get("module")
    candidates = [named] if named else list(DEFAULT_MODULES)
    for name in candidates:
        if (entry.path / name).is_file():
            return entry.path / name
    files = sorted(entry.path.glob("*.py"))
    if len(files) == 1 and not named:
        return files[0]
    raise manifest.error(f"python-plugin path {entry.path} has no plugin.py")


def load_module(manifest: Manifest, entry: Provided) -> ModuleType:
    file = module_file(manifest, entry)
    sys.modules.setdefault(SDK_MODULE, api)
    name = f"aro_plugins.{manifest.name.replace('-', '_')}.{file.stem}"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise manifest.error(f"cannot import {file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # as an import would: dataclasses and pickling look it up
    sys.path.insert(0, str(file.parent))  # the plugin's own helper modules
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # any failure of foreign code is this plugin's load error
        del sys.modules[name]
        problem = " ".join(f"{type(error).__name__}: {error}".split())
        raise manifest.error(f"cannot load {file.name}: {problem}") from None
    finally:
        sys.path.remove(str(file.parent))
    return module


def exports(module: ModuleType) -> list[tuple[api.Export, Callable]]:
    """The module's marked functions, in definition order."""
    found = []
    for value in vars(module).values():
        export = getattr(value, api.MARK, None)
        if isinstance(export, api.Export) and callable(value):
            found.append((export, value))
    return found


def as_qualifier(export: api.Export, func: Callable) -> Callable[[Any, Any], Any]:
    """A qualifier as ``(value, params) -> value``; errors raise ValueError."""
    if export.style == "aro":
        return func

    def sdk_qualifier(value: Any, params: Any) -> Any:
        answer = func(api.PluginInput(value=value, type=type_name(value), _with=params or {}))
        if isinstance(answer, dict) and "error" in answer:
            raise ValueError(str(answer["error"]))
        return answer.get("result") if isinstance(answer, dict) else answer

    return sdk_qualifier


def type_name(value: Any) -> str:
    """The ARO type a qualifier's ``inputTypes`` name."""
    if isinstance(value, bool):
        return "Bool"
    if isinstance(value, int):
        return "Int"
    if isinstance(value, float):
        return "Double"
    if isinstance(value, str):
        return "String"
    if isinstance(value, list):
        return "List"
    return "Object"
