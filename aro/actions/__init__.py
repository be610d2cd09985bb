"""Built-in actions.  Importing this package registers every verb (``aro.vm.registry``).

Order matters where modules share a verb: a later registration wins.
"""

from aro.actions import (
    calls,
    collections,
    core,
    events,
    files,
    net,
    output,
    repository,
    response,
    services,
    templates,
    testing,
)

__all__ = [
    "calls", "collections", "core", "events", "files", "net", "output", "repository", "response",
    "services", "templates", "testing",
]  # fmt: skip
