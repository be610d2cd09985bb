"""Compile speed of a 1,000-statement application, cold and from the compile cache.

Run: python -m pytest bench/test_bench_compile.py --benchmark-enable
(divide by 1,000 for the cost per statement; the target is at most 20 µs).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from aro.runtime.loader import load_program
from bench.test_bench_lang import program_source

STATEMENTS = 1000


@pytest.fixture
def app(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    root.mkdir()
    (root / "main.aro").write_text(program_source(STATEMENTS))
    return root


def test_load_1000_statements_cold(benchmark, app: Path) -> None:
    program = benchmark(load_program, app, None)
    assert len(program.code_objects[0].statements) == STATEMENTS


def test_load_1000_statements_from_the_cache(benchmark, app: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_program(app, cache)
    program = benchmark(load_program, app, cache)
    assert len(program.code_objects[0].statements) == STATEMENTS
