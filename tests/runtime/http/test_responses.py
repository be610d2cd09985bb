import json
import re

import pytest

from aro.runtime.http import responses
from aro.runtime.http.responses import (
    encode_body,
    error_response,
    method_not_allowed,
    no_contract_response,
    not_found,
    not_implemented,
)
from aro.vm.errors import EvaluationError, StatementError, ThrownError
from aro.vm.frame import Response
from aro.vm.statuses import is_known_status, status_code

# ---------------------------------------------------------------------------------------------
# Status names


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("OK", 200),
        ("ok", 200),
        ("Success", 200),
        ("Created", 201),
        ("Accepted", 202),
        ("NoContent", 204),
        ("no-content", 204),
        ("nocontent", 204),
        ("BadRequest", 400),
        ("bad-request", 400),
        ("Invalid", 400),
        ("Unauthorized", 401),
        ("Forbidden", 403),
        ("NotFound", 404),
        ("not-found", 404),
        ("NOTFOUND", 404),
        ("Conflict", 409),
        ("Gone", 410),
        ("UnprocessableEntity", 422),
        ("unprocessable-entity", 422),
        ("TooManyRequests", 429),
        ("too-many-requests", 429),
        ("Error", 500),
        ("ServerError", 500),
        ("server-error", 500),
        ("InternalError", 500),
        ("InternalServerError", 500),
        ("NotImplemented", 501),
        ("ServiceUnavailable", 503),
        ("service-unavailable", 503),
    ],
)
def test_status_table(name, code):
    assert status_code(name) == code
    assert is_known_status(name)


@pytest.mark.parametrize("name", ["Teapot", "order", "", "Not_Found", "o-k"])
def test_unknown_status_answers_200(name):
    assert status_code(name) == 200
    assert not is_known_status(name)


# ---------------------------------------------------------------------------------------------
# JSON bodies


def body_of(status="OK", reason="x", payload=None, path="/"):
    return encode_body(Response(status, reason, payload), path)


def test_json_payload_sorted_compact_with_escaped_slashes():
    code, content_type, body = body_of(
        "Created", payload={"user.name": "Ada", "url": "ws://h/ws", "Zeta": 1, "alpha": 2.0}
    )
    assert (code, content_type) == (201, b"application/json")
    assert body == b'{"alpha":2,"url":"ws:\\/\\/h\\/ws","user.name":"Ada","Zeta":1}'


def test_examples_from_the_reference():
    assert body_of(payload={"data": []})[2] == b'{"data":[]}'
    assert body_of(payload={"message": "Hello World"})[2] == b'{"message":"Hello World"}'
    items = [{"productId": "p", "price": 10.0, "quantity": 1}]
    assert body_of(payload={"items": items, "status": "draft"})[2] == (
        b'{"items":[{"price":10,"productId":"p","quantity":1}],"status":"draft"}'
    )


def test_context_aware_expected_body():
    payload = {
        "summary": "Demo",
        "user.active": True,
        "user.score": 98.5,
        "order.total": 249.99,
        "tags": ["featured", "premium"],
    }
    assert body_of(payload=payload)[2] == (
        b'{"order.total":249.99,"summary":"Demo","tags":["featured","premium"],'
        b'"user.active":true,"user.score":98.5}'
    )


def test_json_strings_are_embedded():
    payload = {"a": '{"b": [1, 2.0]}', "c": "[true, null]", "d": "x"}
    assert body_of(payload=payload)[2] == b'{"a":{"b":[1,2]},"c":[true,null],"d":"x"}'


def test_json_embedding_leaves_other_strings_alone():
    payload = {"a": "{not json", "b": " [1]", "c": "[1] tail", "d": ""}
    assert json.loads(body_of(payload=payload)[2]) == payload


def test_json_embedding_does_not_touch_the_response():
    payload = {"a": "[1]", "b": 2}
    body_of(payload=payload)
    assert payload == {"a": "[1]", "b": 2}


def test_single_json_string_entry_is_embedded():
    assert body_of(payload={"data": "[1,2]"}) == (200, b"application/json", b'{"data":[1,2]}')


def test_empty_payload_gives_status_and_reason():
    assert body_of("Accepted", "job", {}) == (
        202, b"application/json", b'{"reason":"job","status":"Accepted"}'
    )  # fmt: skip
    assert body_of("Teapot", "", {})[2] == b'{"status":"Teapot"}'


def test_no_content_has_no_body():
    assert body_of("NoContent", "deletion", {}) == (204, b"application/json", b"")
    assert body_of("no-content", "x", {"a": 1}) == (204, b"application/json", b"")


def test_error_status_keeps_its_payload():
    assert body_of("NotFound", "user", {"value": "missing"}) == (
        404, b"application/json", b'{"value":"missing"}'
    )  # fmt: skip


def test_non_scalar_values_use_the_serializer():
    from datetime import UTC, datetime

    payload = {"at": datetime(2026, 3, 1, 17, 48, 43, tzinfo=UTC), "none": None}
    assert body_of(payload=payload)[2] == b'{"at":"2026-03-01T17:48:43Z","none":null}'


# ---------------------------------------------------------------------------------------------
# Content types


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/static/app.css", b"text/css; charset=utf-8"),
        ("/static/app.js", b"text/javascript; charset=utf-8"),
        ("/data.json", b"application/json; charset=utf-8"),
        ("/index.html", b"text/html; charset=utf-8"),
        ("/INDEX.HTM", b"text/html; charset=utf-8"),
        ("/feed.xml", b"application/xml; charset=utf-8"),
        ("/robots.txt", b"text/plain; charset=utf-8"),
        ("/logo.svg", b"image/svg+xml"),
        ("/a.png", b"image/png"),
        ("/a.jpg", b"image/jpeg"),
        ("/a.jpeg", b"image/jpeg"),
        ("/a.gif", b"image/gif"),
        ("/a.webp", b"image/webp"),
        ("/favicon.ico", b"image/x-icon"),
        ("/f.woff", b"font/woff"),
        ("/f.woff2", b"font/woff2"),
        ("/f.ttf", b"font/ttf"),
        ("/f.eot", b"application/vnd.ms-fontobject"),
    ],
)
def test_path_extension_serves_one_string_raw(path, content_type):
    assert body_of(payload={"file": "hello / {x}"}, path=path) == (
        200, content_type, b"hello / {x}"
    )  # fmt: skip


def test_path_extension_serves_bytes_raw():
    assert body_of(payload={"file": b"\x89PNG"}, path="/a.png") == (200, b"image/png", b"\x89PNG")


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/static/app.css", {"a": "x", "b": "y"}),  # two entries
        ("/static/app.css", {"n": 1}),  # not a string
        ("/static/app.cs", {"a": "x"}),  # unknown extension
        ("/a.css/", {"a": "x"}),  # the extension must end the path
        ("/v1.2/users", {"a": "x"}),
    ],
)
def test_path_extension_needs_one_string_entry(path, payload):
    assert body_of(payload=payload, path=path)[1] == b"application/json"


def test_bytes_without_a_known_extension_are_json():
    assert body_of(payload={"data": b"hi"}, path="/x")[2] == b'{"data":"aGk="}'


@pytest.mark.parametrize(
    "text",
    ["<!DOCTYPE html><p>x</p>", "<!doctype html>", "  \n<html lang=en>", "<HTML></HTML>"],
)
def test_html_is_detected(text):
    assert body_of(payload={"page": text}) == (200, b"text/html; charset=utf-8", text.encode())


def test_html_fragment_is_json():
    assert body_of(payload={"page": "<div>x</div>"})[1] == b"application/json"


@pytest.mark.parametrize(
    "text",
    [
        ":root { --c: red; }",
        "@media print { a {} }",
        "* { margin: 0 }",
        "body {\n color: red }",
        ".card { padding: 0 }",
        "#main { width: 1px }",
        "/* theme */\n.x { y: z }",
        "hello {x}",  # the reference's regex counts this as CSS
        "let x = {a: 1}",  # and this: CSS is tested before JavaScript
        "/* lib */\nfunction f() {}",
    ],
)
def test_css_is_detected(text):
    assert body_of(payload={"css": text}) == (200, b"text/css; charset=utf-8", text.encode())


@pytest.mark.parametrize("text", ["hello world", ". x {", "# x {", "1px { }", "{ a }"])
def test_not_css(text):
    assert body_of(payload={"css": text})[1] != b"text/css; charset=utf-8"


@pytest.mark.parametrize(
    "text", ['# HELP aro_requests Total\n# TYPE aro_requests counter\naro_requests{a="b"} 1']
)
def test_prometheus_is_detected(text):
    assert body_of(payload={"metrics": text}) == (
        200, b"text/plain; version=0.0.4; charset=utf-8", text.encode()
    )  # fmt: skip


@pytest.mark.parametrize(
    "text",
    [
        "var x = 1;",
        "let it be",
        "const a = 1;",
        "function f() ;",
        "// comment",
        "'use strict';",
        '"use strict";',
        "(function() )()",
        "import x from 'y';",
        "export const z = 1;",
        "/* lib */ const a = 1;",
        "/* lib */\n(function() )",
    ],
)
def test_javascript_is_detected(text):
    assert body_of(payload={"js": text}) == (
        200, b"text/javascript; charset=utf-8", text.encode()
    )  # fmt: skip


def test_after_comment_only_the_narrow_javascript_list():
    assert body_of(payload={"js": "/* x */ import y"})[1] == b"application/json"
    assert body_of(payload={"js": "/* unterminated var x"})[1] == b"application/json"


def test_raw_detection_applies_to_one_entry_only():
    assert body_of(payload={"a": "let it be", "b": "x"})[1] == b"application/json"


def test_raw_body_is_the_untrimmed_string():
    text = "\n  <!DOCTYPE html>\n"
    assert body_of(payload={"page": text})[2] == text.encode()


def test_raw_content_keeps_the_status():
    assert body_of("NotFound", payload={"page": "<html>gone</html>"})[0] == 404


# ---------------------------------------------------------------------------------------------
# Error answers


def statement_error(**overrides):
    fields = {
        "headline": 'Cannot extract the id from the "path\\name".',
        "feature": "getUser",
        "activity": "User API",
        "statement": "Extract the <id> from the <pathParameters: id>.",
        "trace": (("id", '"a\tb"'),),
    }
    fields.update(overrides)
    return fields


def test_statement_error_is_a_500_with_valid_json():
    error = StatementError(**statement_error())
    code, content_type, body = error_response(error)
    assert (code, content_type) == (500, b"application/json")
    assert json.loads(body) == {"error": str(error)}
    assert "\n" in str(error) and b"\n" not in body


@pytest.mark.parametrize(
    ("name", "code"),
    [("NotFound", 404), ("not-found", 404), ("BadRequest", 400), ("Conflict", 409),
     ("ServiceUnavailable", 503), ("Teapot", 500), ("OK", 500), ("Created", 500)],
)  # fmt: skip
def test_thrown_error_answers_its_status(name, code):
    error = ThrownError(name, **statement_error())
    status, _, body = error_response(error)
    assert status == code
    assert json.loads(body) == {"error": str(error)}


def test_evaluation_error_text_is_shown_raw():
    code, _, body = error_response(EvaluationError('Undefined variable: "x"'))
    assert code == 500
    assert json.loads(body) == {"error": 'Undefined variable: "x"'}


def test_runtime_defects_do_not_leak():
    code, _, body = error_response(KeyError("secret internal detail"))
    assert (code, body) == (500, b'{"error":"Internal Server Error"}')


def test_not_found():
    assert not_found('/x/"y"') == (
        404, b"application/json", b'{"error":"Not Found","path":"\\/x\\/\\"y\\""}'
    )  # fmt: skip
    assert json.loads(not_found("/a b%20")[2]) == {"error": "Not Found", "path": "/a b%20"}


def test_method_not_allowed():
    code, content_type, body = method_not_allowed(("GET", "HEAD", "POST"))
    assert (code, content_type) == (405, b"application/json")
    assert body == b'{"allowed":["GET","HEAD","POST"],"error":"Method Not Allowed"}'


def test_not_implemented():
    assert not_implemented("chatSocket") == (
        501, b"application/json", b'{"error":"Not Implemented","operationId":"chatSocket"}'
    )  # fmt: skip


def test_no_contract_response():
    code, headers, body = no_contract_response()
    assert code == 200
    assert [name for name, _ in headers] == [b"Content-Type", b"X-Request-ID"]
    (content_type, request_id) = (value for _, value in headers)
    assert content_type == b"application/json"
    assert re.fullmatch(
        rb"[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[0-9A-F]{4}-[0-9A-F]{12}", request_id
    )
    assert body == b'{"status":"ok","message":"Request received","requestId":"' + request_id + b'"}'
    assert json.loads(body)["requestId"] == request_id.decode()
    assert no_contract_response()[1][1] != (b"X-Request-ID", request_id)


def test_content_type_constants_are_bytes():
    for constant in (responses.JSON, responses.HTML, responses.CSS, responses.JAVASCRIPT,
                     responses.PROMETHEUS):  # fmt: skip
        assert isinstance(constant, bytes)


def test_raw_text_with_a_lone_surrogate_does_not_fail():
    assert body_of(payload={"page": "<html>\ud800"})[2] == b"<html>\xed\xa0\x80"


def test_a_response_answers_the_code_it_carries_else_its_status_names():
    assert encode_body(Response("Created", payload={"a": 1}, code=201), "/x")[0] == 201
    assert encode_body(Response("NotFound", payload={"a": 1}), "/x")[0] == 404


def test_the_json_a_response_carries_is_its_body_unless_the_body_embeds_json():
    carried = b'{"a":"x"}'
    assert encode_body(Response("OK", payload={"a": "x", "b": 1}, json=carried), "/")[2] is carried
    embedding = Response("OK", payload={"a": "[1]", "b": 1}, json=b'{"a":"[1]","b":1}')
    assert encode_body(embedding, "/")[2] == b'{"a":[1],"b":1}'
