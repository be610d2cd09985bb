"""The ``aro`` command: run, check, test, disasm, --version.

Heavy modules are imported inside the commands so ``aro --version`` starts fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aro import __version__

if TYPE_CHECKING:
    from aro.config import Config
    from aro.lang.bytecode import Program

#: Exit status for a command that cannot run as given (argparse uses it too); a program that
#: fails to compile or to run exits 1.
EXIT_USAGE = 2
COMMANDS = ("run", "serve", "check", "disasm", "test")


def version_text() -> str:
    from aro._speedups import IMPLEMENTATION

    codec = "compiled (Cython)" if IMPLEMENTATION == "compiled" else "pure Python"
    return f"aro-py {__version__} (frame codec: {codec})"


def pure_codec_notice() -> str | None:
    """One line for a production server running the slower pure-Python codec, else None."""
    from aro._speedups import IMPLEMENTATION

    if IMPLEMENTATION == "compiled":
        return None
    why = ("ARO_NO_EXTENSIONS=1" if os.environ.get("ARO_NO_EXTENSIONS") == "1"
           else "no compiled extension is installed for this platform")
    return f"pure-Python frame codec in use ({why}): WebSocket traffic costs more CPU"


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


def _load(path: Path, cache: Path | None = None) -> Program | int:
    """The compiled program, or the exit status after printing why it cannot be had."""
    from aro.lang.diagnostics import AroSyntaxError
    from aro.runtime.loader import load_program
    from aro.runtime.plugins import PluginError

    try:
        return load_program(path, cache)
    except AroSyntaxError as error:
        return _report_compile_errors(error)
    except PluginError as error:
        print(f"Error: {error}")
        return 1


def command_run(
    path: Path, app_arguments: list[str], config: Config, cache: Path | None = None
) -> int:
    from aro.net.openapi import ContractError
    from aro.runtime.app import Application, StartupError, install_signal_handlers
    from aro.runtime.errors import UsageError
    from aro.runtime.loader import application_root
    from aro.runtime.plugins import PluginError

    program = _load(path, cache)
    if isinstance(program, int):
        return program
    import aro.actions  # noqa: F401 - registers every action

    async def main() -> int:
        app = Application(
            program, application_root(path), parse_app_arguments(app_arguments), config=config
        )
        install_signal_handlers(app)
        return await app.run()

    try:
        return _event_loop_runner()(main())
    except UsageError as error:  # a store that cannot be reached: the options need changing
        print(f"Error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (StartupError, ContractError, PluginError) as error:
        print(f"Error: {error}")
        return 1
    except Exception:
        if config.debug:
            raise
        import traceback

        print("Internal error in aro-py (run with --debug for details):", file=sys.stderr)
        print(traceback.format_exc().splitlines()[-1], file=sys.stderr)
        return 1
    finally:
        sys.stdout.flush()


def command_test(
    path: Path, name_filter: str | None, colors: bool, cache: Path | None = None
) -> int:
    """Run the test feature sets; exit 1 when one fails or errs, or when there is none."""
    from aro.lang.diagnostics import AroSyntaxError
    from aro.runtime.loader import application_root, load_program
    from aro.runtime.plugins import PluginError, PluginSet
    from aro.runtime.testing import NO_TESTS_HINT, Reporter, run_tests, select_tests

    root = application_root(path)
    try:
        program = load_program(path, cache)
        plugins = PluginSet.load(root, lambda line: print(line, file=sys.stderr))
    except AroSyntaxError as error:
        return _report_compile_errors(error)
    except PluginError as error:
        print(f"Error: {error}")
        return 1
    import aro.actions  # noqa: F401 - registers every action

    tests = select_tests(program, None)
    if not tests:
        sys.stdout.write(NO_TESTS_HINT)
        return 1
    tests = select_tests(program, name_filter)
    outcomes = _event_loop_runner()(run_tests(program, tests, root, plugins, sys.stdout))
    Reporter(sys.stdout, colors).report(outcomes)
    return 0 if all(outcome.status == "PASS" for outcome in outcomes) else 1


#: Options a worker does not take on its command line: the bus and the reload grace reach it
#: through the environment (the bus may be the supervisor's relay).
SUPERVISOR_OPTIONS = ("--workers", "--bus", "--reload-grace")


def command_serve(
    path: Path, serve_arguments: list[str], config: Config, cache: Path | None = None
) -> int:
    """Check the application once, then run ``config.workers`` copies of ``aro run`` on one
    port under the supervisor (docs/guide/deploying.md).  The check fills the compile cache,
    so that the workers, started together, all load the program from it."""
    import tempfile

    from aro.runtime.app import RETIRE_SIGNAL
    from aro.runtime.http.metrics import MULTIPROCESS_VARIABLE, worker_exited
    from aro.supervisor import Settings, Supervisor

    checked = _load(path, cache)  # a program that does not compile must not start N workers
    if isinstance(checked, int):
        return checked
    if notice := pure_codec_notice():
        _supervisor_log(notice)
    with tempfile.TemporaryDirectory(prefix="aro-serve-") as scratch:
        relay = None if config.bus != "local" else os.path.join(scratch, "bus.sock")
        metrics = os.path.join(scratch, "metrics")
        os.mkdir(metrics)
        reserved, arguments = reserve_port(config, worker_arguments(serve_arguments))
        workers = config.workers or os.cpu_count() or 1
        settings = Settings(
            argv=[sys.executable, "-m", "aro", "run", *arguments],
            workers=workers,
            environment={
                "ARO_BUS": config.bus if relay is None else f"unix:{relay}",
                "ARO_RELOAD_GRACE": str(config.reload_grace),
                MULTIPROCESS_VARIABLE: metrics,
                **shared_store(config, workers, scratch),
            },
            relay=relay,
            retire_signal=RETIRE_SIGNAL,
            on_exit=lambda pid: worker_exited(pid, metrics),
        )

        async def supervise() -> int:
            return await Supervisor(settings, _supervisor_log).run()

        try:
            return _event_loop_runner()(supervise())
        finally:
            if reserved is not None:
                reserved.close()


def shared_store(config: Config, workers: int, scratch: str) -> dict[str, str]:
    """Workers of one server share their repositories: with more than one and no store named
    (flag or ``ARO_STORE``), a private SQLite file that lives as long as the server."""
    from aro.runtime.repositories import private_sqlite_store

    if workers == 1 or config.store != "memory" or os.environ.get("ARO_STORE"):
        return {}
    return {"ARO_STORE": private_sqlite_store(scratch)}


def _supervisor_log(message: str) -> None:
    import contextlib

    # stderr may be closed (a pipe whose reader is gone): supervising matters more than a line
    with contextlib.suppress(OSError):
        print(f"[aro serve] {message}", file=sys.stderr, flush=True)


def worker_arguments(serve_arguments: list[str]) -> list[str]:
    """``aro serve``'s arguments without the supervisor's own options (and their values)."""
    kept: list[str] = []
    skip_value = False
    for argument in serve_arguments:
        if skip_value:
            skip_value = False
        elif argument in SUPERVISOR_OPTIONS:
            skip_value = True
        elif not argument.startswith(tuple(f"{flag}=" for flag in SUPERVISOR_OPTIONS)):
            kept.append(argument)
    return kept


def reserve_port(config: Config, arguments: list[str]) -> tuple[Any, list[str]]:
    """``--port 0`` means one free port for every worker: bind it here (SO_REUSEPORT, never
    listening, held for the server's life) and hand its number to the workers, whose later
    ``--port`` wins."""
    if config.port != 0:
        return None, arguments
    import socket

    reserved = socket.socket(socket.AF_INET6 if ":" in config.host else socket.AF_INET)
    reserved.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    reserved.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    reserved.bind((config.host, 0))
    return reserved, [*arguments, "--port", str(reserved.getsockname()[1])]


def _event_loop_runner() -> Any:
    """uvloop when installed (it is a dependency; the fallback keeps odd platforms working)."""
    try:
        import uvloop

        return uvloop.run
    except ImportError:
        import asyncio

        return asyncio.run


def command_check(path: Path, cache: Path | None = None) -> int:
    from aro.lang.diagnostics import AroSyntaxError
    from aro.runtime.loader import load_program, source_files
    from aro.runtime.plugins import PluginError

    count = len(source_files(path))
    try:
        load_program(path, cache)
    except AroSyntaxError as error:
        print(str(error))
        print(f"❌ {len(error.diagnostics)} error(s) found")
        return 1
    except PluginError as error:
        print(f"Error: {error}")
        return 1
    print(f"✅ No issues found in {count} file(s)")
    return 0


def command_disasm(path: Path, cache: Path | None = None) -> int:
    from aro.lang.diagnostics import AroSyntaxError
    from aro.lang.disasm import disassemble_program
    from aro.runtime.loader import load_program

    try:
        program = load_program(path, cache)
    except AroSyntaxError as error:
        return _report_compile_errors(error)
    print(disassemble_program(program))
    return 0


def _add_config_options(parser: argparse.ArgumentParser, serve: bool = False) -> None:
    """The options of ``aro run`` (and, with ``serve``, of ``aro serve``): one per Config
    option that has a flag."""
    from aro.config import OPTIONS

    for option in OPTIONS:
        meta = option.metadata
        if meta["flag"] is None or (meta["serve_only"] and not serve):
            continue
        default = "" if option.default in (None, ()) else f"; default {option.default}"
        help_text = f"{meta['help']} ({meta['env']}{default})"
        if meta["flag_sets"] is None:
            parser.add_argument(meta["flag"], dest=option.name, help=help_text)
        else:
            parser.add_argument(
                meta["flag"],
                dest=option.name,
                action="store_const",
                const=meta["flag_sets"],
                help=help_text,
            )


def run_config(
    arguments: argparse.Namespace, environ: Mapping[str, str]
) -> tuple[Config, list[str]]:
    """The Config from ``aro run``'s (or ``aro serve``'s) options, given before or after APP
    (the reference reads them on either side; given on both, the later wins), and the
    arguments left for the application.  ConfigError when a value does not parse."""
    from aro.config import OPTIONS, Config

    serve = arguments.command == "serve"
    after_app = argparse.ArgumentParser(
        prog=f"aro {arguments.command}", add_help=False, allow_abbrev=False
    )
    _add_config_options(after_app, serve)
    arguments, app_arguments = after_app.parse_known_args(arguments.rest, namespace=arguments)
    flags = {option.name: getattr(arguments, option.name, None) for option in OPTIONS}
    return Config.load(flags, environ), app_arguments


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aro", description="Run ARO applications.")
    parser.add_argument("--version", action="store_true", help="print the version and codec")
    commands = parser.add_subparsers(dest="command")
    run = commands.add_parser("run", help="run an application", allow_abbrev=False)
    _add_config_options(run)
    run.add_argument("path", type=Path)
    run.add_argument("rest", nargs=argparse.REMAINDER, help="app arguments (and run's options)")
    serve = commands.add_parser(
        "serve", help="serve an application with worker processes", allow_abbrev=False
    )
    _add_config_options(serve, serve=True)
    serve.add_argument("path", type=Path)
    serve.add_argument("rest", nargs=argparse.REMAINDER, help="app arguments (and options)")
    check = commands.add_parser("check", help="check an application for errors")
    check.add_argument("path", type=Path)
    test = commands.add_parser("test", help="run the test feature sets (activity ending in Test)")
    test.add_argument("path", type=Path)
    test.add_argument("--filter", help="run only tests whose name contains this text")
    test.add_argument("--no-color", action="store_true", help="never colour the report")
    disasm = commands.add_parser("disasm", help="print the compiled code objects")
    disasm.add_argument("path", type=Path)
    return parser


def _check_bus(config: Config) -> None:
    """A bus on another server must answer before anything starts (ConfigError otherwise)."""
    from aro.runtime.buses import check_reachable

    check_reachable(config.bus)


def _app_path_problem(path: Path) -> str | None:
    """What makes APP unusable before anything is read: a usage error (exit 2), unlike a
    program that does not compile (exit 1)."""
    from aro.runtime.loader import source_files

    if not path.exists():
        return f"{path} does not exist"
    if not source_files(path):
        return f"{path}: no .aro files found"
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--version"]:  # before the parser, which imports the option table
        print(version_text())
        return 0
    if argv and argv[0] not in COMMANDS and not argv[0].startswith("-"):
        argv = ["run", *argv]  # `aro APP` means `aro run APP`
    arguments = build_parser().parse_args(argv)
    if arguments.version:
        print(version_text())
        return 0
    if arguments.command is None:
        build_parser().print_help()
        return EXIT_USAGE
    usage_error = _app_path_problem(arguments.path)
    if usage_error is not None:
        print(f"Error: {usage_error}", file=sys.stderr)
        return EXIT_USAGE
    from aro.config import Config, ConfigError
    from aro.runtime.compile_cache import directory_for

    try:
        if arguments.command in ("run", "serve"):
            config, app_arguments = run_config(arguments, os.environ)
            _check_bus(config)
        else:  # the other commands take no options, only the ARO_* variables
            config, app_arguments = Config.load({}, os.environ), []
    except ConfigError as error:
        print(f"Error: {error}", file=sys.stderr)
        return EXIT_USAGE
    cache = directory_for(config.compile_cache)
    if arguments.command == "serve":
        return command_serve(arguments.path, argv[1:], config, cache)
    if arguments.command == "run":
        return command_run(arguments.path, app_arguments, config, cache)
    if arguments.command == "check":
        return command_check(arguments.path, cache)
    if arguments.command == "test":
        colors = sys.stdout.isatty() and not arguments.no_color
        return command_test(arguments.path, arguments.filter, colors, cache)
    return command_disasm(arguments.path, cache)
