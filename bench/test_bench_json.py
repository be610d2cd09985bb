"""JSON bodies: what ``GET /messages`` serializes, through both shaping builds and the peers'
way of writing the same bytes (orjson with sorted keys, the stdlib ``json``).

Run: python -m pytest bench/test_bench_json.py --benchmark-enable
"""

from __future__ import annotations

import json

import orjson
import pytest

from aro.vm import values
from aro.vm.entity_ids import mint
from tests.support.codec import load_build, shaper

ROWS = 20


def listing() -> dict:
    """The body of the HTTP load benchmark's GET: 20 stored messages."""
    return {"data": [{"message": "hello from the seed", "id": mint()} for _ in range(ROWS)]}


@pytest.mark.benchmark(group="json listing")
@pytest.mark.parametrize("build", ["compiled", "pure"])
def test_our_to_json(benchmark, monkeypatch, build):
    monkeypatch.setattr(values.json, "_jsonable", shaper(load_build(build)))
    body = listing()
    expected = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    assert benchmark(values.to_json, body) == expected


@pytest.mark.benchmark(group="json listing")
def test_orjson_sorted_keys(benchmark):
    body = listing()
    benchmark(orjson.dumps, body, option=orjson.OPT_SORT_KEYS)


@pytest.mark.benchmark(group="json listing")
def test_stdlib_json(benchmark):
    body = listing()
    benchmark(json.dumps, body, separators=(",", ":"), sort_keys=True)
