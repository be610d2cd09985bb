"""The `aro` command as a user runs it: a real process per test."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from aro.cli import build_parser, parse_app_arguments, reserve_port, run_config, worker_arguments
from aro.config import OPTIONS, Config, ConfigError
from aro.runtime.http import resolve_port


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


# -- options: one definition in aro.config, typed once ---------------------------------------

#: A text a user could give each option with a value, and the typed value it means.
SAMPLES = {
    "host": ("0.0.0.0", "0.0.0.0"),
    "port": ("8123", 8123),
    "max_body": ("64", 64),
    "request_timeout": ("2.5", 2.5),
    "keepalive_timeout": ("1", 1.0),
    "max_connections": ("100", 100),
    "max_body_fields": ("10", 10),
    "max_body_depth": ("200", 200),
    "max_body_string": ("100", 100),
    "socket_port": ("0", 0),
    "ws_max_message": ("4096", 4096),
    "ws_ping_interval": ("0.5", 0.5),
    "ws_compress_min": ("0", 0),
    "ws_allowed_origins": (
        "https://Chat.example.com/, http://localhost:3000",
        ("https://chat.example.com", "http://localhost:3000"),
    ),
    "bus": ("redis://cache:6379/1", "redis://cache:6379/1"),
    "workers": ("3", 3),
    "reload_grace": ("2.5", 2.5),
    "compile_cache": ("/tmp/aro-cache", "/tmp/aro-cache"),
    "record": ("events.json", "events.json"),
    "replay": ("events.json", "events.json"),
    "store": ("sqlite:/tmp/../tmp/chat.sqlite", "sqlite:/tmp/chat.sqlite"),
}
#: A variable's text for each option, and the typed value it means: not the default, and for
#: options with a value not the flag's sample either.
ENVIRONMENT = {
    "host": ("10.0.0.1", "10.0.0.1"),
    "port": ("8001", 8001),
    "max_body": ("128", 128),
    "request_timeout": ("30", 30.0),
    "keepalive_timeout": ("0.5", 0.5),
    "max_connections": ("4000", 4000),
    "max_body_fields": ("20", 20),
    "max_body_depth": ("8", 8),
    "max_body_string": ("200", 200),
    "socket_port": ("9001", 9001),
    "ws_max_message": ("8192", 8192),
    "ws_ping_interval": ("3", 3.0),
    "ws_compression": ("off", False),
    "ws_compress_min": ("512", 512),
    "ws_allowed_origins": ("*", ("*",)),
    "compile_cache": ("off", "off"),
    "keep_alive": ("on", True),
    "debug": ("1", True),
    "bus": ("redis://127.0.0.1:6390", "redis://127.0.0.1:6390"),
    "workers": ("17", 17),
    "reload_grace": ("0", 0.0),
    "worker": ("1", "1"),
    "notify_fd": ("5", 5),
    "record": ("run.json", "run.json"),
    "replay": ("run.json", "run.json"),
    "store": ("redis://127.0.0.1:6390/1", "redis://127.0.0.1:6390/1"),
}
BAD = {
    "host": " ",
    "port": "70000",
    "max_body": "0",
    "request_timeout": "0",
    "keepalive_timeout": "-1",
    "max_connections": "many",
    "max_body_fields": "0",
    "max_body_depth": "201",
    "max_body_string": "many",
    "socket_port": "-1",
    "ws_max_message": "1.5",
    "ws_ping_interval": "soon",
    "ws_compress_min": "-1",
    "ws_compression": "maybe",
    "ws_allowed_origins": "chat.example.com",
    "compile_cache": " ",
    "keep_alive": "2",
    "debug": "yes please",
    "bus": "nats://queue:4222",
    "workers": "0",
    "reload_grace": "-1",
    "worker": " ",
    "notify_fd": "-1",
    "record": " ",
    "replay": " ",
    "store": "postgres://db",
}
FLAGGED = [option for option in OPTIONS if option.metadata["flag"]]


def _given(option: Any) -> tuple[list[str], Any]:
    """The command-line words that set ``option`` and the value they mean."""
    meta = option.metadata
    if meta["flag_sets"] is not None:
        return [meta["flag"]], meta["flag_sets"]
    text, value = SAMPLES[option.name]
    return [meta["flag"], text], value


def _run_config(argv: list[str], environ: dict | None = None) -> tuple[Config, list[str]]:
    return run_config(build_parser().parse_args(argv), environ or {})


def _command(option: Any) -> str:
    """The command that takes the option's flag: ``serve`` for the supervisor's own."""
    return "serve" if option.metadata["serve_only"] else "run"


def test_every_option_is_described_here() -> None:
    switches = {option.name for option in FLAGGED if option.metadata["flag_sets"] is not None}
    assert set(SAMPLES) | switches == {option.name for option in FLAGGED}
    assert set(ENVIRONMENT) == set(BAD) == {option.name for option in OPTIONS}


@pytest.mark.parametrize("where", ["before", "after"])
@pytest.mark.parametrize("option", FLAGGED, ids=lambda option: option.name)
def test_an_option_means_the_same_typed_value_before_or_after_the_app(
    option: Any, where: str
) -> None:
    words, value = _given(option)
    command = _command(option)
    argv = [command, *words, "App", "--name", "x", "-v"]
    if where == "after":
        argv = [command, "App", "--name", "x", *words, "-v"]
    config, app_arguments = _run_config(argv)
    assert getattr(config, option.name) == value
    assert type(getattr(config, option.name)) is type(value)
    assert app_arguments == ["--name", "x", "-v"]


def test_options_mix_on_both_sides_and_the_later_one_wins() -> None:
    argv = ["run", "--port", "1", "--debug", "App", "--ws-no-compression", "--port=2", "--a"]
    config, app_arguments = _run_config(argv)
    assert (config.port, config.debug, config.ws_compression) == (2, True, False)
    assert app_arguments == ["--a"]


@pytest.mark.parametrize("option", OPTIONS, ids=lambda option: option.name)
def test_the_flag_beats_the_variable_which_beats_the_default(option: Any) -> None:
    def value(argv: list[str], environ: dict[str, str]) -> Any:
        return getattr(_run_config([_command(option), *argv, "App"], environ)[0], option.name)

    variable = option.metadata["env"]
    text, meant = ENVIRONMENT[option.name]
    assert value([], {}) == option.default
    assert value([], {variable: ""}) == option.default  # an empty variable is unset
    assert value([], {variable: text}) == meant != option.default
    if option.metadata["flag"] is None:
        return  # set by aro serve for its workers, never on a command line
    words, flag_value = _given(option)
    against = {True: "off", False: "on"}[flag_value] if type(flag_value) is bool else text
    assert value(words, {variable: against}) == flag_value


def test_the_established_variable_names_still_work() -> None:
    environ = {"ARO_HOST": "0.0.0.0", "ARO_HTTP_PORT": "8001", "ARO_SOCKET_PORT": "9001"}
    config = Config.load({}, environ)
    assert (config.host, config.port, config.socket_port) == ("0.0.0.0", 8001, 9001)


@pytest.mark.parametrize("option", OPTIONS, ids=lambda option: option.name)
def test_a_bad_value_is_refused_naming_where_it_came_from(option: Any) -> None:
    meta = option.metadata
    with pytest.raises(ConfigError, match=f"^{meta['env']} must .*{BAD[option.name]!r}"):
        Config.load({}, {meta["env"]: BAD[option.name]})
    if meta["flag"] is not None and meta["flag_sets"] is None:
        with pytest.raises(ConfigError, match=f"^{meta['flag']} must "):
            Config.load({option.name: BAD[option.name]}, {})


def test_ports_come_from_the_program_between_the_environment_and_the_default() -> None:
    contract = SimpleNamespace(server_port=8500)
    unset, given = Config(), Config.load({}, {"ARO_HTTP_PORT": "8001"})
    assert resolve_port(given, {"port": 8200}, contract) == 8001
    assert resolve_port(unset, {"port": 8200}, contract) == 8200
    assert resolve_port(unset, 8300, contract) == 8300
    assert resolve_port(unset, {"websocket": False}, contract) == 8500
    assert resolve_port(unset, None, None) == 8080


@pytest.mark.parametrize(
    ("arguments", "environ", "message"),
    [
        (["--port", "70000"], {}, "Error: --port must be 0-65535 (got '70000')"),
        ([], {"ARO_HTTP_PORT": "http"}, "Error: ARO_HTTP_PORT must be 0-65535 (got 'http')"),
        (
            ["--ws-ping-interval", "-1"],
            {},
            "Error: --ws-ping-interval must be a number, 0 or more (got '-1')",
        ),
    ],
)
def test_a_bad_value_stops_the_run_with_one_line_and_exit_2(
    tmp_path: Path, arguments: list[str], environ: dict, message: str
) -> None:
    app = write_app(tmp_path, '(Application-Start: T) { Log "ran" to the <console>. }\n')
    result = aro("run", str(app), *arguments, env=environ)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", message + "\n")


def test_keep_alive_keeps_running_until_a_signal(tmp_path: Path) -> None:
    app = write_app(
        tmp_path,
        "(Application-Start: T) {\n"
        '    Log "up" to the <console>.\n'
        "    Return an <OK: status> for the <startup>.\n"
        "}\n"
        "(Application-End: Success) {\n"
        '    Log "down" to the <console>.\n'
        "}\n",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "aro", "run", str(app), "--keep-alive"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline() == "[Application-Start] up\n"
        time.sleep(0.3)
        assert process.poll() is None
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0
    assert output == "[Application-End] down\n[OK] startup\n"


def test_version_needs_neither_the_option_table_nor_the_runtime() -> None:
    probe = (
        "import sys\nfrom aro.cli import main\nmain(['--version'])\n"
        "print(sorted(m for m in ('aro.config', 'aro.runtime.app') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.stdout.splitlines()[-1] == "[]"


# -- process and configuration errors: one line each, no traceback ----------------------------

SERVER_APP = (
    "(Application-Start: T) {\n"
    "    Start the <http-server> with {}.\n"
    "    Keepalive the <application> for the <events>.\n"
    "    Return an <OK: status> for the <startup>.\n"
    "}\n"
)


@pytest.mark.parametrize("command", ["run", "check", "disasm"])
def test_a_missing_path_or_an_empty_folder_is_a_usage_error(tmp_path: Path, command: str) -> None:
    missing = aro(command, str(tmp_path / "nowhere"))
    assert (missing.returncode, missing.stdout) == (2, "")
    assert missing.stderr == f"Error: {tmp_path / 'nowhere'} does not exist\n"
    (tmp_path / "notes.txt").write_text("not a program")
    empty = aro(command, str(tmp_path))
    assert (empty.returncode, empty.stdout) == (2, "")
    assert empty.stderr == f"Error: {tmp_path}: no .aro files found\n"


def test_a_file_that_is_not_utf8_is_a_compile_error_at_its_first_bad_byte(tmp_path: Path) -> None:
    (tmp_path / "main.aro").write_bytes(
        b'(Application-Start: T) {\n    Log "caf\xe9" to the <console>.\n}\n'
    )
    error = f"{tmp_path / 'main.aro'}:2:13: error: not valid UTF-8 at byte 37\n"
    run = aro("run", str(tmp_path))
    assert (run.returncode, run.stdout, run.stderr) == (1, "Compilation errors:\n" + error, "")
    check = aro("check", str(tmp_path))
    assert (check.returncode, check.stdout) == (1, error + "❌ 1 error(s) found\n")


def test_a_port_in_use_is_named_in_one_line(tmp_path: Path) -> None:
    app = write_app(tmp_path, SERVER_APP)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = aro("run", str(app), "--port", str(port))
    assert result.returncode == 1
    assert result.stdout == f"Error: port {port} is already in use\n"
    assert "Traceback" not in result.stderr


def test_a_server_without_a_contract_says_so_at_start(tmp_path: Path) -> None:
    app = write_app(tmp_path, SERVER_APP)
    process = subprocess.Popen(
        [sys.executable, "-m", "aro", "run", str(app), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        notice = process.stderr.readline()
        assert "HTTP Server started on port" in process.stdout.readline()
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=15)
    assert notice == (
        "Notice: no openapi.yaml found: contract-less mode,"
        ' every HTTP request answers 200 "Request received"\n'
    )


def test_a_worker_gets_serves_arguments_without_the_supervisors_own() -> None:
    given = ["--workers", "2", "--port", "0", "App", "--bus=redis://r:6379", "--name", "x"]
    given += ["--reload-grace", "5", "--ws-no-compression"]
    assert worker_arguments(given) == ["--port", "0", "App", "--name", "x", "--ws-no-compression"]


def test_port_0_is_reserved_once_for_every_worker() -> None:
    reserved, arguments = reserve_port(Config(port=0), ["App"])
    try:
        port = reserved.getsockname()[1]
        assert arguments == ["App", "--port", str(port)] and port != 0  # the later --port wins
    finally:
        reserved.close()
    assert reserve_port(Config(port=8123), ["App"]) == (None, ["App"])


def test_serve_says_in_one_line_when_the_pure_codec_serves(monkeypatch) -> None:
    import aro._speedups
    from aro.cli import pure_codec_notice

    monkeypatch.setattr(aro._speedups, "IMPLEMENTATION", "compiled")
    assert pure_codec_notice() is None
    monkeypatch.setattr(aro._speedups, "IMPLEMENTATION", "pure")
    monkeypatch.setenv("ARO_NO_EXTENSIONS", "1")
    assert "pure-Python frame codec in use (ARO_NO_EXTENSIONS=1)" in pure_codec_notice()
    monkeypatch.delenv("ARO_NO_EXTENSIONS")
    assert "no compiled extension is installed" in pure_codec_notice()
