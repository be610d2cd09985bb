"""JsonShaper, both builds: the same result for the same value, the value itself exactly when
orjson's sorted keys write it in Foundation order, and JSON equal to an independent rendering."""

from __future__ import annotations

import inspect
import json
import math
import sys
from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aro._speedups._pure import JSON_TOO_DEEP, MAX_JSON_DEPTH, PLAIN_DATE_OPTIONS
from aro.vm import values
from aro.vm.values.json import PRESORTED
from tests.support.codec import BUILDS, load_build, shaper

DATE = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
# dates orjson would not write as ARO does: an offset, a fraction, no zone, an unpadded year
OTHER_DATES = (
    datetime(2026, 1, 2, 4, 4, 5, 250000, tzinfo=timezone(timedelta(hours=1))),
    datetime(2026, 1, 2, 3, 4, 5, 999999, tzinfo=UTC),
    datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC),
)


def rendered(build, value) -> bytes:
    data = shaper(build)(value)
    return orjson.dumps(data, option=PRESORTED if data is value else PLAIN_DATE_OPTIONS)


def oracle(value) -> str:
    """The reference's JSON written out directly: keys by collation, floats shaped by hand."""
    if isinstance(value, dict):
        keys = sorted(value, key=values.collation_key)
        pairs = (f"{json.dumps(key)}:{oracle(value[key])}" for key in keys)
        return "{" + ",".join(pairs) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(oracle(item) for item in value) + "]"
    if type(value) is float:
        if not math.isfinite(value):
            return "null"
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    if type(value) is datetime:
        return json.dumps(values.iso(value))
    return json.dumps(value, ensure_ascii=False)


KEYS = st.sampled_from(
    [
        "id",
        "message",
        "createdAt",
        "userId",
        "user_id",
        "item2",
        "item10",
        "Zeta",
        "alpha",
        "a",
        "A",
        "b",
        "é",
        "_x",
    ]
) | st.text(max_size=4)
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.text(max_size=6)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.just(DATE)
    | st.sampled_from(OTHER_DATES)
)
JSONISH = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(KEYS, inner, max_size=4)
    ),
    max_leaves=20,
)


@pytest.fixture(params=list(BUILDS))
def build(request):
    return load_build(request.param)


def test_a_build_writes_what_the_oracle_writes(build):
    @settings(max_examples=300, deadline=None)
    @given(JSONISH)
    def check(value):
        # Pairs in order: key order counts; float spelling (1e16 / 1e+16) does not.
        assert ordered_pairs(rendered(build, value)) == ordered_pairs(oracle(value))

    check()


def test_the_builds_give_the_same_bytes_and_hand_back_the_same_values():
    compiled, pure = (load_build(name) for name in BUILDS)  # skipped where not compiled

    @settings(max_examples=300, deadline=None)
    @given(JSONISH)
    def check(value):
        assert rendered(compiled, value) == rendered(pure, value)
        assert (shaper(compiled)(value) is value) == (shaper(pure)(value) is value)

    check()


def ordered_pairs(text: bytes | str):
    return json.loads(text, object_pairs_hook=list)


class TestShaping:
    def test_plain_rows_come_back_as_they_are(self, build):
        rows = [{"message": f"m{i}", "id": str(i)} for i in range(5)]
        body = {"data": rows}
        assert shaper(build)(body) is body

    def test_keys_that_sort_differently_by_code_point_are_copied_in_foundation_order(self, build):
        value = {"userId": 1, "user_id": 2}
        shaped = shaper(build)(value)
        assert shaped is not value
        assert list(shaped) == ["user_id", "userId"]

    def test_floats_offset_dates_and_tuples_force_a_copy(self, build):
        value = {"a": [1.0, math.inf], "b": (OTHER_DATES[0], b"hi")}
        assert shaper(build)(value) == {"a": [1, None], "b": ["2026-01-02T03:04:05Z", "aGk="]}

    def test_rows_with_utc_dates_come_back_as_they_are_and_orjson_writes_the_dates(self, build):
        rows = [{"createdAt": DATE, "message": "m"}, {"createdAt": OTHER_DATES[1]}]
        assert shaper(build)(rows) is rows
        assert rendered(build, rows) == (
            b'[{"createdAt":"2026-01-02T03:04:05Z","message":"m"},'
            b'{"createdAt":"2026-01-02T03:04:05Z"}]'
        )

    def test_a_copy_keeps_utc_dates_and_converts_the_others(self, build):
        shaped = shaper(build)({"b": 1.5, "d": [DATE, OTHER_DATES[2]]})
        assert shaped == {"b": 1.5, "d": [DATE, "999-12-31T23:59:59Z"]}

    def test_rows_of_the_same_length_with_other_keys_get_their_own_order(self, build):
        shape = shaper(build)
        assert list(shape({"b": 1.5, "a": 1})) == ["a", "b"]
        assert list(shape({"B": 1.5, "a": 1})) == ["a", "B"]
        assert list(shape({"item10": 1.5, "item2": 1})) == ["item2", "item10"]
        equal_not_same = "".join(["it", "em2"])
        assert list(shape({"item10": 1.5, equal_not_same: 1})) == ["item2", "item10"]

    def test_a_value_deeper_than_the_recursion_limit_is_refused(self, build):
        value: list = []
        for _ in range(5000):
            value = [value]
        with pytest.raises(RecursionError):
            shaper(build)(value)


# Containers that the walks take: lists and dicts may come back as they are, tuples are copied.
WRAPS = {
    "list": lambda value: [value],
    "dict": lambda value: {"a": value},
    "tuple": lambda value: (value,),
}


def nested(wrap, levels: int):
    value = 1
    for _ in range(levels):
        value = WRAPS[wrap](value)
    return value


def levels_of(value) -> int:
    """How many containers lie around the innermost 1 (without recursing: comparing or
    printing a value this deep would hit the recursion limit)."""
    levels = 0
    while value != 1:
        value = value["a"] if type(value) is dict else value[0]
        levels += 1
    return levels


def deep_in_the_stack(call, spare: int = 50):
    """``call()`` with all but ``spare`` frames of the recursion limit taken."""

    def descend(frames: int):
        return call() if frames <= 0 else descend(frames - 1)

    return descend(sys.getrecursionlimit() - len(inspect.stack()) - spare)


@pytest.mark.parametrize("wrap", list(WRAPS))
class TestDepthLimit:
    """Both builds take a value with containers nested MAX_JSON_DEPTH deep and refuse one
    more level, with the same error, wherever in the stack they are called from."""

    def test_just_under_the_limit_is_shaped(self, build, wrap):
        assert levels_of(shaper(build)(nested(wrap, MAX_JSON_DEPTH))) == MAX_JSON_DEPTH

    def test_just_over_the_limit_is_refused(self, build, wrap):
        with pytest.raises(RecursionError) as refused:
            shaper(build)(nested(wrap, MAX_JSON_DEPTH + 1))
        assert refused.value.args == (JSON_TOO_DEEP,)

    def test_the_limit_holds_when_called_from_deep_in_the_stack(self, build, wrap):
        limit = sys.getrecursionlimit()
        shape = shaper(build)
        under, over = nested(wrap, MAX_JSON_DEPTH), nested(wrap, MAX_JSON_DEPTH + 1)
        assert levels_of(deep_in_the_stack(lambda: shape(under))) == MAX_JSON_DEPTH
        with pytest.raises(RecursionError) as refused:
            deep_in_the_stack(lambda: shape(over))
        assert refused.value.args == (JSON_TOO_DEEP,)
        assert sys.getrecursionlimit() == limit
