import pytest

from aro.config import Config
from aro.lang.compiler import compile_source
from aro.net.http import Request
from aro.net.openapi import Operation, Parameter
from aro.runtime.http.bindings import (
    REQUEST_NAMES,
    BodyError,
    BodyLimits,
    parse_body,
    parse_form,
    parse_multipart,
    request_bindings,
    slots_for_request,
)
from aro.vm.frame import Frame
from tests.actions.conftest import FakeServices

JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"
LIMITS = BodyLimits.from_config(Config())


def parse(body: bytes, content_type: str | None) -> object:
    return parse_body(body, content_type, LIMITS)

# ---------------------------------------------------------------------------------------------
# JSON and plain bodies


def test_empty_body_is_an_empty_string():
    assert parse(b"", JSON_TYPE) == ""
    assert parse(b"", FORM_TYPE) == ""
    assert parse(b"", None) == ""


def test_json_object_becomes_a_dict():
    body = b'{"name": "Ada", "age": 36, "tags": ["a"], "address": {"city": "Paris"}}'
    assert parse(body, JSON_TYPE) == {
        "name": "Ada",
        "age": 36,
        "tags": ["a"],
        "address": {"city": "Paris"},
    }


@pytest.mark.parametrize("content_type", [None, "", "text/plain", "application/xml", "x"])
def test_any_other_content_type_is_tried_as_json(content_type):
    assert parse(b'{"a": 1}', content_type) == {"a": 1}


def test_integral_numbers_become_ints_at_any_depth():
    body = b'{"a": 10.0, "b": 2.5, "c": [1e3, {"d": -0.0}], "e": 1e300, "f": "1.0"}'
    parsed = parse(body, JSON_TYPE)
    assert parsed == {"a": 10, "b": 2.5, "c": [1000, {"d": 0}], "e": 1e300, "f": "1.0"}
    assert type(parsed["a"]) is int and type(parsed["c"][0]) is int
    assert type(parsed["c"][1]["d"]) is int and type(parsed["e"]) is float


def test_booleans_and_null_stay_real_values():
    parsed = parse(b'{"yes": true, "no": false, "none": null}', JSON_TYPE)
    assert parsed == {"yes": True, "no": False, "none": None}
    assert type(parsed["yes"]) is bool


def test_leading_whitespace_before_a_json_object():
    assert parse(b' \r\n\t{"a": "b"}', JSON_TYPE) == {"a": "b"}


@pytest.mark.parametrize(
    ("body", "text"),
    [
        (b"[1, 2]", "[1, 2]"),
        (b'"text"', '"text"'),
        (b"42", "42"),
        (b"{not json", "{not json"),
        (b'{"a": 1} trailing', '{"a": 1} trailing'),
        ("héllo".encode(), "héllo"),
    ],
)
def test_other_bodies_are_their_text(body, text):
    assert parse(body, JSON_TYPE) == text


def test_content_type_parameters_and_case_are_ignored():
    assert parse(b"a=1", "Application/X-WWW-Form-URLEncoded ; charset=UTF-8") == {"a": "1"}


# ---------------------------------------------------------------------------------------------
# application/x-www-form-urlencoded


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (b"a=1&b=2", {"a": "1", "b": "2"}),
        (b"name=Ada+Lovelace", {"name": "Ada Lovelace"}),
        (b"q=a%2Bb%20c%26d%3De", {"q": "a+b c&d=e"}),
        (b"city=M%C3%BCnchen", {"city": "München"}),
        (b"a=1&a=2&a=3", {"a": ["1", "2", "3"]}),
        (b"flag&x=1", {"flag": "", "x": "1"}),
        (b"a=", {"a": ""}),
        (b"a=1&a=", {"a": ["1", ""]}),
        (b"a==b", {"a": "=b"}),
        (b"&&a=1&&", {"a": "1"}),
        (b"=orphan&b=2", {"b": "2"}),
        (b"my+key=v&my%20key=w", {"my key": ["v", "w"]}),
        (b"", {}),
    ],
)
def test_form_fields(body, fields):
    assert parse_form(body, LIMITS) == fields


def test_form_body_through_parse():
    assert parse(b"a=1&a=2", FORM_TYPE) == {"a": ["1", "2"]}


# Bodies that cannot be decoded are refused (docs/decisions.md, decision 18)


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"message=\xff", FORM_TYPE, "request body is not valid UTF-8 (at byte 8)"),
        (b'{"message": "\xff"}', JSON_TYPE, "request body is not valid UTF-8 (at byte 13)"),
        (b"\xff\xfe{", JSON_TYPE, "request body is not valid UTF-8 (at byte 0)"),
        (b"caf\xe9", None, "request body is not valid UTF-8 (at byte 3)"),
        (b"pct=100%", FORM_TYPE, "form field '100%' is not valid percent-encoded UTF-8"),
        (b"bad=%zz%41", FORM_TYPE, "form field '%zz%41' is not valid percent-encoded UTF-8"),
        (b"latin=%E9", FORM_TYPE, "form field '%E9' is not valid percent-encoded UTF-8"),
        (b"na%2=x", FORM_TYPE, "form field 'na%2' is not valid percent-encoded UTF-8"),
    ],
)
def test_undecodable_bodies_answer_400(body, content_type, reason):
    with pytest.raises(BodyError) as refused:
        parse(body, content_type)
    assert (refused.value.status, refused.value.reason) == (400, reason)


def test_a_missing_form_field_is_just_absent_and_a_repeated_one_a_list():
    """docs/semantics.md, HTTP: the form gives every field it has, each name once."""
    assert parse(b"other=1", FORM_TYPE) == {"other": "1"}
    assert parse(b"message=a&message=b", FORM_TYPE) == {"message": ["a", "b"]}


def test_form_content_type_is_not_json():
    assert parse(b'{"a": 1}', FORM_TYPE) == {'{"a": 1}': ""}


# ---------------------------------------------------------------------------------------------
# multipart/form-data


def multipart(*parts: bytes, boundary: bytes = b"XyZ") -> bytes:
    body = b"preamble, ignored\r\n"
    for part in parts:
        body += b"--" + boundary + b"\r\n" + part + b"\r\n"
    return body + b"--" + boundary + b"--\r\nepilogue --" + boundary + b"\r\n"


TEXT_PART = b'Content-Disposition: form-data; name="title"\r\n\r\nHello\r\nWorld'
FILE_PART = (
    b'Content-Disposition: form-data; filename="a.png"; name="upload"\r\n'
    b"Content-Type: image/png\r\n\r\n\x89PNG\r\n\x00\xff"
)


def test_multipart_text_and_binary_parts():
    body = multipart(TEXT_PART, FILE_PART)
    fields = parse(body, 'multipart/form-data; boundary="XyZ"')
    assert fields == {"title": "Hello\r\nWorld", "upload": b"\x89PNG\r\n\x00\xff"}


def test_multipart_text_content_types():
    body = multipart(
        b'Content-Disposition: form-data; name="a"\r\nContent-Type: TEXT/plain\r\n\r\nx',
        b'Content-Disposition: form-data; name="b"\r\nContent-Type: application/json\r\n\r\n{}',
        b"content-disposition: form-data; NAME=c\r\n\r\nunquoted",
    )
    assert parse_multipart(body, "XyZ", LIMITS) == {"a": "x", "b": b"{}", "c": "unquoted"}


def test_multipart_text_that_is_not_utf8_stays_bytes():
    body = multipart(b'Content-Disposition: form-data; name="a"\r\n\r\n\xff')
    assert parse_multipart(body, "XyZ", LIMITS) == {"a": b"\xff"}


def test_multipart_repeated_names_become_a_list():
    part = b'Content-Disposition: form-data; name="f"\r\n\r\n'
    assert parse_multipart(multipart(part + b"1", part + b"2"), "XyZ", LIMITS) == {"f": ["1", "2"]}


def test_multipart_skips_parts_without_a_name_or_headers():
    body = multipart(
        b"Content-Disposition: form-data\r\n\r\nno name",
        b'Content-Disposition: form-data; filename="x"\r\n\r\nonly a filename',
        b"no header block at all",
        b'Content-Disposition: form-data; name=""\r\n\r\nempty name',
        b'Content-Disposition: form-data; name="ok"\r\n\r\n',
    )
    assert parse_multipart(body, "XyZ", LIMITS) == {"ok": ""}


def test_multipart_boundary_parameter_forms():
    body = multipart(TEXT_PART, boundary=b"----WebKitFormBoundary7MA4")
    expected = {"title": "Hello\r\nWorld"}
    assert parse(body, "multipart/form-data; boundary=----WebKitFormBoundary7MA4") == expected
    assert parse(body, "multipart/form-data;charset=utf-8;BOUNDARY=----WebKitFormBoundary7MA4")


def test_multipart_without_boundary_is_the_text():
    body = multipart(TEXT_PART)
    assert parse(body, "multipart/form-data") == body.decode()
    assert parse(body, "multipart/form-data; boundary=") == body.decode()


def test_multipart_with_a_wrong_boundary_is_empty():
    assert parse(multipart(TEXT_PART), "multipart/form-data; boundary=nope") == {}


# ---------------------------------------------------------------------------------------------
# The handler's bindings


def parameter(name, location, is_array=False, style="form", explode=True):
    schema = {"type": "array" if is_array else "string"}
    return Parameter(name, location, schema, style, explode, is_array)


OPERATION = Operation(
    method="POST",
    path="/users/{id}",
    operation_id="updateUser",
    parameters=(
        parameter("id", "path"),
        parameter("tags", "query", is_array=True, explode=False),
        parameter("X-Trace", "header"),
        parameter("session", "cookie"),
    ),
    responses={"200": {}},
    request_body=None,
    upgrade=False,
)


def post(target, body=b"", **headers):
    spelled = {name.replace("_", "-"): value for name, value in headers.items()}
    return Request("POST", target, spelled, body=body)


def test_bindings_for_a_json_request():
    request = post(
        "/users/7?tags=a,b&q=x+y&flag&empty=",
        b'{"name": "Ada", "score": 9.0}',
        Content_Type="application/json",
        x_trace="t-1",
        Cookie="session=s%201; other=o",
        Accept="*/*",
    )
    bindings = request_bindings(request, OPERATION, {"id": "7"}, LIMITS)
    body = {"name": "Ada", "score": 9}
    assert bindings == {
        "request": {
            "method": "POST",
            "path": "/users/7",
            "headers": request.headers,
            "body": body,
            "queryParameters": {"tags": "a,b", "q": "x y"},
        },
        "body": body,
        "pathParameters": {"id": "7"},
        "queryParameters": {"tags": ["a", "b"], "q": "x y", "flag": "", "empty": ""},
        "headerParameters": {"x-trace": "t-1"},
        "cookieParameters": {"session": "s 1"},
    }
    assert bindings["request"]["headers"] == {
        "Content-Type": "application/json",
        "x-trace": "t-1",
        "Cookie": "session=s%201; other=o",
        "Accept": "*/*",
    }


def test_body_is_bound_only_for_a_dict():
    bindings = request_bindings(post("/users/1", b"[1, 2]"), OPERATION, {"id": "1"}, LIMITS)
    assert "body" not in bindings
    assert bindings["request"]["body"] == "[1, 2]"


def test_bindings_for_a_form_request():
    request = post("/users/1", b"name=Ada+L&role=a&role=b", content_type=FORM_TYPE)
    bindings = request_bindings(request, OPERATION, {"id": "1"}, LIMITS)
    assert bindings["body"] == {"name": "Ada L", "role": ["a", "b"]}
    assert bindings["request"]["body"] is bindings["body"]


def test_bindings_of_an_empty_get_request():
    request = Request("GET", "/users/1", {})
    bindings = request_bindings(request, OPERATION, {"id": "1"}, LIMITS)
    assert bindings == {
        "request": {
            "method": "GET",
            "path": "/users/1",
            "headers": {},
            "body": "",
            "queryParameters": {},
        },
        "pathParameters": {"id": "1"},
        "queryParameters": {},
        "headerParameters": {},
        "cookieParameters": {},
    }


def test_undeclared_headers_and_cookies_are_not_parameters():
    request = post("/users/1", X_Other="1", Cookie="other=2")
    bindings = request_bindings(request, OPERATION, {"id": "1"}, LIMITS)
    assert bindings["headerParameters"] == {}
    assert bindings["cookieParameters"] == {}


def test_a_handler_finds_each_request_binding_in_its_slot_or_by_name():
    request = post(
        "/users/7?tags=a", b'{"name": "Ada"}', Content_Type="application/json", Cookie="session=s"
    )
    bindings = request_bindings(request, OPERATION, {"id": "7"}, LIMITS)
    assert set(bindings) == set(REQUEST_NAMES)  # every name has its slot decided once
    source = (
        "(updateUser: Users API) {\n"
        "    Extract the <name> from the <body: name>.\n"
        "    Return an <OK: status> with <pathParameters>.\n}\n"
    )
    code = compile_source(source, "main.aro").find("updateUser")
    slotted = slots_for_request(code)
    assert sorted(name for _, name in slotted) == ["body", "pathParameters"]
    frame = Frame(code, FakeServices())
    frame.adopt_names(bindings, slotted)
    for name, value in bindings.items():
        assert frame.lookup(name) is value
    assert frame.slots[code.slot_index["body"]] is bindings["body"]
