"""Built-in actions.  Importing this package registers every verb (``aro.vm.registry``).

Order matters where modules share a verb: a later registration wins.
"""

from aro.actions import collections, core, events, output, repository, response, services

__all__ = [
    "collections", "core", "events", "output", "repository", "response", "services"
]  # fmt: skip
