"""Compiler and VM throughput (pytest-benchmark).

Run: python -m pytest bench/test_bench_lang.py --benchmark-enable
"""

from __future__ import annotations

import aro.actions  # noqa: F401 - registers every action
from aro.lang.compiler import compile_source
from aro.runtime.app import Application
from aro.vm.frame import Frame
from aro.vm.machine import execute

STATEMENT_KINDS = (
    'Create the <name{i}> with "item {i}".',
    "Compute the <total{i}> from <price> * {i} + 3.",
    "Compute the <upper{i}: uppercase> from the <label>.",
    "Extract the <city{i}> from the <address: city>.",
    "Log <price> to the <console> when <price> > 1000.",
)


def statements(count: int) -> str:
    lines = ["Create the <price> with 12.", 'Create the <label> with "bread".']
    lines.append('Create the <address> with { city: "Lyon", zip: "69001" }.')
    lines += [STATEMENT_KINDS[i % len(STATEMENT_KINDS)].format(i=i) for i in range(count - 3)]
    return "\n    ".join(lines)


def program_source(count: int) -> str:
    return "(Application-Start: Bench) {\n    " + statements(count) + "\n}\n"


def test_compile_1000_statements(benchmark) -> None:
    source = program_source(1000)
    program = benchmark(compile_source, source, "bench.aro")
    assert len(program.code_objects[0].statements) == 1000


def test_vm_dispatch_100_statements(benchmark) -> None:
    program = compile_source(program_source(100), "bench.aro")
    app = Application(program, None, {}, {})
    code = program.code_objects[0]

    def run_once() -> None:
        coroutine = execute(Frame(code, app))
        try:
            coroutine.send(None)  # no statement suspends: one step runs the whole feature set
        except StopIteration:
            return
        raise AssertionError("the benchmark feature set should not suspend")

    benchmark(run_once)
