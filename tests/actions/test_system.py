"""Exec, Schedule and Retrieve from the <system>."""

from __future__ import annotations

import asyncio
import io
import textwrap

from aro.lang.compiler import compile_source
from aro.runtime.app import Application
from aro.runtime.system import HostSystem
from tests.support.inproc import run_program, start


def run_lines(body: str) -> list[str]:
    outcome = run_program(start(body))
    assert outcome.exit_code == 0, outcome.stdout + outcome.stderr
    return [line.removeprefix("[Application-Start] ") for line in outcome.lines]


def test_exec_a_command_with_arguments():
    lines = run_lines("""
        Exec the <result> for the <command: "echo"> with "one two".
        Extract the <output> from the <result: output>.
        Extract the <failed> from the <result: error>.
        Extract the <line> from the <result: command>.
        Log <output> to the <console>.
        Log <failed> to the <console>.
        Log <line> to the <console>.
    """)
    assert lines[:3] == ["one two", "false", "echo one two"]


def test_exec_a_command_line_from_a_variable_through_the_shell():
    lines = run_lines("""
        Create the <cmd> with "printf 'a\\nb\\n' | wc -l".
        Exec the <result> for the <listing> with <cmd>.
        Extract the <output> from the <result: output>.
        Log <output> to the <console>.
    """)
    assert lines[0] == "2"


def test_a_failing_command_is_a_result_not_an_error():
    lines = run_lines("""
        Exec the <result> for the <command> with "echo oops >&2; exit 3".
        Extract the <code> from the <result: exitCode>.
        Extract the <message> from the <result: message>.
        Extract the <output> from the <result: output>.
        Log <code> to the <console>.
        Log <message> to the <console>.
        Log <output> to the <console>.
    """)
    assert lines[:3] == ["3", "Command failed with exit code 3", "oops"]


def test_a_command_past_its_timeout_is_stopped():
    lines = run_lines("""
        Exec the <result> for the <command> with { command: "sleep 20", timeout: 200 }.
        Extract the <message> from the <result: message>.
        Log <message> to the <console>.
    """)
    assert lines[0] == "Command timed out after 0.2 s"


def test_a_running_command_does_not_block_the_event_loop():
    """While ``sleep`` runs, other coroutines on the loop keep running."""

    async def measure() -> int:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.ensure_future(tick())
        await HostSystem().execute("sleep 0.5", None, None, 10)
        ticker.cancel()
        return ticks

    assert asyncio.run(measure()) >= 5


def test_system_metrics():
    lines = run_lines("""
        Retrieve the <stats: SystemMetrics> from the <system>.
        Extract the <total> from the <stats: memory.total>.
        Extract the <cpu> from the <stats: cpu>.
        Extract the <disk> from the <stats: disk.percent>.
        Log <total> to the <console>.
        Log <cpu> to the <console>.
        Log <disk> to the <console>.
    """)
    total, cpu, disk = (int(value) for value in lines[:3])
    assert total >= 0 and 0 <= cpu <= 100 and 0 <= disk <= 100


def test_schedule_emits_its_event_until_the_application_ends():
    """Keepalive waits while a timer runs; the signal ends it, and Application-End runs."""
    program = compile_source(
        textwrap.dedent("""
        (Application-Start: Ticker) {
            Schedule the <tick> with 20 milliseconds.
            Keepalive the <application> for the <events>.
            Return an <OK: status> for the <startup>.
        }
        (Count: tick Handler) {
            Log "tick" to the <console>.
            Return an <OK: status> for the <tick>.
        }
        (Application-End: Success) {
            Log "bye" to the <console>.
            Return an <OK: status> for the <end>.
        }
        """),
        "main.aro",
    )
    out = io.StringIO()
    app = Application(program, None, {}, {}, stdout=out, stderr=out)

    async def run_until_three_ticks() -> int:
        running = asyncio.ensure_future(app.run())
        for _ in range(500):
            if out.getvalue().count("tick") >= 3:
                break
            await asyncio.sleep(0.01)
        app.request_shutdown()
        return await asyncio.wait_for(running, 10)

    assert asyncio.run(run_until_three_ticks()) == 0
    lines = out.getvalue().splitlines()
    assert lines.count("[Count] tick") >= 3
    assert lines[-2:] == ["[Application-End] bye", "[OK] startup"]
    assert len(app.sources) == 0


def test_schedule_needs_a_number():
    outcome = run_program(start('Schedule the <tick> with "often".'))
    assert outcome.exit_code == 1
    assert "Cannot schedule the tick with the _expression_." in outcome.stdout
