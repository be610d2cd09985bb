"""The two builds of aro._speedups (compiled and pure Python) and what their tests feed them."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType

import pytest

from aro.vm import values

# The build's short name (a test id) -> its module.
BUILDS = {"compiled": "aro._speedups._codec", "pure": "aro._speedups._pure"}
LEXER_BUILDS = {"compiled": "aro._speedups._lexer", "pure": "aro._speedups._pure_lexer"}
MASK = b"\x37\xfa\x21\x3d"


def load_build(build: str, builds: dict[str, str] = BUILDS) -> ModuleType:
    """The module of ``build`` (of the codec, or of ``builds``' extension); the compiled one is
    skipped where it was not built."""
    if build == "compiled":
        return pytest.importorskip(builds[build], reason="compiled extension not built")
    return importlib.import_module(builds[build])


def client_frame(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    rsv: int = 0,
    mask: bytes | None = MASK,
    length_bytes: int | None = None,
) -> bytes:
    """A frame as a client sends it: masked with ``mask`` (None: unmasked); ``rsv`` is OR-ed
    into the first byte; ``length_bytes`` (0, 2 or 8) forces the length encoding."""
    size = len(payload)
    if length_bytes is None:
        length_bytes = 0 if size < 126 else 2 if size < 0x10000 else 8
    first = (0x80 if fin else 0) | rsv | opcode
    masked = 0x80 if mask is not None else 0
    marker = {0: size, 2: 126, 8: 127}[length_bytes]
    extended = size.to_bytes(length_bytes, "big") if length_bytes else b""
    header = bytes((first, masked | marker)) + extended
    if mask is None:
        return header + payload
    keyed = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
    return header + mask + keyed


def shaper(build: ModuleType) -> Callable[[object], object]:
    """``build``'s JsonShaper set up the way aro.vm.values sets up its own."""
    return build.JsonShaper(values.foundation_order, values.json_leaf)
