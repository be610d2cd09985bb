"""``aro test``: find the test feature sets, run each in isolation, report like the reference.

A test is a feature set whose business activity ends in ``Test`` or ``Tests``.  Each runs in
a fresh Application (its own repositories and events) whose ``testing`` capability lets the
When step run any feature set of the program with the test's variables.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from aro.lang.bytecode import CodeObject, Program
from aro.runtime.app import Application
from aro.runtime.dispatch import error_text
from aro.runtime.plugins import PluginSet
from aro.vm.errors import ActionError, AroError, AssertionFailed, StatementError
from aro.vm.frame import Frame

TEST_SUFFIXES = ("Test", "Tests")
PASSED, FAILED, ERROR = "PASS", "FAIL", "ERROR"
RULE = "-" * 24
COLORS = {
    "green": "\x1b[32m",
    "red": "\x1b[31m",
    "gray": "\x1b[90m",
    "yellow": "\x1b[33m",
    "bold": "\x1b[1m",
}
RESET = "\x1b[0m"
NO_TESTS_HINT = (
    "No tests found.\n"
    "Tests are feature sets with business activity ending in 'Test' or 'Tests'.\n"
    "Example: (Add Numbers: Calculator Test) { ... }\n"
)


def is_test(code: CodeObject) -> bool:
    return code.activity.endswith(TEST_SUFFIXES)


def select_tests(program: Program, name_filter: str | None) -> list[CodeObject]:
    """The program's tests in program order; ``name_filter`` keeps names containing it (any
    case)."""
    tests = [code for code in program.code_objects if is_test(code)]
    if name_filter:
        wanted = name_filter.casefold()
        tests = [code for code in tests if wanted in code.name.casefold()]
    return tests


@dataclass(frozen=True, slots=True)
class TestOutcome:
    name: str
    status: str  # PASSED, FAILED or ERROR
    seconds: float
    message: str = ""


class FeatureSetRunner:
    """The ``testing`` capability: runs feature sets by name for When."""

    def __init__(self, program: Program, services: Application) -> None:
        self.by_name = {code.name: code for code in program.code_objects}
        self.services = services

    def find(self, name: str) -> CodeObject | None:
        """Exact name, else with ``-`` read as a space, else either of them in any case."""
        spaced = name.replace("-", " ")
        for candidate in (name, spaced):
            if candidate in self.by_name:
                return self.by_name[candidate]
        wanted = {name.casefold(), spaced.casefold()}
        return next((code for key, code in self.by_name.items() if key.casefold() in wanted), None)

    async def run_feature_set(self, name: str, caller: Frame) -> Frame:
        code = self.find(name)
        if code is None:
            raise ActionError(f"Feature set not found: {name}")
        callee = Frame(code, self.services, bindings=caller.visible_names())
        await self.services.executions.run(callee)
        return callee


async def run_test(
    program: Program, code: CodeObject, make_app: Callable[[], Application]
) -> TestOutcome:
    """One test in a fresh application: PASS, FAIL (a check failed) or ERROR (anything
    else went wrong)."""
    app = make_app()
    await app.open_repositories()  # the store, seeded from the .store files, as a run has it
    try:
        return await _run_in(app, program, code)
    finally:
        await app.repositories.close()


async def _run_in(app: Application, program: Program, code: CodeObject) -> TestOutcome:
    app.testing = FeatureSetRunner(program, app)
    frame = Frame(code, app)
    app.bus.bind(app, frame)
    started = time.perf_counter()
    try:
        await app.executions.run(frame)
        await app.bus.idle()
    except StatementError as error:
        seconds = time.perf_counter() - started
        if isinstance(error.cause, AssertionFailed):
            return TestOutcome(code.name, FAILED, seconds, str(error.cause))
        return TestOutcome(code.name, ERROR, seconds, error_text(error))
    except AroError as error:
        return TestOutcome(code.name, ERROR, time.perf_counter() - started, error_text(error))
    return TestOutcome(code.name, PASSED, time.perf_counter() - started)


async def run_tests(
    program: Program,
    tests: Iterable[CodeObject],
    root: Path | None,
    plugins: PluginSet,
    out: TextIO,
) -> list[TestOutcome]:
    """Run ``tests`` one after the other, each in its own Application (sharing the plugins,
    loaded once)."""

    def make_app() -> Application:
        return Application(program, root, stdout=out, plugins=plugins)

    return [await run_test(program, code, make_app) for code in tests]


def duration_text(seconds: float) -> str:
    if seconds < 0.001:
        return "<1ms"
    if seconds < 1:
        return f"{int(seconds * 1000)}ms"
    return f"{seconds:.2f}s"


class Reporter:
    """The reference's report: one line per test, a summary, a verdict; colours on request."""

    def __init__(self, out: TextIO, colors: bool) -> None:
        self.out = out
        self.colors = colors

    def paint(self, color: str, text: str) -> str:
        return f"{COLORS[color]}{text}{RESET}" if self.colors else text

    def line(self, text: str = "") -> None:
        self.out.write(text + "\n")

    def report(self, outcomes: list[TestOutcome]) -> None:
        self.line()
        self.line(self.paint("bold", "=== ARO Test Results ==="))
        self.line()
        for outcome in outcomes:
            self.outcome(outcome)
        self.summary(outcomes)

    def outcome(self, outcome: TestOutcome) -> None:
        if outcome.status == PASSED:
            duration = self.paint("gray", f" ({duration_text(outcome.seconds)})")
            self.line(f"  {self.paint('green', PASSED)}  {outcome.name}{duration}")
            return
        gap = "  " if outcome.status == FAILED else " "
        self.line(f"  {self.paint('red', outcome.status)}{gap}{outcome.name}")
        self.line("        " + self.paint("red", outcome.message))

    def summary(self, outcomes: list[TestOutcome]) -> None:
        passed = sum(outcome.status == PASSED for outcome in outcomes)
        failed = sum(outcome.status == FAILED for outcome in outcomes)
        errors = sum(outcome.status == ERROR for outcome in outcomes)
        bad = failed + errors > 0
        self.line()
        self.line(RULE)
        self.line("Total:  " + self.paint("red" if bad else "green", str(len(outcomes))))
        self.line("Passed: " + self.paint("green", str(passed)))
        self.line("Failed: " + (self.paint("red", str(failed)) if failed else "0"))
        if errors:
            self.line("Errors: " + self.paint("red", str(errors)))
        self.line()
        if bad:
            self.line(self.paint("red", "Some tests failed."))
        elif not outcomes:
            self.line(self.paint("yellow", "No tests found."))
        else:
            self.line(self.paint("green", "All tests passed!"))
        self.line()
