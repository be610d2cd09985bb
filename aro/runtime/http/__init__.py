"""The `<http-server>` service: routing into the VM (``service``), what a handler starts with
(``bindings``), how its Response goes back on the wire (``responses``), and ``metrics``."""

from aro.runtime.http.metrics import Metrics
from aro.runtime.http.service import HttpService, resolve_port

__all__ = ["HttpService", "Metrics", "resolve_port"]
