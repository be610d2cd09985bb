"""End-to-end: example apps served by `aro run` over real sockets on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.serving import ROOT, serve

HELLO = ROOT / "examples" / "HelloAPI"
BOOKS = ROOT / "examples" / "BookShelfAPI"


@pytest.fixture(scope="module")
def hello():
    with serve(HELLO) as served:
        yield served


def test_get_returns_the_reference_json(hello) -> None:
    status, headers, body = hello.request("GET", "/hello")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert body == b'{"message":"Hello, World!"}'
    assert headers["Content-Length"] == str(len(body))


def test_path_parameters_and_escaped_slashes(hello) -> None:
    status, _, body = hello.request("GET", "/hello/Ada?excited=yes")
    assert (status, body) == (200, b'{"message":"Hello, Ada!","path":"\\/hello\\/Ada"}')


def test_html_is_served_raw(hello) -> None:
    status, headers, body = hello.request("GET", "/page")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert body.startswith(b"<!DOCTYPE html>")


def test_metrics_render_as_prometheus_text(hello) -> None:
    hello.request("GET", "/hello")
    status, headers, body = hello.request("GET", "/metrics")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert b'aro_http_requests_total{operation="sayHello",status="200",worker="0"} ' in body
    assert b"aro_http_open_connections" in body
    assert b'aro_featureset_executions_total{featureset="sayHello",activity="Hello API"}' in body


def featureset_counter(body: bytes, series: str, featureset: str) -> int:
    """One counter of ``<metrics>``' Prometheus text (0 before the feature set first ran)."""
    line = f'aro_featureset_{series}_total{{featureset="{featureset}",activity="Hello API"}} '
    start = body.find(line.encode())
    if start < 0:
        return 0
    start += len(line)
    return int(float(body[start : body.index(b"\n", start)]))


def test_operation_runs_and_their_failures_are_feature_set_metrics(hello) -> None:
    """The HTTP server times an operation's run with its own clock reads, and still counts
    every run, failed (a thrown error) or not, under the operation's feature set."""
    _, _, before = hello.request("GET", "/metrics")
    hello.request("GET", "/teapot")
    hello.request("GET", "/teapot")
    hello.request("GET", "/hello")
    _, _, after = hello.request("GET", "/metrics")
    for series, featureset, added in (
        ("executions", "brewTea", 2),
        ("failures", "brewTea", 2),
        ("success", "sayHello", 1),
    ):
        counted = featureset_counter(after, series, featureset)
        assert counted - featureset_counter(before, series, featureset) == added, series


def test_head_has_the_headers_of_get_without_a_body(hello) -> None:
    status, headers, body = hello.request("HEAD", "/hello")
    assert (status, body) == (200, b"")
    assert headers["Content-Length"] == str(len(b'{"message":"Hello, World!"}'))


def test_unknown_path_is_404_and_wrong_method_405(hello) -> None:
    status, _, body = hello.request("GET", "/nowhere")
    assert status == 404
    assert json.loads(body) == {"error": "Not Found", "path": "/nowhere"}
    status, headers, _ = hello.request("POST", "/hello", b"{}")
    assert status == 405
    assert set(headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD"}


def test_throw_answers_the_status_its_name_maps_to(hello) -> None:
    status, _, body = hello.request("GET", "/teapot")
    assert status == 501
    error = json.loads(body)["error"]
    assert error.startswith("Runtime Error: Cannot throw the NotImplemented: error for the teapot.")
    assert "Traceback" not in error


def test_keep_alive_with_pipelined_requests_answers_in_order(hello) -> None:
    requests = b"".join(
        f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        for path in ("/hello/one", "/hello", "/hello/three")
    )
    received = hello.raw(requests, expect_responses=3)
    assert received.count(b"HTTP/1.1 200") == 3
    assert received.index(b"Hello, one!") < received.index(b"Hello, World!")
    assert received.index(b"Hello, World!") < received.index(b"Hello, three!")


def test_oversized_header_block_is_431(hello) -> None:
    request = b"GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n"
    assert hello.raw(request).startswith(b"HTTP/1.1 431")


def test_oversized_body_is_413() -> None:
    with serve(BOOKS, "--max-body", "64") as served:
        request = (
            b"POST /books HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n" + b"x" * 1000
        )
        assert served.raw(request).startswith(b"HTTP/1.1 413")
        status, _ = served.json("GET", "/books")
        assert status == 200


def test_crud_over_a_repository() -> None:
    with serve(BOOKS) as served:
        book = {"id": "b1", "title": "Dune", "author": "Herbert"}
        assert served.json("POST", "/books", book) == (201, book)
        form = "id=b2&title=Solaris&author=Lem"
        status, _, body = served.request(
            "POST", "/books", form, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert (status, json.loads(body)["title"]) == (201, "Solaris")
        assert served.json("GET", "/books") == (
            200,
            {"data": [book, {"author": "Lem", "id": "b2", "title": "Solaris"}]},
        )
        assert served.json("GET", "/books/b1") == (200, book)
        status, error = served.json("GET", "/books/zz")
        assert status == 404 and "Cannot throw the NotFound: error" in error["error"]
        status, _, body = served.request("DELETE", "/books/b1")
        assert (status, body) == (204, b"")
        assert served.json("GET", "/books")[1] == {"data": [form_book()]}


def form_book() -> dict:
    return {"author": "Lem", "id": "b2", "title": "Solaris"}


def test_sigterm_runs_application_end() -> None:
    with serve(HELLO) as served:
        served.request("GET", "/hello")
        output = served.stop()
    assert served.process.returncode == 0
    assert "[Application-End] Hello API stopped" in output
    assert output.rstrip().endswith("[OK] startup")


def write_app(root: Path, contract: str, source: str) -> Path:
    (root / "openapi.yaml").write_text(contract)
    (root / "main.aro").write_text(source)
    return root


START = """(Application-Start: T) {
    Start the <http-server> with {}.
    Keepalive the <application> for the <events>.
}
"""


def run_briefly(app: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "aro", "run", str(app), "--port", "0"],
        capture_output=True, text=True, timeout=20,
    )  # fmt: skip


def test_missing_handler_stops_the_start(tmp_path: Path) -> None:
    contract = """openapi: 3.0.3
info: {title: T, version: "1"}
paths:
  /x:
    get:
      operationId: getX
      responses: {'200': {description: ok}}
"""
    result = run_briefly(write_app(tmp_path, contract, START))
    assert result.returncode == 1
    assert "Missing ARO feature set handlers for the following operations:" in result.stdout
    assert "  - GET /x requires feature set named 'getX'" in result.stdout


def test_missing_operation_id_stops_the_start(tmp_path: Path) -> None:
    contract = """openapi: 3.0.3
info: {title: T, version: "1"}
paths:
  /x:
    get:
      responses: {'200': {description: ok}}
"""
    result = run_briefly(write_app(tmp_path, contract, START))
    assert result.returncode == 1
    assert (
        "Missing operationId for GET /x. All operations must have an operationId." in result.stdout
    )


def test_upgrade_operation_without_handler_answers_501_and_failures_500(tmp_path: Path) -> None:
    contract = """openapi: 3.0.3
info: {title: T, version: "1"}
paths:
  /socket:
    get:
      operationId: openSocket
      responses: {'101': {description: upgrade}}
  /broken:
    get:
      operationId: broken
      responses: {'200': {description: ok}}
"""
    source = (
        START
        + """
(broken: T) {
    Extract the <missing> from the <request: nothing>.
    Return an <OK: status> with <missing>.
}
"""
    )
    with serve(write_app(tmp_path, contract, source)) as served:
        status, _, body = served.request("GET", "/socket")
        assert (status, json.loads(body)) == (
            501,
            {"error": "Not Implemented", "operationId": "openSocket"},
        )
        status, _, body = served.request("GET", "/broken")
        assert status == 500
        error = json.loads(body)["error"]
        assert error.startswith("Runtime Error: Cannot extract the missing from the request")
        assert "Traceback" not in error and "File " not in error
