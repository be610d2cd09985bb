"""Compile ARO source text and run it in this process: a whole program through the Application,
or one feature set's statements straight on the VM with services the test provides."""

from __future__ import annotations

import asyncio
import inspect
import io
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aro.actions  # noqa: F401 - registers every action
from aro.lang.bytecode import CodeObject
from aro.lang.compiler import compile_source
from aro.runtime.app import Application
from aro.vm.frame import Frame, Response
from aro.vm.machine import execute, linked

PROGRAM_TIMEOUT = 10.0  # seconds; a program that waits for events forever fails instead of hanging


@dataclass(frozen=True)
class Outcome:
    stdout: str
    stderr: str
    exit_code: int

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()


def run_program(
    source: str,
    *,
    root: Path | None = None,
    parameters: dict | None = None,
    environ: dict | None = None,
) -> Outcome:
    """Compile the (dedented) source as the app's only file and run it to its end. ``root``
    is the app directory (store files, templates); the environment is empty unless given."""
    program = compile_source(textwrap.dedent(source), "main.aro")
    stdout, stderr = io.StringIO(), io.StringIO()
    app = Application(program, root, parameters or {}, environ or {}, stdout=stdout, stderr=stderr)
    exit_code = asyncio.run(asyncio.wait_for(app.run(), PROGRAM_TIMEOUT))
    return Outcome(stdout.getvalue(), stderr.getvalue(), exit_code)


def start(body: str) -> str:
    """Wrap statements into an Application-Start feature set."""
    return "(Application-Start: Test) {\n" + body + "\n}\n"


@dataclass(frozen=True)
class BodyRun:
    """What running a feature set's statements left: its frame, services and response."""

    frame: Frame
    services: Any
    response: Response

    def __getitem__(self, name: str) -> Any:
        return self.frame.lookup(name)


def run_body(body: str, services: Any, bindings: dict | None = None) -> BodyRun:
    """Run the statements as the feature set ``(Test: Action Demo)`` with ``services``."""
    frame = Frame(_feature_set(body), services, bindings=bindings)
    response = asyncio.run(execute(frame))
    return BodyRun(frame, services, response)


def call_last(body: str, services: Any, bindings: dict | None = None) -> Any:
    """Run every statement but the last, then call the last statement's action directly and
    answer what it returned (whatever the binding rules would do with it)."""
    code = _feature_set(body)
    _, index = code.instructions.pop()
    frame = Frame(code, services, bindings=bindings)
    asyncio.run(execute(frame))
    plan = linked(code).plans[index]
    value = plan.func(plan, frame)
    return asyncio.run(value) if inspect.isawaitable(value) else value


def _feature_set(body: str) -> CodeObject:
    program = compile_source(f"(Test: Action Demo) {{\n{body}\n}}\n", "test.aro")
    return program.code_objects[0]
