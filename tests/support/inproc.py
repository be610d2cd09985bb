"""Run ARO source text in-process and capture what it prints."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass

import aro.actions  # noqa: F401 - registers every action
from aro.lang.compiler import compile_source
from aro.runtime.app import Application


@dataclass
class Outcome:
    stdout: str
    stderr: str
    exit_code: int

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()


def run_aro(source: str, parameters: dict | None = None, environ: dict | None = None) -> Outcome:
    program = compile_source(source, "test.aro")
    stdout, stderr = io.StringIO(), io.StringIO()
    app = Application(program, None, parameters or {}, environ or {}, stdout=stdout, stderr=stderr)
    exit_code = asyncio.run(app.run())
    return Outcome(stdout.getvalue(), stderr.getvalue(), exit_code)


def start(body: str) -> str:
    """Wrap statements into an Application-Start feature set."""
    return "(Application-Start: Test) {\n" + body + "\n}\n"
