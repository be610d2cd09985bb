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
            del headers[name]
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
