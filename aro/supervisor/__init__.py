"""Many worker processes behind one port (``aro serve``), and the relay that carries messages
between them.  Like uvicorn's supervisor, this package knows nothing of ARO: it starts a
command N times, restarts, drains and reloads the copies, and copies frames between them."""

from aro.supervisor.process import INDEX_VARIABLE, NOTIFY_VARIABLE, READY, Settings, Supervisor
from aro.supervisor.relay import Relay

__all__ = ["INDEX_VARIABLE", "NOTIFY_VARIABLE", "READY", "Relay", "Settings", "Supervisor"]
