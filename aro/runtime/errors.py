"""Errors that stop the application from starting, as one line that says what to change."""

from __future__ import annotations

import errno

from aro.vm.errors import AroError


class StartupError(AroError):
    """The program cannot start: no entry point, several, a port it cannot listen on.

    An ``AroError`` but not an ``ActionError``, so the VM lets it through unchanged instead of
    rewording it as the failed statement (which would lose the port and the reason)."""


def listen_failure(host: str, port: int, error: OSError) -> StartupError:
    """``port 8080 is already in use``, or the system's reason for another failure to listen."""
    if error.errno == errno.EADDRINUSE:
        return StartupError(f"port {port} is already in use")
    return StartupError(f"cannot listen on {host}:{port}: {error.strerror or error}")


class UsageError(StartupError):
    """The command cannot run as given (exit 2, like a bad option): a store that cannot be
    reached or opened at start."""
