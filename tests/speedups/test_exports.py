"""The public names of aro._speedups: both builds define the same ones, the package exports
them, and the compiled module's type stub declares exactly them, with the pure build's
parameters."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

import aro._speedups as package
from tests.support.codec import BUILDS, load_build

API = [
    "IMPLEMENTATION",
    "OP_BINARY",
    "OP_CLOSE",
    "OP_COMPRESSED_BINARY",
    "OP_COMPRESSED_TEXT",
    "OP_CONT",
    "OP_ERROR",
    "OP_PING",
    "OP_PONG",
    "OP_TEXT",
    "FeatureSetStats",
    "FrameParser",
    "JsonShaper",
    "Outbox",
    "apply_mask",
    "encode_close",
    "encode_frame",
    "step_in_context",
    "validate_utf8",
]
STUB = Path(package.__file__).with_name("_codec.pyi")
PURE = load_build("pure")


def stub() -> dict[str, ast.stmt]:
    """The stub's public top-level declarations by name."""
    declared = {}
    for node in ast.parse(STUB.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            declared[node.name] = node
        elif isinstance(node, ast.AnnAssign | ast.Assign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            declared.update((target.id, node) for target in targets)
    return {name: node for name, node in declared.items() if not name.startswith("_")}


def parameters(function: ast.FunctionDef) -> list[str]:
    arguments = function.args
    return [argument.arg for argument in arguments.posonlyargs + arguments.args]


@pytest.mark.parametrize("build", list(BUILDS))
def test_a_build_exports_the_api_and_defines_all_of_it(build):
    module = load_build(build)
    assert module.__all__ == API
    assert [name for name in API if not hasattr(module, name)] == []


def test_the_package_exports_its_build():
    assert package.__all__ == API
    implementation = importlib.import_module(BUILDS[package.IMPLEMENTATION])
    for name in API:
        assert getattr(package, name) is getattr(implementation, name), name


def test_the_stub_declares_exactly_the_api():
    assert sorted(stub()) == sorted(API)


def test_the_stub_has_the_pure_builds_parameters():
    """Python can read the pure build's signatures (the compiled one's are C), so the stub's
    functions and public methods are held to those."""
    for name, node in stub().items():
        if isinstance(node, ast.FunctionDef):
            assert parameters(node) == list(inspect.signature(getattr(PURE, name)).parameters)
        elif isinstance(node, ast.ClassDef):
            for method in node.body:
                if isinstance(method, ast.FunctionDef):
                    real = getattr(getattr(PURE, name), method.name)
                    expected = list(inspect.signature(real).parameters)
                    assert parameters(method) == expected, f"{name}.{method.name}"
