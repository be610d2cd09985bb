"""Built-in actions.  Importing this package registers every verb (``aro.vm.registry``).

Order matters where modules share a verb: a later registration wins.
"""

from aro.actions import (
    calls,
    collections,
    core,
    events,
    files,
    git,
    http_client,
    listen,
    net,
    output,
    parse,
    repository,
    response,
    services,
    sockets_client,
    system,
    templates,
    terminal,
    testing,
)

__all__ = [
    "calls", "collections", "core", "events", "files", "git", "http_client", "listen", "net",
    "output", "parse", "repository", "response", "services", "sockets_client", "system",
    "templates", "terminal", "testing",
]  # fmt: skip
