"""The public names of aro._speedups: for each extension (the codec, the lexer's scanner) both
builds define the same ones, the package exports them, and the compiled module's type stub
declares exactly them, with the pure build's parameters."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

import aro._speedups as package
from tests.support.codec import BUILDS, LEXER_BUILDS, load_build

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
LEXER_API = ["LEXER_IMPLEMENTATION", "CommonScanner"]
# Each extension's builds, public names and stub.
EXTENSIONS = {
    "codec": (BUILDS, API, "_codec.pyi"),
    "lexer": (LEXER_BUILDS, LEXER_API, "_lexer.pyi"),
}


def stub(extension: str) -> dict[str, ast.stmt]:
    """The stub's public top-level declarations by name."""
    path = Path(package.__file__).with_name(EXTENSIONS[extension][2])
    declared = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            declared[node.name] = node
        elif isinstance(node, ast.AnnAssign | ast.Assign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            declared.update((target.id, node) for target in targets)
    return {name: node for name, node in declared.items() if not name.startswith("_")}


def parameters(function: ast.FunctionDef) -> list[str]:
    arguments = function.args
    return [argument.arg for argument in arguments.posonlyargs + arguments.args]


@pytest.mark.parametrize("extension", list(EXTENSIONS))
@pytest.mark.parametrize("build", list(BUILDS))
def test_a_build_exports_the_api_and_defines_all_of_it(extension, build):
    builds, api, _ = EXTENSIONS[extension]
    module = load_build(build, builds)
    assert module.__all__ == api
    assert [name for name in api if not hasattr(module, name)] == []


@pytest.mark.parametrize(
    ("extension", "implementation"),
    [("codec", package.IMPLEMENTATION), ("lexer", package.LEXER_IMPLEMENTATION)],
)
def test_the_package_exports_its_build(extension, implementation):
    assert package.__all__ == API + LEXER_API
    builds, api, _ = EXTENSIONS[extension]
    module = importlib.import_module(builds[implementation])
    for name in api:
        assert getattr(package, name) is getattr(module, name), name


@pytest.mark.parametrize("extension", list(EXTENSIONS))
def test_the_stub_declares_exactly_the_api(extension):
    assert sorted(stub(extension)) == sorted(EXTENSIONS[extension][1])


@pytest.mark.parametrize("extension", list(EXTENSIONS))
def test_the_stub_has_the_pure_builds_parameters(extension):
    """Python can read the pure build's signatures (the compiled one's are C), so the stub's
    functions and public methods are held to those."""
    pure = load_build("pure", EXTENSIONS[extension][0])
    for name, node in stub(extension).items():
        if isinstance(node, ast.FunctionDef):
            assert parameters(node) == list(inspect.signature(getattr(pure, name)).parameters)
        elif isinstance(node, ast.ClassDef):
            for method in node.body:
                if isinstance(method, ast.FunctionDef):
                    real = getattr(getattr(pure, name), method.name)
                    expected = list(inspect.signature(real).parameters)
                    assert parameters(method) == expected, f"{name}.{method.name}"
