"""The Application: runs a compiled program's lifecycle and provides its services.

``Application`` is ``frame.services`` (``aro.vm.services.Services``): the one object through
which actions reach their capabilities.  It is the console, events, servers and actions
capabilities itself; connections, templates, repositories, the HTTP and socket clients, the
system, timers, the terminal and the keyboard are objects of their own.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple, Protocol, TextIO

from aro.config import Config
from aro.lang.bytecode import CodeObject, Program
from aro.net.openapi import Contract, ContractError
from aro.runtime.broadcast import Connections, LocalClients
from aro.runtime.dispatch import error_text
from aro.runtime.errors import StartupError
from aro.runtime.events import EventBus
from aro.runtime.execution_metrics import ExecutionMetrics, as_dict
from aro.runtime.file_monitor import FileMonitor, monitored_path
from aro.runtime.files import LocalFiles
from aro.runtime.handlers import END, classify
from aro.runtime.http import HttpService, resolve_port
from aro.runtime.keyboard import TerminalKeyboard
from aro.runtime.metrics_formats import render
from aro.runtime.plugins import PluginSet
from aro.runtime.recording import EventRecorder, replay
from aro.runtime.repositories import RepositoryRegistry, load_store_files
from aro.runtime.socket_client import SocketClientService
from aro.runtime.socket_service import SocketService, resolve_socket_port
from aro.runtime.sources import EventSources, EventTimers
from aro.runtime.system import HostSystem
from aro.runtime.templates import TemplateEngine
from aro.runtime.terminal import ConsoleTerminal
from aro.runtime.websocket_service import WebSocketService, websocket_settings
from aro.supervisor import READY
from aro.vm import values
from aro.vm.errors import ActionError, AroError, StatementError
from aro.vm.frame import Frame, Response
from aro.vm.services import ActionCall, HttpClient, Testing

IDLE_KEEPALIVE_SECONDS = 2.0
FORCED_EXIT_SECONDS = 5.0
USER_ACTION_NAMESPACE = "Application"
HTTP_SERVER = "http-server"
SOCKET_SERVER = "socket-server"
#: Without a contract there are no routes, and every request gets the reference's generic
#: answer: say so at start-up, or a misnamed or misplaced openapi.yaml goes unnoticed.
NO_CONTRACT_NOTICE = (
    "Notice: no openapi.yaml found: contract-less mode, every HTTP request answers 200"
    ' "Request received"\n'
)
RELOAD_NOTICE = "SIGHUP: stopping gracefully (to reload without stopping, use aro serve)\n"
#: What aro serve sends a worker whose successor accepts connections (docs/guide/deploying.md)
RETIRE_SIGNAL = signal.SIGUSR1
RETIRE_POLL_SECONDS = 0.25


class Application:
    """One running ARO application."""

    def __init__(
        self,
        program: Program,
        root: Path | None = None,
        parameters: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
        config: Config | None = None,
        plugins: PluginSet | None = None,
    ) -> None:
        self.program = program
        self.root = root
        self.parameters = dict(parameters or {})
        self.environ = os.environ if environ is None else environ
        self.config = Config.load({}, self.environ) if config is None else config
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.handlers = classify(program)
        self.executions = ExecutionMetrics()
        self.bus = EventBus(self.handlers)
        self.repositories = RepositoryRegistry(
            self._on_repository_change, self.bus.observes_repository, self.config.store
        )
        self.contract = Contract.load(root) if root is not None else None
        self.templates = TemplateEngine(root / "templates" if root is not None else None, self)
        self.console = self.events = self.servers = self.actions = self
        self.plugins = PluginSet.load(root, self.warn) if plugins is None else plugins
        self.qualifiers = self.plugins
        self.files = LocalFiles()
        self.services_running: dict[str, Any] = {}
        self.testing: Testing | None = None  # set by the test runner only
        self.root_frame: Frame | None = None  # Application-Start's: parent of handler frames
        self.shutdown_requested = asyncio.Event()
        self.shutdown_signal = "SIGTERM"
        self.published: dict[str, dict[str, Any]] = {}
        self._told_ready = False
        self._retiring: asyncio.Future | None = None
        self.connections = Connections(
            LocalClients(self._websocket, self._sockets, self._socket_clients),
            self.config.bus,
            self.warn,
        )
        self.sources = EventSources()
        self.timers = EventTimers(self, self.sources)
        self.system = HostSystem()
        self.terminal = ConsoleTerminal(self.stdout, self.environ)
        self.keyboard = TerminalKeyboard(self, self.sources, sys.stdin)
        self._http: Any = None
        self._outbound: SocketClientService | None = None
        self.recorder = None if self.config.record is None else EventRecorder(self._name())

    @property
    def http(self) -> HttpClient:
        """The HTTP client, made on first use: its library is imported only by programs that
        make requests, which keeps it out of every other program's start-up time."""
        if self._http is None:
            from aro.runtime.http_client import AiohttpClient

            self._http = AiohttpClient(self, self.sources)
        return self._http

    @property
    def sockets(self) -> SocketClientService:
        """Outbound TCP connections; made on first use, after Application-Start's frame
        exists (their handlers run as its children)."""
        if self._outbound is None:
            self._outbound = SocketClientService(self, self.handlers, self.root_frame, self.sources)
        return self._outbound

    # -- Services ----------------------------------------------------------------------------

    def warn(self, line: str) -> None:
        self.stderr.write(line + "\n")
        self.stderr.flush()

    def log(self, feature: str, message: str, stream: str = "stdout") -> None:
        target = self.stderr if stream == "stderr" else self.stdout
        target.write(f"[{feature}] {message}\n")

    async def emit(self, event_type: str, payload: dict, wait: bool = True) -> None:
        if self.recorder is not None:
            self.recorder.record(event_type, payload)
        await self.bus.emit(event_type, payload, wait=wait)

    def publish(self, alias: str, value: Any, activity: str) -> None:
        self.published.setdefault(activity, {})[alias] = value

    async def start(self, service: str, with_value: Any) -> Any:
        kind = SERVICES.get(service)
        if kind is None:
            raise ActionError(f"The service '{service}' is not available in this runtime")
        if service in self.services_running:
            raise ActionError(f"The {service} is already running")
        running, started = kind.build(self, with_value)
        description = await running.start()
        self.services_running[service] = running
        if started:
            self.stdout.write(started.format(port=running.port) + "\n")
            self.stdout.flush()
        self._notify_ready()
        return description

    def _notify_ready(self) -> None:
        """Under aro serve: tell the supervisor, once, that this worker accepts connections
        (a reload stops the old worker only then)."""
        fd = self.config.notify_fd
        if fd is not None and not self._told_ready:
            self._told_ready = True
            os.write(fd, READY)
            os.close(fd)

    async def stop(self, service: str, with_value: Any) -> None:
        running = self.services_running.pop(service, None)
        if running is None:
            return
        await running.stop()
        if SERVICES[service].stopped:
            self.stdout.write(SERVICES[service].stopped + "\n")

    def _websocket(self) -> WebSocketService | None:
        http = self.services_running.get(HTTP_SERVER)
        return None if http is None else http.websocket

    def _sockets(self) -> SocketService | None:
        return self.services_running.get(SOCKET_SERVER)

    def _socket_clients(self) -> SocketClientService | None:
        return self._outbound

    async def keepalive(self) -> None:
        """Wait for a signal; with no server running, also return once events are idle and
        no event source (stream, timer, outbound connection) runs any more."""
        if self.services_running:
            await self.shutdown_requested.wait()
            return
        waiter = asyncio.ensure_future(self.shutdown_requested.wait())
        try:
            while not waiter.done():
                await self.bus.idle()
                done, _ = await asyncio.wait({waiter}, timeout=IDLE_KEEPALIVE_SECONDS)
                if not done and self.bus.is_idle() and not self.sources:
                    return
        finally:
            waiter.cancel()

    async def call_action(self, call: ActionCall) -> Any:
        if call.namespace == USER_ACTION_NAMESPACE:
            return await self._call_user_action(call)
        return self.plugins.call_action(call)

    async def _call_user_action(self, call: ActionCall) -> dict[str, Any]:
        """Run the ``(Name: Action)`` feature set in a child of the caller's frame with
        ``input`` bound; answer its response flattened: status, reason, then its values."""
        code = self.handlers.user_actions.get(call.verb)
        if code is None:
            raise ActionError(f"Unknown action: {USER_ACTION_NAMESPACE}.{call.verb}")
        frame = Frame(
            code, self, parent=call.caller, bindings={"input": user_action_input(code, call)}
        )
        response = await self.executions.run(frame)
        flat: dict[str, Any] = {"status": response.status}
        if response.reason:
            flat["reason"] = response.reason
        flat.update(response.payload)
        return flat

    def magic(self, name: str, specifiers: tuple[str, ...]) -> Any:
        http = self.services_running.get("http-server")
        if name in ("http-server", "httpServer", "contract", "Contract"):
            return self._server_description(http)
        if name == "metrics":
            return self._metrics(http, specifiers[0] if specifiers else None)
        if name == "terminal":
            return self.terminal.describe()
        raise KeyError(name)

    def _metrics(self, http: HttpService | None, form: str | None) -> Any:
        """The feature-set and process figures: a map, or text in the named format.  With an
        HTTP server running the map holds its figures under ``http`` and the Prometheus text
        ends with its series."""
        snapshot = self.executions.snapshot()
        server = http.metrics.snapshot() if http is not None else None
        if form is None:
            figures = as_dict(snapshot)
            if server is not None:
                figures["http"] = {k: v for k, v in server.items() if k != "prometheus"}
            return figures
        text = render(snapshot, form)
        if server is not None and form.lower() == "prometheus":
            text += "\n\n" + server["prometheus"].rstrip("\n")
        return text

    def _server_description(self, http: HttpService | None) -> dict[str, Any]:
        port = http.port if http else resolve_port(self.config, None, self.contract)
        description: dict[str, Any] = {"port": port, "hostname": http.host if http else ""}
        if self.contract is not None:
            routes = [f"{op.method} {op.path}" for op in self.contract.operations]
            description.update(routes=routes, routeCount=len(routes), title=self.contract.title)
        return description

    def _on_repository_change(self, event_type: str, payload: dict, wait: bool) -> Any:
        return self.bus.emit(event_type, payload, wait=wait)

    # -- lifecycle ---------------------------------------------------------------------------

    def entry_point(self) -> CodeObject:
        entries = self.handlers.entry_points
        if not entries:
            raise StartupError("Entry point not found: no Application-Start feature set")
        if len(entries) > 1:
            raise StartupError("Multiple Application-Start feature sets found")
        return entries[0]

    def end_handler(self, activity: str) -> CodeObject | None:
        return self.handlers.end.get(activity)

    def retire(self) -> None:
        """Replaced by a fresh worker: stop accepting and finish the HTTP requests in flight,
        keep serving the open WebSockets and TCP connections (they still get every broadcast
        over the bus) until they have all closed or ``reload_grace`` is over, then stop as on
        SIGTERM."""
        if self._retiring is None and not self.shutdown_requested.is_set():
            self._retiring = asyncio.ensure_future(self._retire())

    async def _retire(self) -> None:
        http, sockets = self.services_running.get(HTTP_SERVER), self._sockets()
        if http is not None:
            await http.server.stop()  # upgraded connections are not its to close
        if sockets is not None:
            sockets.server.stop_accepting()
        self.stdout.write(f"Worker {self.config.worker} retired (pid {os.getpid()})\n")
        self.stdout.flush()

        def connected() -> bool:
            websockets = http is not None and http.open_websockets() > 0
            return websockets or (sockets is not None and bool(sockets.server.connections))

        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.reload_grace
        while loop.time() < deadline and connected():
            await asyncio.sleep(RETIRE_POLL_SECONDS)
        self.request_shutdown("SIGUSR1")

    def request_shutdown(self, signal_name: str = "SIGTERM") -> None:
        self.shutdown_signal = signal_name
        self.shutdown_requested.set()

    def check_contract(self) -> None:
        """Every contract operation needs a feature set named by its operationId."""
        if self.contract is not None:
            try:
                self.contract.check_handlers(self.handlers.by_name.keys())
            except ContractError as error:
                raise StartupError(str(error)) from None

    async def open_repositories(self) -> None:
        """Reach the store (StoreUnavailable when it cannot be), then seed it from the
        ``.store`` files, all before the program runs."""
        await self.repositories.open()
        if self.root is not None:
            await load_store_files(self.repositories, self.root)

    async def run(self) -> int:
        """Application-Start, pending events, Application-End; prints the final line."""
        self.check_contract()
        await self.open_repositories()
        try:
            return await self._run()
        finally:
            await self.repositories.close()

    async def _run(self) -> int:
        root = self.root_frame = Frame(self.entry_point(), self)
        self.bus.bind(self, root)
        if self.config.worker:
            self.stdout.write(f"Worker {self.config.worker} started (pid {os.getpid()})\n")
        await self.connections.bus.start()
        if self.config.replay is not None:
            await replay(Path(self.config.replay), self.bus.emit)
        try:
            return await self._run_lifecycle(root)
        finally:
            self._save_recording()

    async def _run_lifecycle(self, root: Frame) -> int:
        try:
            response = await self.executions.run(root)
            await self.bus.idle()
            if self.config.keep_alive:
                await self.shutdown_requested.wait()
        except AroError as error:
            reason = error_text(error, one_line=False)
            await self._run_end("Error", {"reason": reason, "code": 1, "error": reason}, root)
            prefix = "Runtime error: " if isinstance(error, StatementError) else "Error: "
            self.stdout.write(f"{prefix}{error}\n")
            return 1
        await self._run_end(
            "Success", {"reason": "graceful shutdown", "code": 0, "signal": "SIGTERM"}, root
        )
        self._print_response(response)
        return 0

    def _name(self) -> str:
        return self.root.resolve().name if self.root is not None else "ARO Application"

    def _save_recording(self) -> None:
        if self.recorder is None or self.config.record is None:
            return
        try:
            self.recorder.save(Path(self.config.record))
        except OSError as error:
            self.stderr.write(f"Cannot record events to {self.config.record}: {error.strerror}\n")

    async def _run_end(self, activity: str, shutdown: dict, root: Frame) -> None:
        """Application-End, then stop what it left running: closing the servers here is what
        lets every WebSocket get its going-away close and every Disconnect handler run."""
        code = self.end_handler(activity)
        if code is not None:
            try:
                end = Frame(code, self, parent=root, bindings={"shutdown": shutdown})
                await self.executions.run(end)
                await self.bus.idle()
            except AroError as error:
                self.stderr.write(f"[{END}] {error}\n")
        for service in list(self.services_running):
            await self.stop(service, None)
        await self._close_clients()
        await self.connections.bus.stop()

    async def _close_clients(self) -> None:
        """Stop the event sources (streams, timers, connections), then close the clients."""
        await self.sources.close()
        if self._outbound is not None:
            await self._outbound.close()
        if self._http is not None:
            await self._http.close()

    def _print_response(self, response: Response) -> None:
        if response.reason == "application":
            return
        lines = [f"[{response.status}] {response.reason}"]
        lines.extend(values.format_payload_lines(response.payload))
        self.stdout.write("\n".join(lines) + "\n")


def user_action_input(code: CodeObject, call: ActionCall) -> dict[str, Any]:
    """A user-defined action's ``input``: the ``with`` map; else, for ``Action takes
    <field>``, ``{field: object}``; else the object when it is a map; else empty."""
    if isinstance(call.with_value, dict):
        return call.with_value
    if code.takes and call.object_value is not None:
        return {code.takes[0][0]: call.object_value}
    if isinstance(call.object_value, dict):
        return call.object_value
    return {}


class Service(Protocol):
    """What ``Start the <name>`` starts; ``port`` is read only by a "started" line that
    names it."""

    port: int

    async def start(self) -> Any: ...

    async def stop(self) -> None: ...


class ServiceKind(NamedTuple):
    """How to build one service and what it prints: ``build`` returns the service and its
    "started" line (``{port}`` filled in once it listens); ``stopped`` follows a stop."""

    build: Callable[[Application, Any], tuple[Service, str]]
    stopped: str = ""


def _http_server(app: Application, with_value: Any) -> tuple[HttpService, str]:
    """The HTTP server with its WebSocket endpoint (on by default, decision 8)."""
    started = "HTTP Server started on port {port}"
    ws_settings = websocket_settings(with_value, app.config)
    websocket = None
    if ws_settings is not None:
        websocket = WebSocketService(app, app.handlers, app.root_frame, ws_settings)
        started += f" (WebSocket enabled on {ws_settings.path})"
    if app.contract is None:
        app.stderr.write(NO_CONTRACT_NOTICE)
    port = resolve_port(app.config, with_value, app.contract)
    http = HttpService(app, app.handlers, app.contract, app.config, port, websocket)
    return http, started


def _socket_server(app: Application, with_value: Any) -> tuple[SocketService, str]:
    port = resolve_socket_port(app.config, with_value)
    # under aro serve every worker listens on the port (SO_REUSEPORT, docs/decisions.md, 29)
    shared = bool(app.config.worker)
    socket = SocketService(app, app.handlers, app.root_frame, app.config.host, port, shared)
    return socket, "Socket Server started on port {port}"


def _file_monitor(app: Application, with_value: Any) -> tuple[FileMonitor, str]:
    """Prints nothing: the program says what it watches, as with the reference."""
    path = monitored_path(with_value)
    return FileMonitor(app, app.handlers, app.root_frame, path), ""


#: The services ``Start the <name>`` knows, by name: a new service is one row.
SERVICES: dict[str, ServiceKind] = {
    HTTP_SERVER: ServiceKind(_http_server),
    SOCKET_SERVER: ServiceKind(_socket_server, "Socket Server stopped"),
    "file-monitor": ServiceKind(_file_monitor),
}


def install_signal_handlers(app: Application) -> None:
    """SIGINT, SIGTERM and SIGHUP release Keepalive; a second signal or 5 s later the process
    exits.  SIGHUP stops gracefully too (Application-End runs, WebSockets get 1001): a
    terminal that closes must not drop clients and memory-held data unannounced; reloading
    is ``aro serve``'s (its supervisor takes the SIGHUP).  A worker of ``aro serve`` also
    retires on :data:`RETIRE_SIGNAL` (``Application.retire``)."""
    loop = asyncio.get_running_loop()
    if app.config.worker:
        loop.add_signal_handler(RETIRE_SIGNAL, app.retire)

    def on_signal(name: str) -> None:
        if app.shutdown_requested.is_set():
            os._exit(0)
        if name == "SIGHUP":
            app.stderr.write(RELOAD_NOTICE)
            app.stderr.flush()
        app.request_shutdown(name)
        loop.call_later(FORCED_EXIT_SECONDS, os._exit, 0)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(signum, on_signal, signum.name)
