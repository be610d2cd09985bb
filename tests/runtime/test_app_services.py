"""Services chosen by name, and the capabilities ``frame.services`` offers actions."""

from __future__ import annotations

import asyncio
import io
import typing
from typing import Any

import pytest

import aro.vm.services
from aro.lang.compiler import compile_source
from aro.runtime import app as app_module
from aro.runtime.app import SERVICES, Application, ServiceKind
from aro.vm.errors import ActionError
from tests.support.inproc import run_program, start


class Clock:
    """A stand-in service: what the table asks of a service and nothing more."""

    port = 4242

    def __init__(self, with_value: Any) -> None:
        self.with_value = with_value
        self.stopped = False

    async def start(self) -> dict[str, Any]:
        return {"ticking": self.with_value}

    async def stop(self) -> None:
        self.stopped = True


def _app() -> Application:
    program = compile_source(start("    Return an <OK: status> for the <startup>."), "t.aro")
    return Application(program, None, {}, {}, stdout=io.StringIO())


def test_a_service_is_one_row_of_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    def build(app: Application, with_value: Any) -> tuple[Clock, str]:
        return Clock(with_value), "Clock started on port {port}"

    services = {**SERVICES, "clock-server": ServiceKind(build, "Clock stopped")}
    monkeypatch.setattr(app_module, "SERVICES", services)
    app = _app()

    async def start_and_stop() -> tuple[Any, Clock]:
        description = await app.servers.start("clock-server", {"rate": 2})
        clock = app.services_running["clock-server"]
        await app.servers.stop("clock-server", None)
        return description, clock

    description, clock = asyncio.run(start_and_stop())
    assert description == {"ticking": {"rate": 2}}
    assert clock.stopped
    assert app.stdout.getvalue() == "Clock started on port 4242\nClock stopped\n"


def test_an_unknown_service_keeps_its_error_text() -> None:
    with pytest.raises(ActionError) as refused:
        asyncio.run(_app().servers.start("mail-server", {}))
    assert str(refused.value) == "The service 'mail-server' is not available in this runtime"
    outcome = run_program(start("    Start the <mail-server> with {}.\n"))
    assert outcome.exit_code == 1
    assert "Cannot start the mail-server" in outcome.stdout


def test_the_servers_and_the_file_monitor_are_in_the_table() -> None:
    assert set(SERVICES) == {"http-server", "socket-server", "file-monitor"}


def _capabilities() -> dict[str, type]:
    hints = typing.get_type_hints(aro.vm.services.Services, vars(aro.vm.services))
    return {name: kind for name, kind in hints.items() if isinstance(kind, type)}


def test_the_application_offers_every_capability_with_every_method() -> None:
    app = _app()
    capabilities = _capabilities()
    assert {"console", "events", "connections", "servers", "templates", "actions"} <= set(
        capabilities
    )
    for name, protocol in capabilities.items():
        methods = [
            m for m in vars(protocol) if not m.startswith("_") and callable(vars(protocol)[m])
        ]
        assert methods, name
        for method in methods:
            assert callable(getattr(getattr(app, name), method)), f"{name}.{method}"
