"""Helpers for action tests: compile a feature-set body, run it with fake services."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Mapping
from typing import Any

import pytest

import aro.actions  # noqa: F401  (registers every verb)
from aro.lang.compiler import compile_source
from aro.vm.frame import Frame, Response
from aro.vm.machine import execute, linked


class FakeRepository:
    def __init__(self, name: str) -> None:
        self.name = name
        self.options: dict[str, Any] = {}

    def configure(self, option: str, value: Any) -> None:
        self.options[option] = value


class FakeRepositories(dict):
    """Repositories by name, each made on first ``get``."""

    suspends = False

    def get(self, name: str) -> FakeRepository:
        return self.setdefault(name, FakeRepository(name))


class FakeServices:
    """Records what actions ask of the application."""

    def __init__(
        self, environ: Mapping[str, str] | None = None, parameters: Mapping[str, Any] | None = None
    ) -> None:
        self.environ = dict(environ or {})
        self.parameters = dict(parameters or {})
        self.logs: list[tuple[str, str, str]] = []
        self.publications: list[tuple[str, Any, str]] = []
        self.repositories = FakeRepositories()
        self.console = self.events = self  # the capabilities it records

    def log(self, feature: str, message: str, stream: str = "stdout") -> None:
        self.logs.append((feature, message, stream))

    def publish(self, alias: str, value: Any, activity: str) -> None:
        self.publications.append((alias, value, activity))

    def published(self, activity: str) -> Mapping[str, Any]:
        return {}

    def magic(self, name: str, specifiers: tuple[str, ...]) -> Any:
        raise KeyError(name)

    @property
    def messages(self) -> list[str]:
        return [message for _, message, _ in self.logs]


def _code(body: str):
    program = compile_source(f"(Test: Action Demo) {{\n{body}\n}}\n", "test.aro")
    return program.code_objects[0]


class Run:
    """The outcome of running a body: its frame, services and response."""

    def __init__(self, frame: Frame, services: FakeServices, response: Response) -> None:
        self.frame = frame
        self.services = services
        self.response = response

    def __getitem__(self, name: str) -> Any:
        return self.frame.lookup(name)


@pytest.fixture
def services():
    """``services(environ=…, parameters=…)`` makes a FakeServices."""
    return FakeServices


@pytest.fixture
def run():
    """``run(body, services=None, bindings=None)`` executes the statements and returns a ``Run``."""

    def run_body(
        body: str, services: FakeServices | None = None, bindings: dict | None = None
    ) -> Run:
        services = services or FakeServices()
        frame = Frame(_code(body), services, bindings=bindings)
        response = asyncio.run(execute(frame))
        return Run(frame, services, response)

    return run_body


@pytest.fixture
def last():
    """``last(body, services=None, bindings=None)`` runs every statement but the last, then
    calls the last statement's action directly and returns what it returned (whatever the
    binding rules would do with it)."""

    def call_last(
        body: str, services: FakeServices | None = None, bindings: dict | None = None
    ) -> Any:
        code = _code(body)
        _, index = code.instructions.pop()
        frame = Frame(code, services or FakeServices(), bindings=bindings)
        asyncio.run(execute(frame))
        plan = linked(code).plans[index]
        value = plan.func(plan, frame)
        return asyncio.run(value) if inspect.isawaitable(value) else value

    return call_last
