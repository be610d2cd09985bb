"""The settings of one run, typed and read once: :class:`Config`.

Every option is one field of ``Config``; its metadata says how a user sets it, so the command
line, the environment and a flag reference all come from that one definition:

- ``flag``: the command-line option (``aro run`` takes it before or after APP);
- ``env``: the environment variable, ``ARO_`` + the field name in upper case, except the
  HTTP port, whose variable keeps its established name ``ARO_HTTP_PORT``;
- ``parse``: text to a typed value, raising ``ValueError`` with what a valid value looks like;
- ``help``: one line for ``--help`` and the reference.

Precedence: the flag, then the variable (an empty one counts as unset), then the field's
default.  Ports default to ``None``: the program's own value (``Start … with { port: N }``,
the contract's server URL) comes before the built-in port, and only the runtime knows it.

This module is a leaf: it imports nothing of ``aro``, so any layer may read a Config.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit

MAX_PORT = 65535
# The deepest JSON any parse in the runtime accepts (request bodies, text parsed back by Extract
# or a response).  orjson writes at most 254 nested containers and a program may wrap a parsed
# value a few levels more (a repository listing adds two), so this stays well inside.
DEEPEST_JSON = 200


class ConfigError(ValueError):
    """A value that cannot be used, said in one line that names where it came from."""


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _port(value: str) -> int:
    """0 asks the system for any free port."""
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not 0 <= port <= MAX_PORT:
        raise ValueError(f"must be 0-{MAX_PORT}")
    return port


def _whole(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            number = minimum - 1
        if maximum is not None and not minimum <= number <= maximum:
            raise ValueError(f"must be a whole number from {minimum} to {maximum}")
        if number < minimum:
            raise ValueError(f"must be a whole number of at least {minimum}")
        return number

    return parse


def _non_negative(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0 <= number < float("inf"):
        raise ValueError("must be a number, 0 or more")
    return number


def _positive(value: str) -> float:
    number = _non_negative(value)
    if number == 0:
        raise ValueError("must be a number above 0")
    return number


def first_port(configured: int | None, with_value: Any, *fallbacks: int | None) -> int:
    """The port a server listens on: the configured one (flag or variable), else the program's
    ``Start … with N`` or ``with {port: N}``, else the first fallback given (the last one is the
    default, so one always is)."""
    if configured is not None:
        return configured
    if isinstance(with_value, int) and not isinstance(with_value, bool):
        return with_value
    if isinstance(with_value, dict) and isinstance(with_value.get("port"), int):
        return with_value["port"]
    return next(port for port in fallbacks if port is not None)


def _origins(value: str) -> tuple[str, ...]:
    """``*``, or origins as browsers send them: ``scheme://host[:port]``, compared in lower
    case (a trailing ``/`` is forgiven)."""
    origins = tuple(part.strip().lower().rstrip("/") for part in value.split(",") if part.strip())
    for origin in origins:
        scheme, _, authority = origin.partition("://")
        if origin != "*" and (scheme not in ("http", "https") or not authority or "/" in authority):
            raise ValueError("must be * or comma-separated origins like https://chat.example.com")
    return origins


def _bus(value: str) -> str:
    """``local``, ``redis://HOST[:PORT][/DB]``, or ``unix:PATH`` (the relay socket that
    ``aro serve`` gives its workers)."""
    scheme, _, rest = value.partition(":")
    if value == "local" or (scheme == "unix" and rest) or (scheme == "redis" and rest[2:]):
        return value
    raise ValueError("must be local or redis://HOST:PORT[/DB]")


STORE_FORMS = "memory, sqlite:PATH or redis://HOST[:PORT][/DB]"


def _store_url(value: str) -> str:
    """A store URL in one canonical form: ``memory``, ``sqlite:`` and an absolute path (every
    process finds the same file, whatever its directory), or a ``redis://`` URL."""
    text = value.strip()
    if text == "memory":
        return text
    if text.startswith("sqlite:"):
        return "sqlite:" + _writable_file(text.removeprefix("sqlite:"))
    if text.startswith("redis://"):
        _redis_address(text)
        return text
    raise ValueError(f"must be {STORE_FORMS}")


def _writable_file(path: str) -> str:
    if not path:
        raise ValueError("needs a file: sqlite:PATH")
    absolute = os.path.abspath(os.path.expanduser(path))
    folder = os.path.dirname(absolute)
    if not os.path.isdir(folder):
        raise ValueError(f"cannot create {absolute}: no directory {folder}")
    if os.path.isdir(absolute):
        raise ValueError(f"{absolute} is a directory, not a file")
    exists = os.path.exists(absolute)
    if not os.access(absolute if exists else folder, os.W_OK) or not os.access(folder, os.W_OK):
        # SQLite also writes its -wal and -shm files beside the database
        raise ValueError(f"cannot write {absolute}: permission denied")
    return absolute


def _redis_address(url: str) -> None:
    """Checks ``redis://HOST[:PORT][/DB]`` (ValueError otherwise)."""
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number in range
    except ValueError:
        raise ValueError("has a bad port: redis://HOST[:PORT][/DB]") from None
    database = parts.path.lstrip("/")
    if not parts.hostname or not (database == "" or database.isdigit()) or parts.query:
        raise ValueError("must look like redis://HOST[:PORT][/DB]")


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _switch(value: str) -> bool:
    word = value.strip().lower()
    if word not in _TRUE + _FALSE:
        raise ValueError("must be one of " + "/".join(_TRUE + _FALSE))
    return word in _TRUE


def option(
    default: Any,
    *,
    parse: Callable[[str], Any],
    help: str,
    flag: str | None = None,
    flag_sets: Any = None,
    env: str | None = None,
    serve_only: bool = False,
) -> Any:
    """A Config field and how a user sets it.  ``flag_sets`` makes ``flag`` a switch that
    takes no value and sets the field to ``flag_sets``; ``serve_only`` keeps the flag off
    ``aro run``."""
    meta = {
        "help": help,
        "parse": parse,
        "flag": flag,
        "env": env,
        "flag_sets": flag_sets,
        "serve_only": serve_only,
    }
    return field(default=default, metadata=meta)


@dataclass(frozen=True, slots=True)
class Config:
    """One run's settings (``aro run``); the Application receives it."""

    host: str = option(
        "127.0.0.1",
        flag="--host",
        env="ARO_HOST",
        parse=_text,
        help="bind address of the servers",
    )
    port: int | None = option(
        None,
        flag="--port",
        env="ARO_HTTP_PORT",
        parse=_port,
        help="HTTP port, 0 = any free one; unset: the program's, the contract's, 8080",
    )
    max_body: int = option(
        1 << 20,
        flag="--max-body",
        env="ARO_MAX_BODY",
        parse=_whole(1),
        help="largest request body in bytes (413 above)",
    )
    # Connection lifetime and count (docs/decisions.md, decision 17).
    request_timeout: float = option(
        10.0,
        flag="--request-timeout",
        env="ARO_REQUEST_TIMEOUT",
        parse=_positive,
        help="seconds from a request's first byte (blank lines included) to its end (408 after)",
    )
    keepalive_timeout: float = option(
        5.0,
        flag="--keepalive-timeout",
        env="ARO_KEEPALIVE_TIMEOUT",
        parse=_positive,
        help="seconds an idle keep-alive connection stays open after its last response",
    )
    max_connections: int = option(
        0,
        flag="--max-connections",
        env="ARO_MAX_CONNECTIONS",
        parse=_whole(0),
        help="open HTTP and WebSocket connections before idle ones are closed and new ones get "
        "503; 0 = the open-files limit less an eighth (at least 32)",
    )
    # What a parsed request body may hold, checked before a handler runs (400/413 above), so
    # that one request cannot stall the loop or store a value the JSON writer refuses.
    max_body_fields: int = option(
        1000,
        flag="--max-body-fields",
        env="ARO_MAX_BODY_FIELDS",
        parse=_whole(1),
        help="most fields in a request body: form fields, multipart parts, JSON keys in all (400)",
    )
    max_body_depth: int = option(
        64,
        flag="--max-body-depth",
        env="ARO_MAX_BODY_DEPTH",
        parse=_whole(1, DEEPEST_JSON),
        help=f"deepest nesting of arrays and objects in a JSON body, up to {DEEPEST_JSON} (400)",
    )
    max_body_string: int = option(
        1 << 16,
        flag="--max-body-string",
        env="ARO_MAX_BODY_STRING",
        parse=_whole(1),
        help="longest string in a JSON or form body, in characters (413 above)",
    )
    socket_port: int | None = option(
        None,
        flag="--socket-port",
        env="ARO_SOCKET_PORT",
        parse=_port,
        help="TCP socket server port, 0 = any free one; unset: the program's, 9000",
    )
    ws_max_message: int = option(
        1 << 20,
        flag="--ws-max-message",
        env="ARO_WS_MAX_MESSAGE",
        parse=_whole(1),
        help="largest WebSocket message in bytes (1009 above)",
    )
    ws_ping_interval: float = option(
        20.0,
        flag="--ws-ping-interval",
        env="ARO_WS_PING_INTERVAL",
        parse=_non_negative,
        help="seconds of silence before the server pings a WebSocket (0 = never)",
    )
    ws_compression: bool = option(
        True,
        flag="--ws-no-compression",
        flag_sets=False,
        env="ARO_WS_COMPRESSION",
        parse=_switch,
        help="permessage-deflate when a client offers it (the flag turns it off)",
    )
    ws_compress_min: int = option(
        256,
        flag="--ws-compress-min",
        env="ARO_WS_COMPRESS_MIN",
        parse=_whole(0),
        help="smallest WebSocket message worth compressing, in bytes",
    )
    ws_allowed_origins: tuple[str, ...] = option(
        (),
        flag="--ws-allowed-origins",
        env="ARO_WS_ALLOWED_ORIGINS",
        parse=_origins,
        help="comma-separated origins (https://host[:port]) whose pages may open a WebSocket"
        " besides the server's own, or * for any; always accepted: no Origin (not a browser)"
        " and an Origin matching the Host header; others get 403 (docs/decisions.md, 17)",
    )
    keep_alive: bool = option(
        False,
        flag="--keep-alive",
        flag_sets=True,
        env="ARO_KEEP_ALIVE",
        parse=_switch,
        help="after Application-Start, keep running until SIGINT or SIGTERM",
    )
    debug: bool = option(
        False,
        flag="--debug",
        flag_sets=True,
        env="ARO_DEBUG",
        parse=_switch,
        help="show the Python traceback of an internal error",
    )
    compile_cache: str = option(
        "",
        flag="--compile-cache",
        env="ARO_COMPILE_CACHE",
        parse=_text,
        help="directory keeping compiled programs of large apps (default: $XDG_CACHE_HOME/aro),"
        " or off",
    )
    record: str | None = option(
        None,
        flag="--record",
        env="ARO_RECORD",
        parse=_text,
        help="write the events the program publishes to this JSON file when it ends",
    )
    replay: str | None = option(
        None,
        flag="--replay",
        env="ARO_REPLAY",
        parse=_text,
        help="publish the events recorded in this JSON file (by --record) before the start",
    )
    # Where repositories keep their rows (docs/stores.md).  For `aro serve --workers N` (N > 1)
    # without one, aro.runtime.repositories.private_sqlite_store gives a private SQLite file.
    store: str = option(
        "memory",
        flag="--store",
        env="ARO_STORE",
        parse=_store_url,
        help="where repositories keep their rows: memory (this process), sqlite:PATH (a file"
        " shared by the processes of one machine, kept across restarts) or"
        " redis://HOST[:PORT][/DB] (a Redis server shared by several machines)",
    )
    bus: str = option(
        "local",
        flag="--bus",
        env="ARO_BUS",
        parse=_bus,
        help="broadcast bus: local (this process; under aro serve, its workers) or "
        "redis://HOST:PORT[/DB] (every server on that Redis forms one chat)",
    )
    workers: int | None = option(
        None,
        flag="--workers",
        env="ARO_WORKERS",
        parse=_whole(1),
        serve_only=True,
        help="worker processes of aro serve, all on one port; unset: the number of CPUs",
    )
    reload_grace: float = option(
        60.0,
        flag="--reload-grace",
        env="ARO_RELOAD_GRACE",
        parse=_non_negative,
        serve_only=True,
        help="aro serve: seconds a worker replaced by SIGHUP keeps its WebSockets and TCP "
        "clients (new connections go to its successor) before it closes them with 1001",
    )
    # Set by aro serve for each worker it starts (docs/guide/deploying.md).
    worker: str = option(
        "", env="ARO_WORKER_ID", parse=_text, help="set by aro serve: this worker's index"
    )
    notify_fd: int | None = option(
        None,
        env="ARO_NOTIFY_FD",
        parse=_whole(0),
        help="set by aro serve: the pipe on which a worker says it accepts connections",
    )

    @classmethod
    def load(cls, flags: Mapping[str, Any], environ: Mapping[str, str]) -> Config:
        """The Config from given flags (by field name; None = not given; text, or the
        ``flag_sets`` value of a switch) and the environment.  ConfigError when a value
        does not parse."""
        values: dict[str, Any] = {}
        for item in fields(cls):
            meta = item.metadata
            given = flags.get(item.name)
            source = meta["flag"] or item.name
            if given is None and meta["env"] is not None and environ.get(meta["env"]):
                given, source = environ[meta["env"]], meta["env"]
            if given is None:
                continue
            if isinstance(given, str):
                try:
                    given = meta["parse"](given)
                except ValueError as error:
                    raise ConfigError(f"{source} {error} (got {given!r})") from None
            values[item.name] = given
        return cls(**values)


#: The options a user can set, in declaration order: for the command line and the flag
#: reference (each has ``.name``, ``.default`` and the ``.metadata`` of :func:`option`).
OPTIONS = tuple(item for item in fields(Config) if item.metadata["flag"] or item.metadata["env"])
