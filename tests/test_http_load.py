"""bench/http_load.py's plumbing: options, the CPU bookkeeping, the two-core model, and one short
real run of the multi-process aiohttp peer, plain and pipelined, under wrk."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench import http_load


def test_scenarios_and_pipeline_depth_are_options(capsys: pytest.CaptureFixture[str]) -> None:
    options = http_load.parse_options(["--scenarios", "GET,GET-pipelined", "--pipeline", "8"])
    assert options.scenarios == ["GET", "GET-pipelined"] and options.pipeline == 8
    assert http_load.parse_options([]).scenarios == ["GET", "POST"]
    for bad in (["--scenarios", "PUT"], ["--pipeline", "0"]):
        with pytest.raises(SystemExit) as exited:
            http_load.parse_options(bad)
        assert exited.value.code == 2
    assert "--pipeline must be 1 to 256" in capsys.readouterr().err


def test_the_pipelining_script_writes_depth_requests_at_once() -> None:
    script = http_load.PIPELINE_LUA.format(depth=4, path="/messages")
    assert "local depth = 4" in script
    assert 'wrk.format("GET", "/messages")' in script
    assert "request = function() return requests end" in script


def test_spent_is_per_process_user_and_system_time() -> None:
    before = {1: (1.0, 0.5), 2: (2.0, 1.0)}
    after = {1: (1.5, 0.5), 2: (3.0, 1.25), 3: (0.25, 0.0)}  # 3 started in between
    assert http_load.spent(before, after) == {1: (0.5, 0.0), 2: (1.0, 0.25), 3: (0.25, 0.0)}


def test_process_times_include_the_children() -> None:
    times = http_load.process_times(os.getpid())
    assert os.getpid() in times
    assert all(user >= 0 and system >= 0 for user, system in times.values())


def test_the_two_core_ceiling_counts_the_client_against_two_workers() -> None:
    # One worker: 100 µs per request on its own core; two workers and wrk share both cores.
    one = http_load.WrkResult(server_cpu_us=100.0)
    two = http_load.WrkResult(server_cpu_us=100.0, client_cpu_us=25.0)
    assert http_load.two_core_ceiling(one, two) == pytest.approx(1.6)
    assert http_load.two_core_ceiling(one, http_load.WrkResult(server_cpu_us=100.0)) == 2.0


@pytest.mark.skipif(shutil.which("wrk") is None, reason="needs wrk")
def test_a_short_run_of_two_aiohttp_processes_plain_and_pipelined(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("aiohttp")
    options = http_load.parse_options([
        "--servers", "aiohttp-w2", "--scenarios", "GET,GET-pipelined", "--pipeline", "4",
        "--duration", "1", "--warmup", "0", "--quiet-wait", "0", "--connections", "8",
        "--seed", "3", "--no-pin",
    ])  # fmt: skip
    runs, failed = http_load.run_rounds(options, tmp_path)
    assert not failed, capsys.readouterr().err
    for scenario in ("GET", "GET-pipelined"):
        (run,) = runs["aiohttp-w2"][scenario]
        assert run.requests > 0 and not run.problems
        assert run.server_cpu_us > 0 and run.client_cpu_us > 0
        assert len(run.worker_shares) == 2  # the parent's two processes, apart from it
    assert "GET body" in capsys.readouterr().out  # seeded: both processes list 3 messages


def test_pin_workers_puts_each_child_of_the_supervisor_on_its_own_cpu() -> None:
    parent = subprocess.Popen([  # a stand-in supervisor with two workers that just wait
        sys.executable, "-c",
        "import subprocess, sys, time\n"
        "workers = [subprocess.Popen(['sleep', '30']) for _ in range(2)]\n"
        "print('started', flush=True)\n"
        "sys.stdin.read()\n"
        "for worker in workers: worker.kill(); worker.wait()\n",
    ], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert parent.stdout.readline() == "started\n"
        cpus = sorted(os.sched_getaffinity(0))
        placed = http_load.pin_workers(parent.pid)
        assert placed == [cpus[0], cpus[1 % len(cpus)]]
        workers = sorted(http_load.children_of(parent.pid))
        assert [os.sched_getaffinity(worker) for worker in workers] == [{cpu} for cpu in placed]
    finally:
        parent.communicate("", timeout=10)  # the workers are stopped by their parent
