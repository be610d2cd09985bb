"""Tests of aro.vm.values; expected strings come from the reference's Examples/*/expected.txt."""

from __future__ import annotations

import importlib
import json
import math
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aro.vm import values
from aro.vm.errors import ActionError, EvaluationError
from aro.vm.values import (
    as_number,
    binary,
    characters,
    compare,
    compute,
    contains,
    convert,
    dates,
    describe,
    equals,
    format_date,
    format_log,
    format_payload_lines,
    from_json,
    group_by,
    index,
    is_compute_op,
    join_values,
    markdown_to_html,
    matches,
    member,
    merge_values,
    negate,
    now,
    parse_date,
    property_path,
    reduce_values,
    select_element,
    sort_values,
    split_text,
    to_json,
    truthy,
    type_check,
    type_label,
    where_match,
)

DATE = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
ORDERS = [
    {"id": 1, "amount": 100, "status": "active"},
    {"id": 2, "amount": 250, "status": "pending"},
    {"id": 3, "amount": 500, "status": "active"},
    {"id": 4, "amount": 75, "status": "cancelled"},
    {"id": 5, "amount": 300, "status": "active"},
]


# ---------------------------------------------------------------------------------------------
# describe (interpolation, ++, Transform string)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("plain", "plain"),
        (80.0, "80.0"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1e16, "1e+16"),
        (42, "42"),
        (-7, "-7"),
        (True, "true"),
        (False, "false"),
        (None, "null"),
        (["a", "b"], '["a", "b"]'),
        ([1, 2.5, None, True], "[1, 2.5, null, true]"),
        ({"k": 1}, '["k": 1]'),
        ({"name": "Alice", "age": 30}, '["name": "Alice", "age": 30]'),
        ({}, "[:]"),
        ([], "[]"),
        ({"a": [1, {"b": "x"}]}, '["a": [1, ["b": "x"]]]'),
        (['say "hi"\n', "back\\slash\t\x01"], '["say \\"hi\\"\\n", "back\\\\slash\\t\\u{1}"]'),
        (DATE, "2026-01-01T12:00:00Z"),
        ([DATE], "[2026-01-01T12:00:00Z]"),
        (b"abc", "3 bytes"),
    ],
)
def test_describe(value, text):
    assert describe(value) == text


def test_describe_drops_fractional_seconds_and_converts_to_utc():
    date = datetime(2026, 3, 1, 18, 48, 43, 123456, tzinfo=timezone(timedelta(hours=1)))
    assert describe(date) == "2026-03-01T17:48:43Z"


def test_a_date_written_again_is_looked_up_and_equal_instants_share_their_text():
    first = datetime(2026, 3, 1, 17, 48, 43, tzinfo=UTC)
    same_instant = datetime(2026, 3, 1, 18, 48, 43, tzinfo=timezone(timedelta(hours=1)))
    assert describe(first) == describe(same_instant) == "2026-03-01T17:48:43Z"
    assert first in dates._iso_texts


def test_dates_whose_instant_depends_on_fold_are_not_remembered():
    # equal as datetimes (same zone, fold ignored) but an hour apart: each is formatted itself
    zone = ZoneInfo("Europe/Berlin")
    summer = datetime(2026, 10, 25, 2, 30, tzinfo=zone, fold=0)
    winter = datetime(2026, 10, 25, 2, 30, tzinfo=zone, fold=1)
    assert summer == winter
    assert describe(summer) == "2026-10-25T00:30:00Z"
    assert describe(winter) == "2026-10-25T01:30:00Z"


# ---------------------------------------------------------------------------------------------
# format_log and the response line (docs/semantics.md, Output)


def test_log_scalars_computations_example():
    assert format_log(13) == "13"
    assert format_log(300) == "300"
    assert format_log(100 * 3 * 0.08) == "24.00"
    assert format_log(300 + 24.0) == "324.00"
    assert format_log("HELLO ARO DEVELOPER") == "HELLO ARO DEVELOPER"
    assert format_log("") == ""
    assert format_log(True) == "true"
    assert format_log(None) == "null"
    assert format_log(DATE) == "2026-01-01T12:00:00Z"


def test_log_immutability_example():
    assert format_log(binary("*", 100, 0.8)) == "80.00"
    assert format_log(binary("*", binary("*", 100, 0.8), 1.1)) == "88.00"
    assert [format_log(binary("*", p, 1.2)) for p in (10, 25, 50)] == ["12.00", "30.00", "60.00"]
    assert format_log(binary("*", 11, 2)) == "22"


def test_log_expressions_example():
    subtotal = binary("*", 25, 4)
    tax = binary("*", subtotal, 0.08)
    assert [format_log(subtotal), format_log(tax), format_log(binary("+", subtotal, tax))] == [
        "100",
        "8.00",
        "108.00",
    ]
    assert format_log(binary("++", binary("++", "John", " "), "Doe")) == "John Doe"


def test_log_list_of_scalars():
    assert format_log([1, 2, 3, 4, 5]) == "[1, 2, 3, 4, 5]"
    assert format_log(["apple", "banana"]) == "[apple, banana]"
    assert format_log([1.5, 2.0]) == "[1.50, 2.00]"
    assert format_log([[1, 2], ["a"]]) == "[[1, 2], [a]]"
    assert format_log([]) == "[]"


def test_log_dict_iteration_example():
    user = {"name": "Alice", "active": True, "score": 95}
    assert format_log(user) == "active: true\nname: Alice\nscore: 95"


def test_log_dict_nesting_lists_and_doubles():
    value = {
        "z": {"city": "Berlin", "geo": {"lat": 52.5}},
        "tags": ["b", "a", "c"],
        "empty": {},
        "none": None,
        "price": 19.99,
        "rows": [{"k": 1}],
        "mixed": [2.0, 10],
    }
    assert format_log(value).split("\n") == [
        "mixed: 10, 2.00",
        "none: null",
        "price: 19.99",
        'rows: ["k": 1]',
        "tags: a, b, c",
        "z.city: Berlin",
        "z.geo.lat: 52.50",
    ]


def test_log_list_of_dicts_data_pipeline_example():
    active = [order for order in ORDERS if where_match(order, "status", "is", "active")]
    assert format_log(active) == (
        "amount: 100\nid: 1\nstatus: active\n\n"
        "amount: 500\nid: 3\nstatus: active\n\n"
        "amount: 300\nid: 5\nstatus: active"
    )


def test_payload_lines():
    assert format_payload_lines({"value": "Hello, World!"}) == ["  value: Hello, World!"]
    pipeline = describe({"name": "Alice", "age": 30})
    assert format_payload_lines({"value": pipeline}) == ['  value: ["name": "Alice", "age": 30]']
    assert format_payload_lines({"b": 1.0, "a": {"x": [3, 1]}}) == ["  a.x: 1, 3", "  b: 1.00"]
    assert format_payload_lines({}) == []


# ---------------------------------------------------------------------------------------------
# JSON


def test_json_compact_sorted_and_slashes_escaped():
    body = {"websocket": "ws://localhost:8080/ws", "status": "healthy"}
    assert to_json(body) == b'{"status":"healthy","websocket":"ws:\\/\\/localhost:8080\\/ws"}'


def test_json_order_service_body():
    order = {
        "status": "draft",
        "items": [{"quantity": 1, "productId": "test-product", "price": 10.0}],
        "id": "__ID__",
        "customerId": "test-customer",
    }
    assert to_json(order) == (
        b'{"customerId":"test-customer","id":"__ID__",'
        b'"items":[{"price":10,"productId":"test-product","quantity":1}],"status":"draft"}'
    )


@pytest.mark.parametrize(
    ("keys", "ordered"),
    [
        (["Zeta", "alpha"], ["alpha", "Zeta"]),
        (["userId", "user_id"], ["user_id", "userId"]),
        (["item10", "item9", "item2"], ["item2", "item9", "item10"]),
        (["A", "a", "b"], ["a", "A", "b"]),
        (["b", "a-b", "a.b", "a"], ["a", "a-b", "a.b", "b"]),
        (["a1", "a_", "ab"], ["a_", "a1", "ab"]),
        (["éclair", "eclair", "f", "d"], ["d", "eclair", "éclair", "f"]),
    ],
)
def test_json_key_order_is_foundations(keys, ordered):
    data = {key: 0 for key in keys}
    assert list(json.loads(to_json(data))) == ordered


def test_json_key_order_is_recursive():
    data = {"b": {"y": 1, "x": [{"d": 1, "c": 2}]}, "a": None}
    assert to_json(data) == b'{"a":null,"b":{"x":[{"c":2,"d":1}],"y":1}}'


def test_json_numbers_and_special_values():
    assert to_json([10.0, 1.5, -0.0, 3, True, None]) == b"[10,1.5,0,3,true,null]"
    assert to_json([math.nan, math.inf]) == b"[null,null]"
    assert to_json(DATE) == b'"2026-01-01T12:00:00Z"'
    assert to_json({"d": b"hi"}) == b'{"d":"aGk="}'
    assert to_json("é ü 中 \u2028") == '"é ü 中 \u2028"'.encode()
    assert to_json('a\nb\t\x01\x1f"\\') == b'"a\\nb\\t\\u0001\\u001f\\"\\\\"'
    assert to_json(2**70) == str(2**70).encode()
    assert to_json(("a", 1)) == b'["a",1]'


def test_json_leaves_the_input_unchanged():
    data = {"b": [1.0], "a": DATE}
    to_json(data)
    assert list(data) == ["b", "a"]
    assert data["b"] == [1.0]
    assert type(data["b"][0]) is float


def test_from_json():
    assert from_json(b'{"a": 1, "b": [2.5, true, null], "c": "\\/"}') == {
        "a": 1,
        "b": [2.5, True, None],
        "c": "/",
    }
    assert type(from_json("3")) is int
    with pytest.raises(ValueError):
        from_json("{")


def _integralize(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integralize(item) for item in value]
    if isinstance(value, dict):
        return {key: _integralize(item) for key, item in value.items()}
    return value


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=20,
)


@given(JSON_VALUES)
def test_json_round_trips(value):
    out = to_json(value)
    assert json.loads(out) == _integralize(value)
    assert from_json(out) == _integralize(value)


@given(st.dictionaries(st.from_regex(r"[A-Za-z_0-9]{1,6}", fullmatch=True), st.integers()))
def test_json_key_order_is_stable_under_insertion_order(data):
    reversed_data = dict(reversed(list(data.items())))
    assert to_json(data) == to_json(reversed_data)


# ---------------------------------------------------------------------------------------------
# Expressions


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        (0, False),
        (3, True),
        ("", False),
        ("x", True),
        ([], False),
        ([0], True),
        (0.0, True),
        ({}, True),
        (None, True),
    ],
)
def test_truthy(value, expected):
    assert truthy(value) is expected


def test_equals():
    assert equals(None, None)
    assert not equals(None, 0)
    assert not equals("", None)
    assert equals(1, 1.0)
    assert equals(2.5, 2.5)
    assert not equals(1, True)
    assert equals(True, True)
    assert equals("a", "a")
    assert not equals("a", "b")
    assert equals(1, "1")  # descriptions agree, as in the reference
    assert not equals(1.0, "1")
    assert equals("2026-01-01T12:00:00Z", "2026-01-01T13:00:00+01:00")
    assert equals(DATE, "2026-01-01T12:00:00Z")
    assert equals("2026-01-01", datetime(2026, 1, 1, tzinfo=UTC))
    assert equals([1, "a"], [1, "a"])
    assert not equals([1], ["1"])
    assert equals({"a": 1, "b": 2}, {"b": 2, "a": 1})
    assert not equals({"a": 1}, {"a": 2})


def test_compare():
    assert compare("<", 1, 2)
    assert compare(">=", 2.0, 2)
    assert compare("<=", "3", 4)
    assert not compare(">", 1, 1)
    assert compare("<", "2025-06-15T14:00:00Z", "2026-01-01T00:00:00Z")
    assert compare(">", now(), DATE)
    with pytest.raises(EvaluationError, match="Type mismatch: Cannot convert String to number"):
        compare("<", "apple", "banana")
    with pytest.raises(EvaluationError, match="Cannot convert Bool to number"):
        compare("<", True, 1)
    with pytest.raises(EvaluationError, match="Cannot convert Null to number"):
        compare(">", None, 1)


@pytest.mark.parametrize(
    ("op", "a", "b", "result"),
    [
        ("+", 1, 2, 3),
        ("+", 1, 2.5, 3.5),
        ("+", "5", 3, 8.0),
        ("+", "a", "b", "ab"),
        ("+", "1", "2", "12"),
        ("-", 10, 4, 6),
        ("-", 10, 4.0, 6.0),
        ("*", 100, 3, 300),
        ("*", 300, 0.08, 24.0),
        ("*", "ab", 3, "ababab"),
        ("*", 2, "ab", "abab"),
        ("*", "ab", -1, ""),
        ("*", "●", 2.9, "●●"),
        ("*", "3", "2", 6.0),
        ("/", 7, 2, 3),
        ("/", -7, 2, -3),
        ("/", 7, -2, -3),
        ("/", 7.0, 2, 3.5),
        ("/", 6, 2.0, 3.0),
        ("%", 7, 3, 1),
        ("%", -7, 3, -1),
        ("%", 7, -3, 1),
        ("++", "a", 1, "a1"),
        ("++", 80.0, [1], "80.0[1]"),
        ("++", None, True, "nulltrue"),
    ],
)
def test_binary(op, a, b, result):
    out = binary(op, a, b)
    assert out == result
    assert type(out) is type(result)


def test_binary_float_division_by_zero_is_ieee():
    assert binary("/", 1.0, 0) == math.inf
    assert binary("/", -1, 0.0) == -math.inf
    assert math.isnan(binary("/", 0.0, 0))


@pytest.mark.parametrize(
    ("op", "a", "b", "message"),
    [
        ("/", 1, 0, "Division by zero"),
        ("%", 1, 0, "Division by zero"),
        ("%", 7.0, 2, "Expected integers for modulo operation"),
        ("+", "a", 1, "Cannot convert String to number"),
        ("-", "a", "b", "Cannot convert String to number"),
        ("+", True, 1, "Cannot convert Bool to number"),
        ("*", [1], 2, "Cannot convert List to number"),
    ],
)
def test_binary_errors(op, a, b, message):
    with pytest.raises(EvaluationError, match=message):
        binary(op, a, b)


def test_negate():
    assert negate(3) == -3
    assert negate(-2.5) == 2.5
    with pytest.raises(EvaluationError, match="Cannot negate String"):
        negate("x")


def test_contains():
    assert contains([1, 2, 3], 2)
    assert contains([1, 2, 3], 2.0)
    assert not contains([1, 2], 5)
    assert contains("hello world", "lo w")
    assert contains("hello", "")
    assert contains({"a": 1}, "a")
    assert not contains({"a": 1}, "b")
    assert not contains(5, 5)


def test_matches():
    assert matches("hello@example.com", r"^[^@]+@[^@]+$")
    assert matches("HELLO", "hello", "i")
    assert not matches("HELLO", "hello")
    assert matches("a\nb", "^b", "m")
    assert matches("a\nb", "a.b", "s")
    assert matches("abc", {"pattern": "B", "flags": "i"})
    assert not matches(5, "5")
    assert not matches("x", "(")


@pytest.mark.parametrize(
    ("value", "name", "expected"),
    [
        ("s", "String", True),
        (1, "String", False),
        (1, "Number", True),
        (1.5, "Integer", True),
        (True, "Number", False),
        (1.5, "Float", True),
        (1, "Float", False),
        (False, "Boolean", True),
        ([], "List", True),
        ({}, "Map", True),
        ({}, "Object", True),
        (None, "Null", True),
        ("x", "Unknown", False),
        (True, "true", True),
        ("true", "true", True),
        (False, "true", False),
        (False, "false", True),
        (None, "null", True),
        (0, "nil", False),
    ],
)
def test_type_check(value, name, expected):
    assert type_check(value, name) is expected


def test_index():
    items = ["a", "b", "c"]
    assert index(items, 0) == "c"
    assert index(items, 2) == "a"
    assert index({"k": 1}, "k") == 1
    with pytest.raises(EvaluationError, match=r"Index 3 out of bounds \(count: 3\)"):
        index(items, 3)
    with pytest.raises(EvaluationError, match="Index -1 out of bounds"):
        index(items, -1)
    with pytest.raises(EvaluationError, match="Undefined member: x"):
        index({}, "x")
    with pytest.raises(EvaluationError, match="Cannot subscript List with String"):
        index(items, "0")


def test_member():
    assert member({"name": "Alice"}, "name") == "Alice"
    assert member(DATE, "year") == 2026
    assert member(DATE, "dayOfWeek") == "Thursday"
    assert member(DATE, "iso") == "2026-01-01T12:00:00Z"
    assert member(DATE, "timestamp") == 1767268800
    assert member(datetime(2026, 12, 31, tzinfo=UTC), "weekOfYear") == 1
    assert member(datetime(2026, 1, 4, tzinfo=UTC), "weekOfYear") == 2
    with pytest.raises(EvaluationError, match="Undefined member: nope"):
        member({}, "nope")
    with pytest.raises(EvaluationError, match="Undefined member: nope"):
        member(DATE, "nope")
    with pytest.raises(EvaluationError, match="Cannot access member 'x' on String"):
        member("text", "x")


def test_as_number_and_type_label():
    assert as_number("1e3") == 1000.0
    assert as_number(" 1") is None
    assert as_number("1_000") is None
    assert as_number(True) is None
    assert [type_label(v) for v in ("", 1, 1.0, True, None, [], {}, DATE, b"")] == [
        "String",
        "Int",
        "Double",
        "Bool",
        "Null",
        "List",
        "Map",
        "Date",
        "Data",
    ]


# ---------------------------------------------------------------------------------------------
# Dates


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-01T12:00:00Z", DATE),
        (" 2026-01-01T12:00:00Z ", DATE),
        ("2026-01-01T12:00:00.250Z", DATE.replace(microsecond=250000)),
        ("2026-01-01T14:00:00+02:00", DATE),
        ("2026-01-01T07:30:00-0430", DATE),
        ("2026-01-01T12:00:00", DATE),
        ("2026-01-01", DATE.replace(hour=0)),
        ("2026-02-30", None),
        ("2026-1-1", None),
        ("tomorrow", None),
    ],
)
def test_parse_date(text, expected):
    assert parse_date(text) == expected


def test_now_is_utc():
    assert now().tzinfo is UTC


def test_format_date():
    date = datetime(2026, 3, 5, 14, 7, 9, 123000, tzinfo=UTC)
    assert format_date(date, "MMMM dd, yyyy") == "March 05, 2026"
    assert format_date(date, "yyyy-MM-dd'T'HH:mm:ssZ") == "2026-03-05T14:07:09+0000"
    assert format_date(date, "EEE, d MMM yy h:mm a") == "Thu, 5 Mar 26 2:07 PM"
    assert format_date(date, "EEEE dd.MM.yyyy HH:mm:ss.SSS") == "Thursday 05.03.2026 14:07:09.123"
    assert format_date(date, "'o''clock' '' D") == "o'clock ' 64"


# ---------------------------------------------------------------------------------------------
# Compute


def test_compute_computations_example():
    assert compute("length", "Hello, World!") == 13
    assert compute("length", "Goodbye!") == 8
    assert compute("uppercase", "Hello ARO Developer") == "HELLO ARO DEVELOPER"
    assert compute("lowercase", "Hello ARO Developer") == "hello aro developer"
    assert compute("hash", "secret123") == (
        "fcf730b6d95236ecd3c9fc2d92d7b6b2bb061514961aec041d6c7a7192f592e4"
    )
    assert compute("count", ["apple", "banana", "cherry", "date"]) == 4


def test_compute_basic_operations():
    assert compute("hash", "hello") == (
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    )
    assert compute("hash", {"b": 1, "a": "x/y"}) == compute("hash", '{"a":"x\\/y","b":1}')
    assert compute("hash", 42) == compute("hash", "42")
    assert compute("count", {"a": 1, "b": 2, "c": 3}) == 3
    assert compute("length", 7) == 7
    assert compute("Length", "abc") == 3
    assert compute("trim", "  hello world \n") == "hello world"
    assert compute("uppercase", 1.5) == "1.5"
    assert compute("identity", [1]) == [1]
    assert compute("clip", "x" * 100) == "x" * 80
    assert compute("clip", "abcdef", 3) == "abc"
    assert compute("clip", "abc", 10.0) == "abc"
    assert compute("take", [1, 2, 3], 2) == [1, 2]
    assert compute("take", "abcdef", 4) == "abcd"
    assert compute("take", [1, 2]) == []
    assert compute("take", 5, 1) == 5
    assert compute("markdown", "*hi*") == "<p><em>hi</em></p>"


def test_compute_unknown_operation_is_identity():
    assert compute("frobnicate", {"a": 1}) == {"a": 1}
    assert compute("plugin.qualifier", "x") == "x"


def test_is_compute_op():
    assert is_compute_op("length")
    assert is_compute_op("Hash")
    assert is_compute_op("markdown")
    assert not is_compute_op("greeting")
    assert not is_compute_op("+7d")


def test_compute_set_operations_example():
    assert compute("intersect", [2, 3, 5], [1, 2, 3, 4]) == [2, 3]
    assert compute("difference", [2, 3, 5], [1, 2, 3, 4]) == [5]
    assert compute("difference", [1, 2, 3, 4], [2, 3, 5]) == [1, 4]
    assert compute("union", [2, 3, 5], [1, 2, 3, 4]) == [2, 3, 5, 1, 4]
    assert compute("intersect", [1, 2, 2, 3], [2, 2, 2, 4]) == [2, 2]
    assert compute("difference", [1, 2, 2, 3], [2, 2, 2, 4]) == [1, 3]
    assert compute("intersect", "hello", "bello") == "ello"
    assert compute("difference", "hello", "bello") == "h"
    assert compute("union", "hello", "bello") == "hellob"
    obj_a = {"name": "Alice", "age": 30, "address": {"city": "NYC", "zip": "10001"}}
    obj_b = {"name": "Alice", "age": 31, "address": {"city": "NYC", "state": "NY"}}
    assert format_log(compute("intersect", obj_a, obj_b)) == "address.city: NYC\nname: Alice"
    assert format_log(compute("difference", obj_a, obj_b)) == "address.zip: 10001\nage: 30"
    assert format_log(compute("union", obj_a, obj_b)) == (
        "address.city: NYC\naddress.zip: 10001\nage: 30\nname: Alice"
    )


def test_compute_set_operations_details():
    assert compute("intersect", [{"a": 1, "b": 2}, 1], [{"b": 2, "a": 1}]) == [{"a": 1, "b": 2}]
    assert compute("union", [1], [1.0, "1"]) == [1, 1.0]
    assert compute("intersect", {"l": [1, 2], "x": 1}, {"l": [2, 3], "x": 1.0}) == {"l": [2]}
    assert compute("difference", {"l": [1, 2]}, {"l": [1, 2]}) == {}
    with pytest.raises(ActionError, match="'Compute union' requires a 'with' clause"):
        compute("union", [1])
    with pytest.raises(ActionError, match="expected 'Array, String, or Object', got 'Int'"):
        compute("intersect", 1, 2)


def test_compute_dates():
    assert compute("date", "2025-06-15T14:00:00Z") == datetime(2025, 6, 15, 14, tzinfo=UTC)
    assert compute("date", DATE) is DATE
    with pytest.raises(ActionError, match="Invalid date format"):
        compute("date", "soon")
    with pytest.raises(ActionError, match="expected 'String \\(ISO 8601\\)', got 'Int'"):
        compute("date", 5)
    assert compute("+7d", DATE) == DATE + timedelta(days=7)
    assert compute("-1d", "2026-01-01T12:00:00Z") == DATE - timedelta(days=1)
    assert compute("+1h", DATE) == DATE + timedelta(hours=1)
    assert compute("30s", DATE) == DATE + timedelta(seconds=30)
    assert compute("+2w", DATE) == DATE + timedelta(weeks=2)
    assert compute("+1M", DATE) == DATE + timedelta(minutes=1)  # the reference reads M as m
    assert compute("+1months", datetime(2026, 1, 31, tzinfo=UTC)) == datetime(
        2026, 2, 28, tzinfo=UTC
    )
    assert compute("-1y", datetime(2024, 2, 29, tzinfo=UTC)) == datetime(2023, 2, 28, tzinfo=UTC)
    assert describe(compute("+3days", DATE)) == "2026-01-04T12:00:00Z"
    with pytest.raises(ActionError, match="expected 'Date or ISO 8601 String'"):
        compute("+1d", "nope")
    assert compute("format", "2026-01-01T12:00:00Z") == "January 01, 2026"
    assert compute("format", DATE, "yyyy/MM") == "2026/01"
    assert compute("distance", "2026-01-01T00:00:00Z", "2026-01-08T12:00:00Z") == {
        "seconds": 648000,
        "minutes": 10800,
        "hours": 180,
        "days": 7,
        "weeks": 1,
    }
    with pytest.raises(ActionError, match="'Compute distance' requires a 'to' clause"):
        compute("distance", DATE)


# ---------------------------------------------------------------------------------------------
# Transform


def test_convert_type_conversion_example():
    assert convert("int", "42") == 42
    assert convert("string", 123) == "123"
    assert format_log(convert("double", "19.99")) == "19.99"
    assert convert("bool", "true") is True
    assert json.loads(convert("json", {"name": "Alice", "age": 30})) == {"name": "Alice", "age": 30}
    assert format_log(convert("double", 100)) == "100.00"


def test_convert_details():
    assert convert("integer", 3.9) == 3
    assert convert("int", -3.9) == -3
    assert convert("Int", "+7") == 7
    assert convert("float", "1e3") == 1000.0
    assert convert("string", 80.0) == "80.0"
    assert convert("string", {"k": 1}) == '["k": 1]'
    assert convert("boolean", "1") is True
    assert convert("bool", "yes") is False
    assert convert("bool", 2) is True
    assert convert("bool", 1.0) is False
    assert convert("json", [1]) == "{}"
    assert convert("json", {"u": "a/b"}) == '{"u":"a\\/b"}'
    assert convert("identity", [1]) == [1]
    assert convert("unknown", 5) == 5


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("int", "4.5", "expected 'Int', got 'String'"),
        ("int", " 4", "expected 'Int', got 'String'"),
        ("int", True, "expected 'Int', got 'Bool'"),
        ("int", math.inf, "expected 'Int', got 'Double'"),
        ("double", "abc", "expected 'Double', got 'String'"),
        ("double", None, "expected 'Double', got 'Null'"),
    ],
)
def test_convert_errors(name, value, message):
    with pytest.raises(ActionError, match=message):
        convert(name, value)


# ---------------------------------------------------------------------------------------------
# Collections


def test_where_match_data_pipeline_example():
    assert [o["id"] for o in ORDERS if where_match(o, "amount", ">", 200)] == [2, 3, 5]
    assert [o["id"] for o in ORDERS if where_match(o, "status", "is", "active")] == [1, 3, 5]


def test_where_match_set_operations_example():
    items = [{"id": 1, "value": 2}, {"id": 2, "value": 3}, {"id": 3, "value": 5}]
    assert [i["id"] for i in items if where_match(i, "value", "in", [3, 5])] == [2, 3]
    assert [i["id"] for i in items if where_match(i, "value", "not in", [3, 5])] == [1]
    assert not where_match({"value": 3}, "value", "in", [3.0])


@pytest.mark.parametrize(
    ("actual", "op", "expected", "result"),
    [
        (100, "==", "100", True),
        (100.0, "is", 100, False),
        ("a", "is not", "b", True),
        ("a", "!=", "a", False),
        ("10", "gt", 9, True),
        ("b", ">", "a", True),
        ("apple", "<", "banana", True),
        (5, "<=", 5, True),
        (5, "gte", 6, False),
        ("hello", "contains", "ell", True),
        ("hello", "contains", "", False),
        ("hello", "starts-with", "he", True),
        ("hello", "ends-with", "lo", True),
        ("hello", "matches", "^h.l", True),
        ("hello", "matches", "(", False),
        ("b", "in", "a, b ,c", True),
        ("d", "not-in", "a,b", True),
        (True, "is", "true", True),
        ("x", "whatever", "x", True),
    ],
)
def test_where_match_operators(actual, op, expected, result):
    assert where_match({"f": actual}, "f", op, expected) is result


def test_where_match_missing_field_or_non_dict():
    assert not where_match({"g": 1}, "f", "is", 1)
    assert not where_match("f", "f", "is", "f")


def test_sort_values_sort_example():
    assert sort_values([5, 2, 8, 1, 9, 3]) == [1, 2, 3, 5, 8, 9]
    assert sort_values([10, 40, 20, 50, 30], descending=True) == [50, 40, 30, 20, 10]
    assert sort_values(["banana", "apple", "cherry", "date"]) == [
        "apple",
        "banana",
        "cherry",
        "date",
    ]
    assert sort_values([2.5, 1.5]) == [1.5, 2.5]
    assert sort_values([]) == []
    assert sort_values([2, 1.5]) == [2, 1.5]
    assert sort_values([True, False]) == [True, False]
    assert sort_values("text") == "text"


def test_reduce_values_data_pipeline_example():
    numbers = [1, 2, 3, 4, 5]
    assert format_log(reduce_values(numbers, "count")) == "5"
    assert format_log(reduce_values(numbers, "sum")) == "15.00"
    assert format_log(reduce_values(numbers, "avg")) == "3.00"
    assert format_log(reduce_values(numbers, "min")) == "1.00"
    assert format_log(reduce_values(numbers, "max")) == "5.00"
    active = [o for o in ORDERS if o["status"] == "active"]
    assert format_log(reduce_values(active, "sum", "amount")) == "900.00"
    assert reduce_values(active, "COUNT") == 3
    assert format_log(reduce_values(active, "average", "amount")) == "300.00"
    assert format_log(reduce_values([o for o in ORDERS if o["amount"] > 200], "sum", "amount")) == (
        "1050.00"
    )


def test_reduce_values_details():
    assert reduce_values([], "avg") == 0.0
    assert reduce_values([], "min") == 0.0
    assert reduce_values([], "sum") == 0.0
    assert reduce_values(["2", "x", None, 3.5], "sum") == 5.5
    assert reduce_values([1, 2], "first") == 1
    assert reduce_values([1, 2], "last") == 2
    assert reduce_values([], "first") == []
    assert reduce_values([1, 2], "median") == 2
    assert reduce_values(7, "count") == 1
    assert reduce_values(7, "sum") == 7


def test_group_by_group_demo_example():
    orders = [*ORDERS, {"id": 6, "status": "pending", "amount": 150}]
    groups = group_by(orders, "status")
    assert list(groups) == ["active", "pending", "cancelled"]
    assert [o["id"] for o in groups["pending"]] == [2, 6]
    lines = format_log(groups).split("\n")
    assert [line.split(":")[0] for line in lines] == ["active", "cancelled", "pending"]


def test_group_by_details():
    assert group_by([{"n": 1}, {"n": 1.0}, {}, "skip"], "n") == {
        "1": [{"n": 1}],
        "1.0": [{"n": 1.0}],
        "(nil)": [{}],
    }
    assert group_by({"n": True}, "n") == {"true": [{"n": True}]}


def test_split_text_split_example():
    assert format_log(split_text("apple,banana,cherry,date", ",")) == (
        "[apple, banana, cherry, date]"
    )
    assert format_log(split_text("Hello   World  ARO", r"\s+")) == "[Hello, World, ARO]"
    assert format_log(split_text("one;two,three four", r"[;,\s]+")) == "[one, two, three, four]"


def test_split_text_details():
    assert split_text("a,,b,", ",") == ["a", "", "b", ""]
    assert split_text("abc", ";") == ["abc"]
    assert split_text("aXbxc", "x", "i") == ["a", "b", "c"]
    with pytest.raises(ActionError, match="Invalid regular expression"):
        split_text("abc", "(")


def test_join_values():
    assert join_values(["a", "b", "c"], ", ") == "a, b, c"
    assert join_values([1, 2.0, None]) == "12.0null"
    assert join_values([{"k": "v"}], "|") == '["k": "v"]'
    assert join_values("solo", ",") == "solo"


def test_merge_values_collection_merge_example():
    assert format_log(merge_values(["apple", "banana"], ["cherry", "date"])) == (
        "[apple, banana, cherry, date]"
    )
    person = {"name": "Alice", "age": 30}
    merged = merge_values(person, {"city": "Berlin", "country": "Germany"})
    assert format_log(merged) == "age: 30\ncity: Berlin\ncountry: Germany\nname: Alice"
    assert person == {"name": "Alice", "age": 30}
    assert merge_values("Hello, ", "World!") == "Hello, World!"
    user = {"id": "1", "name": "Bob", "email": "bob@old.com"}
    updated = merge_values(user, {"email": "bob@new.com", "verified": True})
    assert format_log(updated) == "email: bob@new.com\nid: 1\nname: Bob\nverified: true"
    assert merge_values([1], "x") == [1]


# ---------------------------------------------------------------------------------------------
# Paths


def test_property_path_dicts_and_lists():
    request = {"body": {"user": {"email": "a@b.c"}}, "items": ["x", "y", "z"]}
    assert property_path(request, ["body", "user", "email"]) == "a@b.c"
    assert property_path(request, []) is request
    assert property_path(request, ["items", "0"]) == "z"
    assert property_path(request, ["items", "2"]) == "x"
    assert property_path(request, ["items", "first"]) == "x"
    assert property_path(request, ["items", "LAST"]) == "z"
    assert property_path(request, ["items", "0-1"]) == ["z", "y"]
    assert property_path(request, ["items", "1-0"]) == ["z", "y"]
    assert property_path(request, ["items", "0-9"]) == ["z", "y", "x"]
    assert property_path(request, ["items", "0,2,9"]) == ["z", "x"]
    assert property_path([], ["first"]) == ""


def test_property_path_strings():
    assert property_path('{"a": {"b": [1, 2]}}', ["a", "b", "0"]) == 2
    assert property_path("[10, 20, 30]", ["0"]) == 10
    assert property_path("name=Jo%20Do&x=1", ["name"]) == "Jo Do"
    assert property_path("Host: example.com\nAccept: */*", ["host"]) == "example.com"
    assert property_path("say hello there", ["say"]) == "hello there"
    assert property_path({"raw": b"k=v"}, ["raw", "k"]) == "v"


def test_property_path_dates():
    assert property_path({"when": DATE}, ["when", "month"]) == 1
    assert property_path(DATE, ["hour"]) == 12


@pytest.mark.parametrize(
    ("value", "path", "message"),
    [
        ({"a": 1}, ["b"], "Property 'b' not found on type 'Map'"),
        ({"a": 1}, ["a", "b"], "Property 'b' not found on type 'Int'"),
        (["x"], ["5"], "Property '5' not found on type 'List'"),
        (["x"], ["name"], "Property 'name' not found on type 'List'"),
        ("plain text", ["key"], "Property 'key' not found on type 'String'"),
        (DATE, ["nope"], "Property 'nope' not found on type 'Date'"),
    ],
)
def test_property_path_errors(value, path, message):
    with pytest.raises(ActionError, match=message):
        property_path(value, path)


def test_select_element():
    items = [1, 2, 3, 4]
    assert select_element(items, "first") == 1
    assert select_element(items, "last") == 4
    assert select_element(items, "1") == 3
    assert select_element(items, "2-3") == [2, 1]
    assert select_element(items, "0,3") == [4, 1]
    assert select_element(items, "9") == items
    assert select_element(items, "name") == items
    assert select_element([], "last") == ""


# ---------------------------------------------------------------------------------------------
# Characters and markdown


def test_characters_are_grapheme_clusters():
    assert characters("abc") == ["a", "b", "c"]
    assert characters("e\u0301x") == ["e\u0301", "x"]
    assert characters("a\r\nb") == ["a", "\r\n", "b"]
    assert characters("🇩🇪🇫🇷") == ["🇩🇪", "🇫🇷"]
    assert characters("👍🏽!") == ["👍🏽", "!"]
    assert characters("👩\u200d💻x") == ["👩\u200d💻", "x"]
    assert compute("length", "e\u0301") == 1
    assert compute("take", "🇩🇪🇫🇷", 1) == "🇩🇪"


def test_markdown():
    assert markdown_to_html("") == ""
    assert markdown_to_html("Hello world.") == "<p>Hello world.</p>"
    assert markdown_to_html("# Welcome\n\nThis is **bold** and *italic* text.") == (
        "<h1>Welcome</h1>\n<p>This is <strong>bold</strong> and <em>italic</em> text.</p>"
    )
    assert markdown_to_html("###### Six") == "<h6>Six</h6>"
    assert markdown_to_html("####### Seven") == "<p>####### Seven</p>"
    assert markdown_to_html("an _italic_ word.") == "<p>an <em>italic</em> word.</p>"
    assert markdown_to_html('call `printf("hi")` here.') == (
        "<p>call <code>printf(&quot;hi&quot;)</code> here.</p>"
    )
    assert markdown_to_html("see [the docs](https://example.com).") == (
        '<p>see <a href="https://example.com">the docs</a>.</p>'
    )
    assert markdown_to_html("compare 1 < 2 & 3 > 0") == "<p>compare 1 &lt; 2 &amp; 3 &gt; 0</p>"
    assert markdown_to_html("line one\nline two") == "<p>line one line two</p>"
    assert markdown_to_html("```\na <b>\n\nc\n```") == "<pre><code>a &lt;b&gt;\n\nc</code></pre>"


def test_the_package_re_exports_the_functions_themselves():
    """``values.x`` is the owner module's own object: no wrapper on the per-statement path."""
    for name in values.__all__:
        exported = getattr(values, name)
        owner = getattr(exported, "__module__", "")
        if owner.startswith("aro.vm.values."):
            assert getattr(importlib.import_module(owner), name) is exported, name
