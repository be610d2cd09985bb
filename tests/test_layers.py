"""Imports point down the layers: lang < vm < actions < net < runtime < cli.

Every module under ``aro/`` is parsed (not imported), and every ``import`` in it counts: at
module level, inside functions, and under ``if TYPE_CHECKING:``, since each of them is a
dependency a reader and a refactoring have to respect.  ``net`` is transport only: it knows
nothing of the language, the VM, the actions or the runtime.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "aro"

#: Leaves: importable from anywhere, and themselves importing nothing of aro but their own
#: modules.  ``aro`` is the package root (``__version__``).
LEAVES = frozenset({"aro", "_speedups", "config", "plugin"})

#: What each layer may import besides itself and the leaves (so nothing but ``python -m aro``
#: imports the cli).
MAY_IMPORT: dict[str, frozenset[str]] = {
    "lang": frozenset(),
    "vm": frozenset({"lang"}),
    "actions": frozenset({"lang", "vm"}),
    "net": frozenset(),
    # knows nothing of ARO: starts processes and relays frames between them
    "supervisor": frozenset(),
    "runtime": frozenset({"lang", "vm", "actions", "net", "supervisor"}),
    "cli": frozenset({"lang", "vm", "actions", "net", "runtime", "supervisor"}),
    "__main__": frozenset({"cli"}),
    "reference": frozenset(),  # the guide's option table, from config
}


def layer_of(module: str) -> str:
    """``aro.vm.frame`` -> ``vm``; ``aro.cli`` -> ``cli``; ``aro`` -> ``aro``."""
    parts = module.split(".")
    assert parts[0] == "aro", module
    return parts[1] if len(parts) > 1 else "aro"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def aro_imports(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Every ``aro`` module a tree imports, wherever the import statement stands.

    ``from aro.net import server`` names ``aro.net.server`` (a submodule or a name: the layer
    is the same); relative imports are resolved against ``module``.
    """
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            found.update(_from_import(source, alias.name) for alias in node.names)
    return {name for name in found if name == "aro" or name.startswith("aro.")}


def _from_import(source: str, name: str) -> str:
    """What ``from source import name`` depends on: the submodule, or else ``source``."""
    if source != "aro":
        return f"{source}.{name}"  # a name or a submodule of it: the same layer either way
    is_module = (PACKAGE / name).is_dir() or (PACKAGE / f"{name}.py").is_file()
    return f"aro.{name}" if is_module else "aro"  # ``from aro import __version__``


def modules() -> list[tuple[str, Path]]:
    return sorted((module_name(path), path) for path in PACKAGE.rglob("*.py"))


def crossings() -> list[str]:
    """Every import that breaks the layer order, as ``importer -> imported``."""
    wrong = []
    for module, path in modules():
        own = layer_of(module)
        allowed = {own} if own in LEAVES else {own, *LEAVES, *MAY_IMPORT[own]}
        tree = ast.parse(path.read_text(), str(path))
        for imported in sorted(aro_imports(tree, module, path.name == "__init__.py")):
            if layer_of(imported) not in allowed:
                wrong.append(f"{module} -> {imported}")
    return wrong


def test_every_module_belongs_to_a_known_layer():
    unknown = {layer_of(module) for module, _ in modules()} - LEAVES - MAY_IMPORT.keys()
    assert not unknown, f"modules outside the layer table: {sorted(unknown)}"


def test_imports_point_down_the_layers():
    wrong = crossings()
    assert not wrong, "imports against the layer order:\n" + "\n".join(wrong)


@pytest.mark.parametrize(
    "source",
    [
        "import aro.vm.frame",
        "from aro.vm import frame",
        "def f():\n    from aro.vm.frame import Frame",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from aro.vm.frame import Frame",
        "from ...vm import frame",
        "from aro import vm",
    ],
)
def test_every_kind_of_import_is_seen(source):
    found = aro_imports(ast.parse(source), "aro.net.websocket.hub", is_package=False)
    assert {layer_of(name) for name in found} == {"vm"}
