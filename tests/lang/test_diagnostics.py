"""How a diagnostic reads: position, message, the source line with a caret, then its hints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from aro.lang.ast import Span
from aro.lang.diagnostics import Diagnostic

REBIND_APP = "(Application-Start: T) {\n    Create the <x> with 1.\n    Create the <x> with 2.\n}\n"


def test_hints_follow_the_caret() -> None:
    diagnostic = Diagnostic(
        "error", "Cannot rebind", Span("a.aro", 2, 5), "\tLog <x>.", ("first", "second")
    )
    assert str(diagnostic).splitlines() == [
        "a.aro:2:5: error: Cannot rebind",
        "\tLog <x>.",
        "\t   ^",
        "  hint: first",
        "  hint: second",
    ]


def test_hints_without_a_source_line_follow_the_message() -> None:
    diagnostic = Diagnostic("error", "Cannot rebind", Span("a.aro", 1, 1), hints=("only",))
    assert str(diagnostic) == "a.aro:1:1: error: Cannot rebind\n  hint: only"


def test_aro_check_prints_the_hints(tmp_path: Path) -> None:
    (tmp_path / "main.aro").write_text(REBIND_APP)
    result = subprocess.run(
        [sys.executable, "-m", "aro", "check", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{tmp_path / 'main.aro'}:3:17: error: Cannot rebind variable 'x' - variables are "
        "immutable",
        "    Create the <x> with 2.",
        "                ^",
        "  hint: Variable 'x' was already defined earlier in this feature set",
        "  hint: Create a new variable with a different name instead",
        "❌ 1 error(s) found",
    ]
