"""The `<http-server>` service: contract-first routing from the wire into the VM.

One ``HttpService`` per application.  Routes, handler code objects and everything else that
does not depend on the request are resolved once at start; ``handle`` does the per-request
work: route, bind the request context, run the feature set, map its Response to bytes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from contextvars import copy_context
from time import perf_counter
from typing import TYPE_CHECKING, Any

from aro.config import Config, first_port
from aro.lang.bytecode import CodeObject
from aro.net.aio import Suspended, first_step_in
from aro.net.http import Request
from aro.net.openapi import Contract
from aro.net.server import HttpServer, RawResponse
from aro.runtime.errors import listen_failure
from aro.runtime.handlers import HandlerTable
from aro.runtime.http import responses
from aro.runtime.http.bindings import (
    BodyError,
    BodyLimits,
    request_bindings,
    slots_for_request,
)
from aro.runtime.http.metrics import Metrics
from aro.runtime.websocket_service import WORKER_HEADER
from aro.vm.errors import AroError
from aro.vm.frame import Frame, Response
from aro.vm.machine import Wait, advance, execute

if TYPE_CHECKING:
    from aro.runtime.websocket_service import WebSocketService

DEFAULT_PORT = 8080
CONTENT_TYPE = b"Content-Type"
UPGRADE_REQUIRED = (
    426,
    ((CONTENT_TYPE, responses.JSON), (b"Upgrade", b"websocket")),
    b'{"error":"Upgrade Required"}',
)
#: The header block of the usual content types, shared by every response that has it.
_CONTENT_TYPES = {
    content_type: ((CONTENT_TYPE, content_type),)
    for content_type in (responses.JSON, responses.HTML, responses.CSS, responses.JAVASCRIPT)
}


def resolve_port(config: Config, with_value: Any, contract: Contract | None) -> int:
    """The port by docs/decisions.md, decision 7: --port or ARO_HTTP_PORT (``config.port``),
    the program's ``Start … with`` value, the contract, 8080."""
    contract_port = contract.server_port if contract is not None else None
    return first_port(config.port, with_value, contract_port, DEFAULT_PORT)


class HttpService:
    def __init__(
        self,
        services: Any,
        handlers: HandlerTable,
        contract: Contract | None,
        config: Config,
        port: int,
        websocket: WebSocketService | None = None,
    ) -> None:
        self.services = services
        self.executions = services.executions
        self.body_limits = BodyLimits.from_config(config)
        self.contract = contract
        # each operation's feature set, with the slots its request bindings go to
        self.handlers: Mapping[str, tuple[CodeObject, tuple[tuple[int, str], ...]]] = {
            name: (code, slots_for_request(code)) for name, code in handlers.by_name.items()
        }
        self.metrics = Metrics(config.worker)
        self.metrics.websocket = self.websocket = websocket
        # under aro serve: which worker answered (every response), and a port shared with
        # the other workers
        self.worker_header = (WORKER_HEADER, config.worker.encode()) if config.worker else None
        upgrade = None if websocket is None else websocket.upgrade_handler()
        self.server = HttpServer(
            self.handle,
            config.host,
            port,
            max_body=config.max_body,
            upgrade_handler=upgrade,
            keepalive_timeout=config.keepalive_timeout,
            request_timeout=config.request_timeout,
            max_connections=config.max_connections or None,
            reuse_port=bool(config.worker),
        )
        self.metrics.server = self.server
        self.port = port
        self.host = config.host

    async def start(self) -> dict[str, Any]:
        try:
            self.port = await self.server.start()
        except OSError as error:
            raise listen_failure(self.host, self.port, error) from None
        self.metrics.start()
        return {"port": self.port, "hostname": self.host}

    async def stop(self) -> None:
        """Stop listening; close the WebSockets (going away) while HTTP requests drain."""
        if self.websocket is None:
            await self.server.stop()
        else:
            await asyncio.gather(self.server.stop(), self.websocket.stop())
        self.metrics.stop()

    def open_websockets(self) -> int:
        return 0 if self.websocket is None else len(self.websocket.hub)

    def handle(self, request: Request) -> RawResponse | Suspended:
        """Route and answer: at once (a tuple) when no feature set runs or its run never
        waits, else the ``Suspended`` rest of a run that waits (one coroutine per such request,
        no more).  An operation's run is timed from the request's arrival, so it includes the
        binding."""
        started = perf_counter()
        if self.contract is None:
            if self._is_websocket_path(request):
                status, headers, body = UPGRADE_REQUIRED
            else:
                status, headers, body = responses.no_contract_response()
        else:
            operation, path_params, allowed = self.contract.router.resolve(
                request.method, request.path
            )
            if operation is not None:
                return self._run(request, operation, path_params, started)
            status, headers, body = self._unrouted(request, allowed)
        return self._answer("-", status, headers, body, perf_counter() - started)

    def _answer(
        self,
        operation_id: str,
        status: int,
        headers: Sequence[tuple[bytes, bytes]],
        body: bytes,
        seconds: float,
    ) -> RawResponse:
        """Count the request in the metrics; the response with the worker's header."""
        self.metrics.record(operation_id, status, seconds)
        if self.worker_header is not None:
            headers = [*headers, self.worker_header]
        return status, headers, body

    def _is_websocket_path(self, request: Request) -> bool:
        return self.websocket is not None and request.path == self.websocket.settings.path

    def _unrouted(self, request: Request, allowed: tuple[str, ...]) -> RawResponse:
        if allowed:
            status, content_type, body = responses.method_not_allowed(allowed)
            allow = ", ".join(allowed).encode()
            return status, [(CONTENT_TYPE, content_type), (b"Allow", allow)], body
        if self._is_websocket_path(request):
            return UPGRADE_REQUIRED  # decision 8: the WebSocket path wants an upgrade
        status, content_type, body = responses.not_found(request.path)
        return status, [(CONTENT_TYPE, content_type)], body

    def _run(
        self, request: Request, operation: Any, path_params: dict[str, str], started: float
    ) -> RawResponse | Suspended:
        """The operation's answer, counted in the metrics as of when its run ended.  The
        feature set runs now, in a copy of the context as a task's first step would; only a
        run that waits makes a coroutine, which goes on in that same context."""
        operation_id = operation.operation_id
        handler = self.handlers.get(operation_id)
        if handler is None:
            reply = responses.not_implemented(operation_id)
            return self._reply(operation_id, reply, perf_counter() - started)
        code, request_slots = handler
        try:
            bindings = request_bindings(request, operation, path_params, self.body_limits)
        except BodyError as error:
            reply = responses.refused(error.status, error.reason)
            return self._reply(operation_id, reply, perf_counter() - started)
        frame = Frame(code, self.services)
        frame.adopt_names(bindings, request_slots)
        context = copy_context()
        try:
            outcome = context.run(advance, frame)
        except AroError as error:
            return self._failed(operation_id, code, error, started)
        except BaseException:
            self._crashed(code, started)
            raise
        if type(outcome) is not Response:
            running = self._go_on(request, operation_id, frame, outcome, started)
            return first_step_in(running, context)
        reply = responses.encode_body(outcome, request.path)
        return self._ended(operation_id, code, reply, started, False)

    async def _go_on(
        self, request: Request, operation_id: str, frame: Frame, outcome: Wait, started: float
    ) -> RawResponse:
        """Finish a run that waits (``outcome`` is where it stopped)."""
        code = frame.code
        try:
            response = await execute(frame, outcome)
        except AroError as error:
            return self._failed(operation_id, code, error, started)
        except BaseException:
            self._crashed(code, started)
            raise
        reply = responses.encode_body(response, request.path)
        return self._ended(operation_id, code, reply, started, False)

    def _ended(
        self,
        operation_id: str,
        code: CodeObject,
        reply: responses.Reply,
        started: float,
        failed: bool,
    ) -> RawResponse:
        """A run of ``code`` that ended with ``reply``: counted in the feature-set metrics,
        then answered as every request is."""
        seconds = perf_counter() - started
        self.executions.record(code, seconds, failed)
        return self._reply(operation_id, reply, seconds)

    def _failed(
        self, operation_id: str, code: CodeObject, error: AroError, started: float
    ) -> RawResponse:
        self.metrics.errors += 1
        return self._ended(operation_id, code, responses.error_response(error), started, True)

    def _reply(self, operation_id: str, reply: responses.Reply, seconds: float) -> RawResponse:
        """``reply`` with its headers, counted in the HTTP metrics."""
        status, content_type, body = reply
        headers = _CONTENT_TYPES.get(content_type) or ((CONTENT_TYPE, content_type),)
        return self._answer(operation_id, status, headers, body, seconds)

    def _crashed(self, code: CodeObject, started: float) -> None:
        """Count a run that raised something other than an ARO error (a runtime defect)."""
        self.executions.record(code, perf_counter() - started, True)
