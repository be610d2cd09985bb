"""The opening handshake with parsed requests: every refusal, the accept key, extensions."""

from __future__ import annotations

import json

import pytest

from aro.net.http import HttpParser, Request
from aro.net.websocket.deflate import DeflateParams
from aro.net.websocket.handshake import accept_key, check_upgrade, response_bytes

KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 §1.3


def upgrade(method: str = "GET", version: str = "1.1", **overrides: str | None) -> Request:
    headers = {
        "Host": "example.org",
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": KEY,
        "Sec-WebSocket-Version": "13",
    }
    for name, value in overrides.items():
        name = name.replace("_", "-")
        if value is None:
            headers.pop(name, None)
        else:
            headers[name] = value
    return Request(method, "/ws?room=1", headers, version, upgrade=True)


def test_accept_key_of_the_rfc_example() -> None:
    assert accept_key(KEY) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_valid_request_switches_protocols() -> None:
    result = check_upgrade(upgrade())
    assert (result.ok, result.status, result.reason, result.extensions) == (True, 101, "", None)
    assert response_bytes(result) == (
        b"HTTP/1.1 101 Switching Protocols\r\n"
        b"Upgrade: websocket\r\n"
        b"Connection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
    )


def test_header_names_and_tokens_are_case_insensitive() -> None:
    request = Request(
        "GET",
        "/ws",
        {
            "upgrade": "WebSocket",
            "connection": "keep-alive, UPGRADE",
            "sec-websocket-key": KEY,
            "sec-websocket-version": "13",
        },
    )
    assert check_upgrade(request).ok


def test_a_parsed_request_is_accepted() -> None:
    raw = (
        b"GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: " + KEY.encode() + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    (request,) = HttpParser().feed(raw)
    assert check_upgrade(request).status == 101


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (upgrade(method="POST"), "WebSocket upgrade requires GET"),
        (upgrade(version="1.0"), "WebSocket upgrade requires HTTP/1.1"),
        (upgrade(Upgrade=None), "Upgrade header must contain websocket"),
        (upgrade(Upgrade="h2c"), "Upgrade header must contain websocket"),
        (upgrade(Connection=None), "Connection header must contain upgrade"),
        (upgrade(Connection="keep-alive"), "Connection header must contain upgrade"),
        (upgrade(Sec_WebSocket_Key=None), "missing Sec-WebSocket-Key header"),
        (upgrade(Sec_WebSocket_Key="c2hvcnQ="), "Sec-WebSocket-Key must be 16 bytes in base64"),
        (upgrade(Sec_WebSocket_Key="!" * 24), "Sec-WebSocket-Key must be 16 bytes in base64"),
        (
            upgrade(Sec_WebSocket_Key="AAAAAAAAAAAAAAAAAAAAAAA="),  # 24 characters, 17 bytes
            "Sec-WebSocket-Key must be 16 bytes in base64",
        ),
    ],
)
def test_bad_requests_are_400_with_a_reason(request_: Request, reason: str) -> None:
    result = check_upgrade(request_)
    assert (result.ok, result.status, result.reason) == (False, 400, reason)
    data = response_bytes(result)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"Connection: close" in head
    assert b"Content-Type: application/json" in head
    assert json.loads(body) == {"error": reason}


@pytest.mark.parametrize("version", [None, "8", "12", "14", "13, 8"])
def test_other_versions_are_426_naming_ours(version: str | None) -> None:
    result = check_upgrade(upgrade(Sec_WebSocket_Version=version))
    assert (result.ok, result.status) == (False, 426)
    assert result.reason == "Sec-WebSocket-Version must be 13"
    head, _, body = response_bytes(result).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 426 Upgrade Required\r\n")
    assert b"\r\nSec-WebSocket-Version: 13\r\n" in head + b"\r\n"
    assert b"\r\nUpgrade: websocket" in head
    assert json.loads(body) == {"error": "Sec-WebSocket-Version must be 13"}


def test_compression_is_negotiated_when_offered_and_enabled() -> None:
    offer = "permessage-deflate; client_max_window_bits"
    result = check_upgrade(upgrade(Sec_WebSocket_Extensions=offer))
    assert result.extensions == DeflateParams()
    assert (
        b"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n"
        in response_bytes(result)
    )


def test_compression_off_or_not_offered_means_no_extension_header() -> None:
    offered = upgrade(Sec_WebSocket_Extensions="permessage-deflate")
    for result in (check_upgrade(offered, compression=False), check_upgrade(upgrade())):
        assert result.ok and result.extensions is None
        assert b"Extensions" not in response_bytes(result)


def test_unknown_extensions_are_ignored() -> None:
    result = check_upgrade(upgrade(Sec_WebSocket_Extensions="x-webkit-deflate-frame, foo; a=1"))
    assert result.ok and result.extensions is None


# -- Origin (docs/decisions.md, decision 19) --------------------------------------------------


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        (None, "example.org"),  # not a browser: curl, a bot, the Python client
        ("http://localhost:8080", "localhost:8080"),  # local development
        ("http://LOCALHOST:8080", "localhost:8080"),
        ("https://chat.example.com", "chat.example.com"),  # behind a TLS proxy forwarding Host
        ("https://chat.example.com", "chat.example.com:443"),
        ("http://chat.example.com", "chat.example.com"),
        ("http://[::1]:8080", "[::1]:8080"),
    ],
)
def test_no_origin_or_the_servers_own_origin_is_accepted(origin: str | None, host: str) -> None:
    assert check_upgrade(upgrade(Origin=origin, Host=host)).ok


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        ("https://evil.example", "localhost:8080"),
        ("http://localhost:8081", "localhost:8080"),  # another port is another origin
        ("https://chat.example.com", "chat.example.com:8443"),
        ("http://localhost.evil.example:8080", "localhost:8080"),
        ("null", "localhost:8080"),  # a sandboxed frame or a file:// page
        ("http://localhost:8080", None),
        ("http://localhost:8080", "localhost:port"),
        ("garbage", "localhost:8080"),
    ],
)
def test_a_page_from_another_origin_is_403_with_a_reason(origin: str, host: str | None) -> None:
    result = check_upgrade(upgrade(Origin=origin, Host=host))
    assert (result.ok, result.status) == (False, 403)
    wire = response_bytes(result)
    assert wire.startswith(b"HTTP/1.1 403 Forbidden\r\n")
    assert json.loads(wire.split(b"\r\n\r\n", 1)[1]) == {
        "error": f"Origin {origin} may not open a WebSocket on this server"
    }


def test_listed_origins_and_the_wildcard_let_other_pages_in() -> None:
    listed = ("https://app.example.com", "http://localhost:3000")
    assert check_upgrade(upgrade(Origin="http://localhost:3000"), allowed_origins=listed).ok
    assert check_upgrade(upgrade(Origin="https://APP.example.com"), allowed_origins=listed).ok
    assert not check_upgrade(upgrade(Origin="https://evil.example"), allowed_origins=listed).ok
    assert check_upgrade(upgrade(Origin="https://evil.example"), allowed_origins=("*",)).ok


def test_a_malformed_upgrade_is_400_before_its_origin_is_judged() -> None:
    result = check_upgrade(upgrade(Origin="https://evil.example", Sec_WebSocket_Key=None))
    assert result.status == 400
