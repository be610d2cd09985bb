"""The `aro` command as a user runs it: a real process per test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aro.cli import _run_settings, build_parser, parse_app_arguments


def aro(*arguments: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "aro", *arguments],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, **(env or {})},
    )


def write_app(tmp_path: Path, source: str) -> Path:
    (tmp_path / "main.aro").write_text(source)
    return tmp_path


@pytest.mark.parametrize(("forced", "codec"), [("1", "pure Python"), ("0", None)])
def test_version_names_the_active_codec(forced: str, codec: str | None) -> None:
    result = aro("--version", env={"ARO_NO_EXTENSIONS": forced})
    assert result.returncode == 0
    assert result.stdout.startswith("aro-py ")
    if codec is not None:
        assert f"frame codec: {codec}" in result.stdout


def test_check_reports_every_error_with_position(tmp_path: Path) -> None:
    app = write_app(
        tmp_path,
        "(Application-Start: T) {\n    Create the <x> with .\n    Log <x> to the <console>\n}\n",
    )
    result = aro("check", str(app))
    assert result.returncode == 1
    assert f"{app / 'main.aro'}:2:" in result.stdout
    assert result.stdout.rstrip().endswith("error(s) found")
    assert result.stdout.count(": error:") >= 2


def test_check_accepts_a_valid_app(tmp_path: Path) -> None:
    app = write_app(tmp_path, '(Application-Start: T) { Log "hi" to the <console>. }\n')
    result = aro("check", str(app))
    assert result.returncode == 0
    assert result.stdout.strip() == "✅ No issues found in 1 file(s)"


def test_run_passes_arguments_as_parameters(tmp_path: Path) -> None:
    app = write_app(
        tmp_path,
        "(Application-Start: T) {\n"
        "    Extract the <name> from the <parameter: name>.\n"
        "    Extract the <count> from the <parameter: count>.\n"
        "    Compute the <twice> from <count> * 2.\n"
        '    Log "${name} ${twice}" to the <console>.\n'
        "    Return an <OK: status> for the <application>.\n"
        "}\n",
    )
    result = aro("run", str(app), "--name", "Ada", "--count=21")
    assert (result.returncode, result.stdout) == (0, "[Application-Start] Ada 42\n")


def test_syntax_errors_stop_the_run_without_a_traceback(tmp_path: Path) -> None:
    app = write_app(tmp_path, "(Application-Start: T) { Log to. }\n")
    result = aro("run", str(app))
    assert result.returncode == 1
    assert result.stdout.startswith("Compilation errors:")
    assert "Traceback" not in result.stdout + result.stderr


def test_keepalive_waits_for_sigint_then_runs_application_end(tmp_path: Path) -> None:
    app = write_app(
        tmp_path,
        "(Application-Start: T) {\n"
        '    Log "up" to the <console>.\n'
        "    Keepalive the <application> for the <events>.\n"
        "    Return an <OK: status> for the <startup>.\n"
        "}\n"
        "(Application-End: Success) {\n"
        '    Log "down" to the <console>.\n'
        "}\n",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "aro", "run", str(app)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout.readline() == "[Application-Start] up\n"
        time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0
    assert output == "[Application-End] down\n[OK] startup\n"


def test_app_arguments_are_coerced() -> None:
    assert parse_app_arguments(["--n", "3", "--ratio=0.5", "--on", "-xy", "--name", "x"]) == {
        "n": 3,
        "ratio": 0.5,
        "on": True,
        "x": True,
        "y": True,
        "name": "x",
    }


@pytest.mark.parametrize("where", ["before", "after"])
def test_server_options_are_taken_before_or_after_the_app(where: str) -> None:
    options = ["--port", "8123", "--ws-broadcast-delay", "2.5", "--ws-no-compression"]
    argv = ["run", *options, "App", "--name", "x"]
    if where == "after":
        argv = ["run", "App", *options, "--name", "x"]
    settings, rest = _run_settings(build_parser().parse_args(argv))
    assert int(settings["port"]) == 8123
    assert float(settings["ws_broadcast_delay"]) == 2.5
    assert settings["ws_compression"] is False
    assert rest == ["--name", "x"]
