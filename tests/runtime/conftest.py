"""Fixtures for runtime tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.inproc import run_program

RunApp = Callable[..., tuple[int, list[str]]]


@pytest.fixture
def run_app() -> RunApp:
    """``run_app(source, root=None)``: run the program in-process (tests/support/inproc.py)
    and answer (exit code, stdout lines)."""

    def run(source: str, root: Path | None = None) -> tuple[int, list[str]]:
        outcome = run_program(source, root=root)
        return outcome.exit_code, outcome.lines

    return run
