"""Fixtures for action tests: a feature set's statements run with fake services."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from tests.support.inproc import BodyRun, call_last, run_body


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


class FakeKeyboard:
    """Counts what Listen and Stop ask of the keyboard."""

    def __init__(self) -> None:
        self.listens = 0
        self.stops = 0

    def listen(self) -> None:
        self.listens += 1

    def stop(self) -> None:
        self.stops += 1


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
        self.qualifiers = self
        self.keyboard = FakeKeyboard()

    def qualifier(self, name: str) -> None:
        return None  # no plugins

    def log(self, feature: str, message: str, stream: str = "stdout") -> None:
        self.logs.append((feature, message, stream))

    def publish(self, alias: str, value: Any, activity: str) -> None:
        self.publications.append((alias, value, activity))

    published: dict[str, dict[str, Any]] = {}  # nothing published (never written)

    def magic(self, name: str, specifiers: tuple[str, ...]) -> Any:
        raise KeyError(name)

    @property
    def messages(self) -> list[str]:
        return [message for _, message, _ in self.logs]


@pytest.fixture
def services():
    """``services(environ=…, parameters=…)`` makes a FakeServices."""
    return FakeServices


@pytest.fixture
def run():
    """``run(body, services=None, bindings=None)`` executes the statements and returns a
    ``BodyRun`` (tests/support/inproc.py)."""

    def run_with_fakes(
        body: str, services: FakeServices | None = None, bindings: dict | None = None
    ) -> BodyRun:
        return run_body(body, services or FakeServices(), bindings)

    return run_with_fakes


@pytest.fixture
def last():
    """``last(body, services=None, bindings=None)``: ``call_last`` (tests/support/inproc.py)
    with fake services unless given."""

    def call_last_with_fakes(
        body: str, services: FakeServices | None = None, bindings: dict | None = None
    ) -> Any:
        return call_last(body, services or FakeServices(), bindings)

    return call_last_with_fakes
