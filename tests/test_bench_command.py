"""`python -m bench`'s plumbing: arguments, one cheap scenario end to end, its chart."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

# Imported after the skip: they need the [bench] extra.
from bench import suite
from bench.__main__ import main
from bench.report import OURS, Table, render
from bench.suite import SCENARIOS, parse_arguments


def test_arguments() -> None:
    arguments = parse_arguments(["--quick", "--only", "echo", "http"])
    assert arguments.quick and arguments.only == ["echo", "http"]
    assert parse_arguments([]).only is None
    expected = {"codec", "compile", "stored", "echo", "fanout", "latency", "http", "idle"}
    assert expected | {"http_workers"} <= set(SCENARIOS)


def test_an_unknown_scenario_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_arguments(["--only", "nope"])
    assert exited.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err


def test_a_table_shows_ours_over_each_peer() -> None:
    table = Table("t", "Title", "µs", lower_is_better=True)
    table.add("case", OURS, 3.0)
    table.add("case", "picows", 2.0)
    table.add("case", "websockets", 6.0)
    text = render(table)
    assert "| case | aro-py | picows | websockets | aro-py/picows | aro-py/websockets |" in text
    assert "| case | 3 | 2 | 6 | 1.50x | 0.50x |" in text


def test_one_cheap_scenario_prints_its_table_and_draws_its_chart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(suite, "QUICK_STORED_ROWS", 300)
    assert main(["--quick", "--only", "stored", "--charts", str(tmp_path)]) == 0
    output = capsys.readouterr().out
    assert "### Memory per stored chat message" in output
    assert f"{OURS}/list of dicts (aiohttp peer)" in output
    chart = tmp_path / "stored.png"
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_micro_benchmarks_run_and_report_under_the_projects_pytest_options() -> None:
    """pytest-benchmark turns itself off when an xdist option is set; the project's own
    options must leave it on, or every micro-benchmark table comes back empty."""
    entries = suite._pytest_benchmarks(["bench/test_bench_json.py::test_stdlib_json"], quick=True)
    assert [entry["name"] for entry in entries] == ["test_stdlib_json"]
    assert entries[0]["stats"]["rounds"] >= 3
