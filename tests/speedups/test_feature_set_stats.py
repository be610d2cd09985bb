"""The run counters of the execution metrics, against both builds."""

from __future__ import annotations

import math

import pytest

from tests.support.codec import BUILDS, load_build


@pytest.fixture(params=list(BUILDS))
def codec(request):
    return load_build(request.param)


def test_a_new_record_has_run_nothing(codec):
    stats = codec.FeatureSetStats("Echo", "WebSocket Event Handler")
    assert (stats.name, stats.activity) == ("Echo", "WebSocket Event Handler")
    assert (stats.executions, stats.failures, stats.successes) == (0, 0, 0)
    assert (stats.total, stats.longest, stats.average) == (0.0, 0.0, 0.0)
    assert stats.shortest == math.inf


def test_add_counts_runs_failures_and_durations(codec):
    stats = codec.FeatureSetStats("Echo", "WebSocket Event Handler")
    stats.add(0.25)
    stats.add(0.5, True)
    stats.add(0.125, failed=False)
    assert (stats.executions, stats.failures, stats.successes) == (3, 1, 2)
    assert (stats.total, stats.shortest, stats.longest) == (0.875, 0.125, 0.5)
    assert stats.average == pytest.approx(0.875 / 3)
    assert type(stats.executions) is int and type(stats.total) is float
