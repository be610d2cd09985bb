"""Writing a Python plugin for aro-py.

A Python plugin runs inside the aro-py process: its functions are called directly with ARO
values (dicts, lists, strings, numbers) and what they return is used as is, with no
subprocess and no serialization.  A plugin is a folder under ``Plugins/`` with a
``plugin.yaml``::

    name: plugin-python-greeter
    handle: Greeter            # actions are called as Greeter.<Verb>
    provides:
      - type: python-plugin
        path: src/             # holds plugin.py
        handler: greeter       # qualifiers are used as <x: greeter.<name>>

and a ``src/plugin.py`` that marks its functions::

    from aro.plugin import PluginInput, action, qualifier

    @action("Hello", verbs=["hi"])           # Greeter.Hello or Greeter.Hi
    def hello(call: PluginInput) -> dict:
        return {"greeting": f"Hello, {call.string('data')}!"}

    @qualifier("shout", input_types=["String"])
    def shout(value: str, params: dict) -> str:
        return value.upper()

An action gets a :class:`PluginInput` (the object's value under ``data``, the ``with``
map under ``_with``, the result and object names, the preposition) and returns the result:
a dict is what the statement binds.  A qualifier gets the value and the ``with`` map and
returns the new value; raising ``ValueError`` reports an error.

Plugins written for the reference runtime's Python SDK (``from aro_plugin_sdk import
action, qualifier, plugin, AROInput, export_abi, run``) load unchanged: this module is
also importable under that name while aro-py loads plugins, and the SDK's forms (an action
taking an ``AROInput``, a qualifier answering ``{"result": …}`` or ``{"error": …}``) are
accepted.

This module is a leaf: it imports nothing of aro-py, so a plugin depends on nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: The attribute that marks a function as a plugin action or qualifier.
MARK = "__aro_plugin__"


@dataclass(frozen=True, slots=True)
class Export:
    """What a marked function provides: ``kind`` is ``action`` or ``qualifier``; ``style``
    is ``aro`` (this module's calling convention) or ``sdk`` (the reference SDK's)."""

    kind: str
    name: str
    verbs: tuple[str, ...] = ()
    input_types: tuple[str, ...] = ()
    style: str = "aro"
    description: str = ""


class PluginInput(dict):
    """An action's input: a dict with typed readers (the SDK's ``AROInput``)."""

    def string(self, key: str, default: str = "") -> str:
        value = self.get(key, default)
        return value if isinstance(value, str) else default

    def int(self, key: str, default: int = 0) -> int:
        value = self.get(key, default)
        return value if isinstance(value, int) and not isinstance(value, bool) else default

    def number(self, key: str, default: float = 0.0) -> float:
        value = self.get(key, default)
        return value if isinstance(value, int | float) and not isinstance(value, bool) else default

    def bool(self, key: str, default: bool = False) -> bool:
        value = self.get(key, default)
        return value if isinstance(value, bool) else default

    @property
    def with_(self) -> Mapping[str, Any]:
        """The statement's ``with`` map (empty when it has none)."""
        value = self.get("_with")
        return value if isinstance(value, dict) else {}


#: The reference SDK's name for the input.
AROInput = PluginInput


def _mark(export: Export) -> Callable[[Callable], Callable]:
    def register(func: Callable) -> Callable:
        setattr(func, MARK, export)
        return func

    return register


def action(
    name: str,
    verbs: Iterable[str] = (),
    *,
    role: str = "own",
    prepositions: Iterable[str] = (),
    description: str = "",
) -> Callable[[Callable], Callable]:
    """Mark ``func(input: PluginInput) -> Any`` as the action ``<Handle>.<name>`` (and
    ``<Handle>.<verb>`` for each verb; names match without case or ``-``)."""
    del role, prepositions  # the SDK's metadata; aro-py accepts every preposition
    return _mark(Export("action", name, tuple(verbs), description=description))


def qualifier(
    name: str,
    input_types: Iterable[str] = (),
    *,
    description: str = "",
    style: str | None = None,
) -> Callable[[Callable], Callable]:
    """Mark ``func(value, params) -> value`` as the qualifier ``<handler>.<name>``;
    ``input_types`` (``List``, ``String``, ``Int``, ``Double``, ``Bool``, ``Object``)
    restricts what it accepts.  A function of one parameter is the SDK's form: it gets a
    ``PluginInput`` with ``value`` and ``type`` and answers ``{"result": …}`` or
    ``{"error": …}``."""
    return lambda func: _mark(
        Export(
            "qualifier",
            name,
            input_types=tuple(input_types),
            style=style or _qualifier_style(func),
            description=description,
        )
    )(func)


def _qualifier_style(func: Callable) -> str:
    code = getattr(func, "__code__", None)
    return "sdk" if code is not None and code.co_argcount == 1 else "aro"


@dataclass
class PluginIdentity:
    """``@plugin(name=…, version=…, handle=…)`` on a class: the SDK's declaration."""

    name: str = ""
    version: str = ""
    handle: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def plugin(name: str = "", version: str = "", handle: str = "", **extra: Any) -> Callable:
    """The SDK's plugin declaration; plugin.yaml says the same, so it is only recorded."""

    def declare(cls: type) -> type:
        cls.__aro_identity__ = PluginIdentity(name, version, handle, extra)  # type: ignore[attr-defined]
        return cls

    return declare


def export_abi(namespace: Mapping[str, Any]) -> None:
    """The SDK writes JSON entry points for an out-of-process host here; in process there is
    nothing to export."""
    del namespace


def run() -> None:
    """The SDK's command-line loop for an out-of-process host; unused in process."""
