"""Request body limits (--max-body-fields, --max-body-depth, --max-body-string): each at its
limit and one past it, what refusing costs, and that no accepted body can break the JSON writer."""

from __future__ import annotations

import json
import threading
import time

import orjson
import pytest

from aro.config import DEEPEST_JSON, Config
from aro.runtime.http.bindings import BodyError, BodyLimits, parse_body
from aro.vm import values
from tests.support.serving import ROOT, serve

JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"
SMALL = BodyLimits(fields=3, depth=4, string=10)
DEFAULTS = BodyLimits.from_config(Config())
# Refusing an attack body used to take 1.2-2 s of loop time; now it is one scan and, for JSON,
# one parse (measured: at most about 20 ms). CPU time, so that other processes on a loaded
# machine do not count; the bound is generous still.
CHEAP = 0.5


def nested(depth: int, leaf: object = 0) -> object:
    """``depth`` lists around ``leaf``: ``nested(2)`` is ``[[0]]``."""
    for _ in range(depth):
        leaf = [leaf]
    return leaf


def refusal(body: bytes, content_type: str, limits: BodyLimits = SMALL) -> tuple[int, str]:
    with pytest.raises(BodyError) as refused:
        parse_body(body, content_type, limits)
    return refused.value.status, refused.value.reason


def multipart(*values_: bytes) -> tuple[bytes, str]:
    parts = b"".join(
        b'--B\r\nContent-Disposition: form-data; name="f%d"\r\n\r\n' % index + value + b"\r\n"
        for index, value in enumerate(values_)
    )
    return parts + b"--B--\r\n", "multipart/form-data; boundary=B"


def test_the_defaults_are_those_of_django_and_well_inside_the_writer():
    assert (DEFAULTS.fields, DEFAULTS.depth, DEFAULTS.string) == (1000, 64, 65536)
    assert DEFAULTS.depth < DEEPEST_JSON < 254  # orjson writes 254 nested containers


# ---------------------------------------------------------------------------------------------
# Fields


FIELDS = "request body has more than 3 fields (--max-body-fields)"


def test_form_fields_at_and_past_the_limit():
    assert parse_body(b"a=1&b=2&c=3", FORM_TYPE, SMALL) == {"a": "1", "b": "2", "c": "3"}
    assert refusal(b"a=1&b=2&c=3&d=4", FORM_TYPE) == (400, FIELDS)
    assert refusal(b"a=1&&&", FORM_TYPE) == (400, FIELDS)  # the & are counted, not the names


def test_multipart_parts_at_and_past_the_limit():
    body, content_type = multipart(b"1", b"2", b"3")
    assert parse_body(body, content_type, SMALL) == {"f0": "1", "f1": "2", "f2": "3"}
    body, content_type = multipart(b"1", b"2", b"3", b"4")
    assert refusal(body, content_type) == (400, FIELDS)


def test_json_keys_in_all_objects_at_and_past_the_limit():
    assert parse_body(b'{"a": {"b": 1}, "c": [{}]}', JSON_TYPE, SMALL) == {
        "a": {"b": 1},
        "c": [{}],
    }
    assert refusal(b'{"a": {"b": 1}, "c": [{"d": 2}]}', JSON_TYPE) == (400, FIELDS)
    assert refusal(b'[{"a": 1, "b": 2}, {"c": 3, "d": 4}]', JSON_TYPE) == (400, FIELDS)


def test_colons_in_strings_do_not_count_as_keys():
    assert parse_body(b'{"a": "::::::"}', JSON_TYPE, SMALL) == {"a": "::::::"}


# ---------------------------------------------------------------------------------------------
# Depth


DEEP = "JSON body nested more than 4 deep (--max-body-depth)"


def test_json_depth_at_and_past_the_limit():
    assert parse_body(b'{"a": [[[1]]]}', JSON_TYPE, SMALL) == {"a": [[[1]]]}
    assert refusal(b'{"a": [[[[1]]]]}', JSON_TYPE) == (400, DEEP)
    assert refusal(b"[[[[[]]]]]", JSON_TYPE) == (400, DEEP)  # an array body stays text, checked


def test_brackets_in_strings_do_not_count_as_depth():
    assert parse_body(b'{"a": "[[[[[[{{{{"}', JSON_TYPE, SMALL) == {"a": "[[[[[[{{{{"}


# ---------------------------------------------------------------------------------------------
# String length


LONG = "request body has a string over 10 characters (--max-body-string)"


@pytest.mark.parametrize(
    ("fits", "too_long", "content_type"),
    [
        (b'{"a": "%s"}', b'{"a": "%s!"}', JSON_TYPE),
        (b'{"%s": 1}', b'{"%s!": 1}', JSON_TYPE),
        (b'["%s"]', b'["%s!"]', JSON_TYPE),
        (b"a=%s", b"a=%s!", FORM_TYPE),
        (b"%s=1", b"%s!=1", FORM_TYPE),
    ],
)
def test_strings_at_and_past_the_limit(fits, too_long, content_type):
    ten = b"\xc3\xa9" * 10  # characters are counted, not bytes
    parse_body(fits % ten, content_type, SMALL)
    assert refusal(too_long % ten, content_type) == (413, LONG)


def test_an_escaped_string_counts_its_characters():
    assert parse_body(b'{"a": "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"}', JSON_TYPE, SMALL)
    assert parse_body(b"a=%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9", FORM_TYPE, SMALL)


def test_multipart_text_parts_are_held_to_the_limit_and_binary_parts_are_not():
    body, content_type = multipart(b"x" * 10)
    assert parse_body(body, content_type, SMALL) == {"f0": "x" * 10}
    body, content_type = multipart(b"x" * 11)
    assert refusal(body, content_type) == (413, LONG)
    binary = b'--B\r\nContent-Disposition: form-data; name="f"\r\nContent-Type: image/png\r\n\r\n'
    body = binary + b"\x89" * 100 + b"\r\n--B--\r\n"
    assert parse_body(body, "multipart/form-data; boundary=B", SMALL) == {"f": b"\x89" * 100}


# ---------------------------------------------------------------------------------------------
# Attack bodies are refused for little loop time


def form_with_fields(count: int) -> bytes:
    return b"&".join(b"f%d=x" % index for index in range(count))


def json_with_keys(count: int) -> bytes:
    return values.to_json({f"k{index}": 1 for index in range(count)})


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (form_with_fields(100_000), FORM_TYPE, 400),
        (json_with_keys(60_000), JSON_TYPE, 400),
        (b'{"message": ' + b"[" * 990 + b"]" * 990 + b"}", JSON_TYPE, 400),
        (b"[" * 500_000 + b"]" * 500_000, JSON_TYPE, 400),
        (b'{"m": "' + b"x" * 1_000_000 + b'"}', JSON_TYPE, 413),
        (b"m=" + b"x" * 1_000_000, FORM_TYPE, 413),
    ],
    ids=["form-100k-fields", "json-60k-keys", "json-990-deep", "json-1MiB-of-brackets",
         "json-1MB-string", "form-1MB-value"],
)  # fmt: skip
def test_an_attack_body_is_refused_cheaply(body, content_type, status):
    assert len(body) <= 2 << 20
    started = time.process_time()
    assert refusal(body, content_type, DEFAULTS)[0] == status
    assert time.process_time() - started < CHEAP


# ---------------------------------------------------------------------------------------------
# What the parser accepts, the writer writes (item: one message must not break the chat)


def test_every_json_parse_refuses_what_the_writer_could_not_write_back():
    deepest = nested(DEEPEST_JSON)
    assert values.from_json(values.to_json(deepest)) == deepest
    with pytest.raises(values.JsonTooDeep):
        values.from_json(values.to_json(nested(DEEPEST_JSON + 1)))
    with pytest.raises(values.JsonTooDeep):
        values.from_json("[" * 990 + "]" * 990)
    with pytest.raises(values.JsonTooDeep):  # past orjson's own limit
        values.from_json("[" * 2000 + "]" * 2000)


def test_the_deepest_accepted_value_wrapped_by_a_program_is_written_described_and_logged():
    wrapped = {"data": [{"message": nested(DEEPEST_JSON - 1), "id": "1"}]}
    assert orjson.loads(values.to_json(wrapped)) == wrapped
    assert values.describe(wrapped).startswith('["data": [["')
    assert values.format_log(wrapped)


# ---------------------------------------------------------------------------------------------
# Through examples/WebChat: what is accepted is stored and served; what is refused is not stored


@pytest.fixture(scope="module")
def chat():
    with serve(ROOT / "examples" / "WebChat", "--max-body-depth", str(DEEPEST_JSON)) as served:
        yield served


def post(chat, body: bytes, content_type: str) -> tuple[int, dict]:
    status, _, data = chat.request("POST", "/messages", body, {"Content-Type": content_type})
    return status, json.loads(data)


def messages(chat) -> list:
    status, listing = chat.json("GET", "/messages")
    assert status == 200
    return listing["data"]


def test_the_deepest_and_largest_accepted_bodies_round_trip_through_store_and_get(chat):
    deepest = nested(DEEPEST_JSON - 1)  # the body object is the first level
    most_keys = {f"k{index}": index for index in range(DEFAULTS.fields - 1)}
    longest = "é" * DEFAULTS.string
    looks_deep = "[" * 990 + "]" * 990  # a string: never parsed back into a deep value
    sent = [deepest, most_keys, longest, looks_deep]
    for message in sent:
        status, created = post(chat, values.to_json({"message": message}), JSON_TYPE)
        assert status == 201, created
    assert [row["message"] for row in messages(chat)[-len(sent) :]] == sent


def test_a_body_past_a_limit_is_refused_with_its_reason_and_never_stored(chat):
    before = len(messages(chat))
    refused = [
        (values.to_json({"message": nested(DEEPEST_JSON)}), JSON_TYPE, 400, "--max-body-depth"),
        (b'{"message": ' + b"[" * 990 + b"]" * 990 + b"}", JSON_TYPE, 400, "--max-body-depth"),
        (form_with_fields(DEFAULTS.fields + 1), FORM_TYPE, 400, "--max-body-fields"),
        (b"message=" + b"x" * (DEFAULTS.string + 1), FORM_TYPE, 413, "--max-body-string"),
        (b"message=caf\xe9", FORM_TYPE, 400, "not valid UTF-8"),
        (b"message=caf%E9", FORM_TYPE, 400, "not valid percent-encoded UTF-8"),
    ]
    for body, content_type, status, reason in refused:
        answer, error = post(chat, body, content_type)
        assert answer == status and reason in error["error"]
    assert len(messages(chat)) == before


def test_an_attacker_posting_huge_forms_does_not_hold_up_a_normal_client(chat):
    attack = form_with_fields(100_000)
    statuses: list[int] = []

    def attacker() -> None:
        for _ in range(10):
            statuses.append(post(chat, attack, FORM_TYPE)[0])

    thread = threading.Thread(target=attacker)
    thread.start()
    try:
        for _ in range(5):
            started = time.perf_counter()
            messages(chat)
            assert time.perf_counter() - started < 3.0
    finally:
        thread.join(timeout=60)
    assert statuses == [400] * 10
