"""Helpers for runtime tests: run a whole ARO program through the Application."""

from __future__ import annotations

import asyncio
import io
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

RunApp = Callable[..., tuple[int, list[str]]]


@pytest.fixture
def run_app() -> RunApp:
    """``run_app(source, root=None)``: compile the (dedented) source as the app's only file,
    run it, and answer (exit code, stdout lines).  Imports late so that the unit tests of this
    package do not depend on the compiler."""
    import aro.actions  # noqa: F401  (registers every verb)
    from aro.lang.compiler import compile_source
    from aro.runtime.app import Application

    def run(source: str, root: Path | None = None) -> tuple[int, list[str]]:
        out, err = io.StringIO(), io.StringIO()
        program = compile_source(textwrap.dedent(source), "main.aro")
        app = Application(program, root=root, stdout=out, stderr=err)
        code = asyncio.run(asyncio.wait_for(app.run(), timeout=10))
        return code, out.getvalue().splitlines()

    return run
