"""Run every console example under examples/ and compare it with its expected.txt.

An example is a folder directly under examples/ that holds an ``expected.txt`` and no
``openapi.yaml`` (HTTP applications are tested elsewhere). Next to ``expected.txt``:

* ``args``: the application's command-line arguments, on one line;
* ``env``: extra environment variables, one ``KEY=VALUE`` per line;
* ``exit-code``: the expected exit status when it is not 0;
* ``command``: the ``aro`` command to run it with when it is not ``run`` (``test`` runs its
  test feature sets; the durations in its report are compared as ``(<1ms)``).

A folder whose ``.aro`` files all live in subfolders (``Twins/bracketed``, ``Twins/bare``)
holds variants of one program: each subfolder is run on its own and compared with the
shared ``expected.txt``. A variant may override ``args``, ``env`` and ``exit-code``.

The whole stdout must equal ``expected.txt`` byte for byte; stderr is never compared.
"""

from __future__ import annotations

import difflib
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
TIMEOUT_S = 30
TRACEBACK_MARKER = "Traceback (most recent call last)"
#: A test report's durations depend on the machine's load: compared as the fastest.
TEST_DURATION = re.compile(r" \((?:<1ms|\d+ms|\d+\.\d\ds)\)$", re.MULTILINE)


@dataclass(frozen=True)
class ExampleCase:
    case_id: str
    app_dir: Path
    expected_file: Path
    args: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    exit_code: int
    command: str


def _first_existing(name: str, *folders: Path) -> Path | None:
    for folder in folders:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def _read_args(path: Path | None) -> tuple[str, ...]:
    if path is None:
        return ()
    return tuple(shlex.split(path.read_text(encoding="utf-8")))


def _read_env(path: Path | None) -> tuple[tuple[str, str], ...]:
    if path is None:
        return ()
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise ValueError(f"{path}: expected KEY=VALUE, got {line!r}")
        pairs.append((key.strip(), value))
    return tuple(pairs)


def _read_exit_code(path: Path | None) -> int:
    if path is None:
        return 0
    return int(path.read_text(encoding="utf-8").strip())


def _read_command(path: Path | None) -> str:
    return "run" if path is None else path.read_text(encoding="utf-8").strip()


def _make_case(case_id: str, app_dir: Path, example_dir: Path) -> ExampleCase:
    folders = (app_dir, example_dir) if app_dir != example_dir else (app_dir,)
    return ExampleCase(
        case_id=case_id,
        app_dir=app_dir,
        expected_file=example_dir / "expected.txt",
        args=_read_args(_first_existing("args", *folders)),
        env=_read_env(_first_existing("env", *folders)),
        exit_code=_read_exit_code(_first_existing("exit-code", *folders)),
        command=_read_command(_first_existing("command", *folders)),
    )


def _has_aro_files(folder: Path) -> bool:
    return any(folder.glob("*.aro"))


def discover_examples() -> list[ExampleCase]:
    cases: list[ExampleCase] = []
    if not EXAMPLES.is_dir():
        return cases
    for example_dir in sorted(p for p in EXAMPLES.iterdir() if p.is_dir()):
        if not (example_dir / "expected.txt").is_file():
            continue
        if (example_dir / "openapi.yaml").exists():
            continue
        if _has_aro_files(example_dir):
            cases.append(_make_case(example_dir.name, example_dir, example_dir))
            continue
        variants = sorted(
            sub for sub in example_dir.iterdir() if sub.is_dir() and any(sub.rglob("*.aro"))
        )
        for variant in variants:
            case_id = f"{example_dir.name}-{variant.name}"
            cases.append(_make_case(case_id, variant, example_dir))
    return cases


CASES = discover_examples()


def _subprocess_env(extra: tuple[tuple[str, str], ...]) -> dict[str, str]:
    env = dict(os.environ)
    python_path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + python_path if python_path else "")
    env["PYTHONIOENCODING"] = "utf-8"
    env.pop("ARO_HTTP_PORT", None)
    env.pop("ARO_SOCKET_PORT", None)
    env.update(dict(extra))
    return env


def _diff(expected: str, actual: str) -> str:
    lines = difflib.unified_diff(
        expected.splitlines(keepends=True),
        actual.splitlines(keepends=True),
        fromfile="expected.txt",
        tofile="stdout",
    )
    return "".join(lines)


def _tail(text: str, limit: int = 3000) -> str:
    return text if len(text) <= limit else "...\n" + text[-limit:]


@pytest.mark.parametrize("case", CASES, ids=[c.case_id for c in CASES])
def test_example(case: ExampleCase, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "aro", case.command, str(case.app_dir), *case.args]
    try:
        proc = subprocess.run(
            command,
            # A fresh directory, so that files an example writes (FileShelf's ./build) never
            # meet another run of it: the two builds' suites may run at the same time.
            cwd=tmp_path,
            env=_subprocess_env(case.env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as exc:
        partial = (exc.stdout or b"").decode("utf-8", errors="replace")
        pytest.fail(
            f"{case.case_id}: no exit within {TIMEOUT_S} s\n"
            f"command: {shlex.join(command)}\nstdout so far:\n{_tail(partial)}"
        )

    expected = case.expected_file.read_bytes().decode("utf-8")
    actual = proc.stdout.decode("utf-8", errors="replace")
    if case.command == "test":
        actual = TEST_DURATION.sub(" (<1ms)", actual)
    stderr = proc.stderr.decode("utf-8", errors="replace")

    problems = []
    if actual != expected:
        problems.append("stdout differs from expected.txt:\n" + _diff(expected, actual))
    if proc.returncode != case.exit_code:
        problems.append(f"exit code {proc.returncode}, expected {case.exit_code}")
    if problems:
        report = "\n".join(problems)
        pytest.fail(
            f"{case.case_id}: {report}\ncommand: {shlex.join(command)}\nstderr:\n{_tail(stderr)}"
        )


def test_examples_are_discovered() -> None:
    assert CASES, f"no examples with expected.txt under {EXAMPLES}"
    ids = [c.case_id for c in CASES]
    assert len(ids) == len(set(ids)), f"duplicate example ids: {ids}"


def test_no_expected_output_contains_a_traceback() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted(EXAMPLES.rglob("expected.txt"))
        if TRACEBACK_MARKER in path.read_text(encoding="utf-8", errors="replace")
    ]
    assert not offenders, f"expected.txt with a Python traceback: {offenders}"
