"""``aro test``: Given/When/Then/Assert, the report, the exit status, ``--filter``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from aro.actions.testing import checks_equal
from aro.runtime.testing import duration_text

CALCULATOR = """
(Application-Start: Calc) {
    Log "never runs under aro test" to the <console>.
    Return an <OK: status> for the <startup>.
}

(add-numbers: Calculator) {
    Compute the <sum> from <a> + <b>.
    Return an <OK: status> with <sum>.
}

(Counter: Calculator) {
    Compute the <double> from <a> * 2.
}

(adds-small: Calculator Test) {
    Given the <a> with 2.
    Given the <b> with 3.
    When the <sum> from the <add-numbers>.
    Then the <sum> with 5.
}

(adds-wrong: Calculator Test) {
    Given the <a> with 2.
    Given the <b> with 2.
    When the <sum> from the <add-numbers>.
    Then the <sum> with 5.
}

(asserts-text: Calculator Tests) {
    Given the <word> with "ok".
    Assert the <word> for "no".
}

(reads-callee-variable: Calculator Test) {
    Given the <a> with 21.
    When the <double> from the <counter>.
    Assert the <double> with 42.
}

(runs-missing: Calculator Test) {
    When the <x> from the <no-such-feature>.
}
"""


def aro_test(app: Path, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "aro", "test", str(app), *options],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )


@pytest.fixture
def calculator(tmp_path: Path) -> Path:
    (tmp_path / "main.aro").write_text(CALCULATOR)
    return tmp_path


def test_report_lists_every_outcome_and_exits_1(calculator: Path) -> None:
    result = aro_test(calculator)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[:3] == ["", "=== ARO Test Results ===", ""]
    assert lines[3].startswith("  PASS  adds-small (")
    assert lines[4:6] == ["  FAIL  adds-wrong", "        Expected sum to be 5, but was 4"]
    assert lines[6:8] == [
        "  FAIL  asserts-text",
        "        Assertion failed: word is ok, expected no",
    ]
    assert lines[8].startswith("  PASS  reads-callee-variable (")
    assert lines[9] == "  ERROR runs-missing"
    assert "no-such-feature" in lines[10]
    assert lines[11:] == [
        "", "------------------------", "Total:  5", "Passed: 2", "Failed: 2", "Errors: 1",
        "", "Some tests failed.", "",
    ]  # fmt: skip
    assert "never runs" not in result.stdout
    assert "\x1b[" not in result.stdout  # no colours without a terminal


def test_filter_keeps_matching_names_and_passes(calculator: Path) -> None:
    result = aro_test(calculator, "--filter", "ADDS-S")
    assert result.returncode == 0, result.stdout
    assert "PASS  adds-small" in result.stdout
    assert "adds-wrong" not in result.stdout
    assert result.stdout.splitlines()[-4:] == ["Failed: 0", "", "All tests passed!", ""]


def test_tests_see_the_store_files_seeded(tmp_path: Path) -> None:
    (tmp_path / "products.store").write_text("- id: p1\n  name: Widget\n")
    (tmp_path / "main.aro").write_text(
        "(Application-Start: Shop) { Return an <OK: status> for the <startup>. }\n"
        "(has-seed: Shop Test) {\n"
        "    Retrieve the <widget> from the <products-repository> where <id> is \"p1\".\n"
        "    Extract the <name> from the <widget: name>.\n"
        "    Assert the <name> for \"Widget\".\n}\n"
    )
    result = aro_test(tmp_path)
    assert result.returncode == 0, result.stdout
    assert "PASS  has-seed" in result.stdout


def test_an_app_without_tests_says_how_to_write_one(tmp_path: Path) -> None:
    (tmp_path / "main.aro").write_text('(Application-Start: Demo) { Log "x" to the <console>. }\n')
    result = aro_test(tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("No tests found.\nTests are feature sets")


def test_when_outside_a_test_run_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "main.aro").write_text(
        "(Application-Start: Demo) {\n    When the <x> from the <other>.\n}\n(other: B) { }\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "aro", "run", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert result.returncode == 1
    assert "Cannot when the x from the other." in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("actual", "expected", "equal"),
    [
        (5, 5, True),
        (5, 5.00001, True),
        (0.1 + 0.2, 0.3, True),
        (5, 6, False),
        ("a", "a", True),
        (True, True, True),
        (True, 1, False),
        ([1, 2], [1, 2], True),
        ({"a": 1}, {"a": 2}, False),
    ],
)
def test_checks_compare_numbers_with_a_tolerance(actual: object, expected: object, equal: bool):
    assert checks_equal(actual, expected) is equal


def test_durations_read_like_the_reference() -> None:
    assert [duration_text(s) for s in (0.0004, 0.0123, 2.5)] == ["<1ms", "12ms", "2.50s"]
