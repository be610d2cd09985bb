"""The ``aro`` command: run, check, disasm, --version.

Heavy modules are imported inside the commands so ``aro --version`` starts fast.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from aro import __version__

RUN_FLAGS = {"--debug", "--keep-alive", "-v", "--verbose"}


def version_text() -> str:
    from aro._speedups import IMPLEMENTATION

    codec = "compiled (Cython)" if IMPLEMENTATION == "compiled" else "pure Python"
    return f"aro-py {__version__} (frame codec: {codec})"


def parse_app_arguments(arguments: list[str]) -> dict[str, Any]:
    """``--key value``, ``--key=value``, ``--flag``, ``-abc`` → parameters with coerced values."""
    parameters: dict[str, Any] = {}
    position = 0
    while position < len(arguments):
        argument = arguments[position]
        position += 1
        if argument.startswith("--"):
            key, has_value, value = argument[2:].partition("=")
            if not has_value:
                following = arguments[position] if position < len(arguments) else None
                if following is not None and not following.startswith("-"):
                    value, position = following, position + 1
                else:
                    value = "true"
            parameters[key] = _coerce(value)
        elif argument.startswith("-") and len(argument) > 1:
            for letter in argument[1:]:
                parameters[letter] = True
    return parameters


def _coerce(text: str) -> Any:
    if text in ("true", "false"):
        return text == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _report_compile_errors(error: Exception) -> int:
    print("Compilation errors:")
    print(str(error))
    return 1


def command_run(path: Path, rest: list[str], settings: dict[str, Any]) -> int:
    from aro.lang.diagnostics import AroSyntaxError
    from aro.net.openapi import ContractError
    from aro.runtime.app import Application, StartupError, install_signal_handlers
    from aro.runtime.loader import application_root, load_program

    debug = "--debug" in rest
    app_arguments = [argument for argument in rest if argument not in RUN_FLAGS]
    try:
        program = load_program(path)
    except AroSyntaxError as error:
        return _report_compile_errors(error)
    import aro.actions  # noqa: F401 - registers every action

    async def main() -> int:
        app = Application(
            program, application_root(path), parse_app_arguments(app_arguments), settings=settings
        )
        install_signal_handlers(app)
        return await app.run()

    try:
        return _event_loop_runner()(main())
    except (StartupError, ContractError) as error:
        print(f"Error: {error}")
        return 1
    except Exception:
        if debug:
            raise
        import traceback

        print("Internal error in aro-py (run with --debug for details):", file=sys.stderr)
        print(traceback.format_exc().splitlines()[-1], file=sys.stderr)
        return 1
    finally:
        sys.stdout.flush()


def _event_loop_runner() -> Any:
    """uvloop when installed (it is a dependency; the fallback keeps odd platforms working)."""
    try:
        import uvloop

        return uvloop.run
    except ImportError:
        import asyncio

        return asyncio.run


def command_check(path: Path) -> int:
    from aro.lang.diagnostics import AroSyntaxError
    from aro.runtime.loader import load_program, source_files

    count = len(source_files(path))
    try:
        load_program(path)
    except AroSyntaxError as error:
        print(str(error))
        print(f"❌ {len(error.diagnostics)} error(s) found")
        return 1
    print(f"✅ No issues found in {count} file(s)")
    return 0


def command_disasm(path: Path) -> int:
    from aro.lang.diagnostics import AroSyntaxError
    from aro.lang.disasm import disassemble_program
    from aro.runtime.loader import load_program

    try:
        program = load_program(path)
    except AroSyntaxError as error:
        return _report_compile_errors(error)
    print(disassemble_program(program))
    return 0


def _pop_option(arguments: list[str], name: str) -> str | None:
    """Take ``name value`` or ``name=value`` out of the arguments after the app path (run's
    own options may follow the path, as in the reference)."""
    for position, argument in enumerate(arguments):
        if argument == name and position + 1 < len(arguments):
            value = arguments[position + 1]
            del arguments[position : position + 2]
            return value
        if argument.startswith(name + "="):
            del arguments[position]
            return argument.split("=", 1)[1]
    return None


def _pop_flag(arguments: list[str], name: str) -> bool:
    """Take the flag ``name`` out of the arguments after the app path, if it is there."""
    if name in arguments:
        arguments.remove(name)
        return True
    return False


def _run_settings(arguments: argparse.Namespace) -> tuple[dict[str, Any], list[str]]:
    """Server settings from options given before or after the app path, and what is left
    for the application itself."""
    rest = list(arguments.rest)
    settings = {
        "host": _pop_option(rest, "--host") or arguments.host,
        "port": _pop_option(rest, "--port") or arguments.port,
        "max_body": _pop_option(rest, "--max-body") or arguments.max_body,
        "socket_port": _pop_option(rest, "--socket-port") or arguments.socket_port,
        "ws_max_message": _pop_option(rest, "--ws-max-message") or arguments.ws_max_message,
        "ws_ping_interval": _pop_option(rest, "--ws-ping-interval") or arguments.ws_ping_interval,
        "ws_compress_min": _pop_option(rest, "--ws-compress-min") or arguments.ws_compress_min,
        "ws_broadcast_delay": _pop_option(rest, "--ws-broadcast-delay")
        or arguments.ws_broadcast_delay,
    }
    no_compression = _pop_flag(rest, "--ws-no-compression") or arguments.ws_no_compression
    settings["ws_compression"] = not no_compression
    return settings, rest


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aro", description="Run ARO applications.")
    parser.add_argument("--version", action="store_true", help="print the version and codec")
    commands = parser.add_subparsers(dest="command")
    run = commands.add_parser("run", help="run an application")
    run.add_argument("--debug", action="store_true", help="show Python tracebacks")
    run.add_argument("--keep-alive", action="store_true", help="keep running until a signal")
    run.add_argument("--host", help="bind address of servers (default 127.0.0.1, ARO_HOST)")
    run.add_argument("--port", type=int, help="HTTP port (default: ARO_HTTP_PORT, program, 8080)")
    run.add_argument("--max-body", type=int, help="largest request body in bytes (1 MiB)")
    run.add_argument(
        "--socket-port", type=int, help="TCP socket server port (ARO_SOCKET_PORT, program, 9000)"
    )
    run.add_argument(
        "--ws-max-message", type=int, help="largest WebSocket message in bytes (1 MiB; 1009)"
    )
    run.add_argument(
        "--ws-ping-interval", type=float, help="seconds between server pings (20; 0 = off)"
    )
    run.add_argument("--ws-no-compression", action="store_true", help="refuse permessage-deflate")
    run.add_argument(
        "--ws-compress-min", type=int, help="smallest message worth compressing, bytes (256)"
    )
    run.add_argument(
        "--ws-broadcast-delay",
        type=float,
        help="ms a broadcast may wait to share writes with the next ones under load (5; 0 = off)",
    )
    run.add_argument("path", type=Path)
    run.add_argument("rest", nargs=argparse.REMAINDER, help="--debug, --keep-alive, app arguments")
    check = commands.add_parser("check", help="check an application for errors")
    check.add_argument("path", type=Path)
    disasm = commands.add_parser("disasm", help="print the compiled code objects")
    disasm.add_argument("path", type=Path)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] not in ("run", "check", "disasm") and not argv[0].startswith("-"):
        argv = ["run", *argv]  # `aro APP` means `aro run APP`
    arguments = build_parser().parse_args(argv)
    if arguments.version:
        print(version_text())
        return 0
    if arguments.command is None:
        build_parser().print_help()
        return 2
    if not arguments.path.exists():
        print(f"Error: {arguments.path} does not exist", file=sys.stderr)
        return 1
    if arguments.command == "run":
        debug = ["--debug"] if arguments.debug else []
        settings, rest = _run_settings(arguments)
        return command_run(arguments.path, [*rest, *debug], settings)
    if arguments.command == "check":
        return command_check(arguments.path)
    return command_disasm(arguments.path)
