"""The opening handshake of RFC 6455 §4.2, sans-I/O: a parsed request in, a verdict and bytes out.

Every refusal carries a reason the client can read in a JSON body, because a failed upgrade
is otherwise hard to debug from a browser.  A wrong or missing ``Sec-WebSocket-Version``
answers 426 with the version we speak (§4.4); a browser page from an origin we do not accept
answers 403 (§4.2.2, docs/decisions.md, decision 19); every other defect answers 400.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import urlsplit

from aro.net.http import Request, encode_response
from aro.net.websocket.deflate import DeflateParams, negotiate

__all__ = [
    "ANY_ORIGIN",
    "GUID",
    "HandshakeResult",
    "accept_key",
    "check_upgrade",
    "origin_allowed",
    "response_bytes",
]

#: The fixed GUID of RFC 6455 §1.3 that the accept key hashes with the client's key.
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

_JSON = (b"Content-Type", b"application/json")
_VERSION = (b"Sec-WebSocket-Version", b"13")
_UPGRADE = (b"Upgrade", b"websocket")

#: In the allowed origins: a page from any origin may connect.
ANY_ORIGIN = "*"
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


@dataclass(frozen=True, slots=True)
class HandshakeResult:
    """The verdict on one upgrade request; ``headers`` are the response's own headers."""

    ok: bool
    status: int
    headers: list[tuple[bytes, bytes]]
    reason: str = ""
    extensions: DeflateParams | None = None


def accept_key(key: str) -> str:
    """``Sec-WebSocket-Accept`` for a client key: base64(SHA-1(key + GUID))."""
    digest = hashlib.sha1(key.encode("ascii") + GUID).digest()
    return base64.b64encode(digest).decode("ascii")


def check_upgrade(
    request: Request, compression: bool = True, allowed_origins: Collection[str] = ()
) -> HandshakeResult:
    """Validate a WebSocket upgrade request and build the 101 (or the refusal).

    ``compression`` lets permessage-deflate be negotiated when the client offers it;
    ``allowed_origins`` is what :func:`origin_allowed` accepts besides the server's own origin.
    """
    problem = _problem(request)
    if problem is not None:
        return problem
    origin = request.header("Origin")
    if not origin_allowed(origin, request.header("Host"), allowed_origins):
        return _refuse(403, f"Origin {origin} may not open a WebSocket on this server")
    key = request.header("Sec-WebSocket-Key", "").strip()
    headers = [
        _UPGRADE,
        (b"Connection", b"Upgrade"),
        (b"Sec-WebSocket-Accept", accept_key(key).encode("ascii")),
    ]
    answer, params = negotiate(request.header("Sec-WebSocket-Extensions"), compression)
    if answer is not None:
        headers.append((b"Sec-WebSocket-Extensions", answer.encode("ascii")))
    return HandshakeResult(True, 101, headers, extensions=params)


def _problem(request: Request) -> HandshakeResult | None:
    """The first thing wrong with the request, checked in the order RFC 6455 §4.2.1 lists."""
    if request.method != "GET":
        return _refuse(400, "WebSocket upgrade requires GET")
    if request.version == "1.0":
        return _refuse(400, "WebSocket upgrade requires HTTP/1.1")
    if "websocket" not in _tokens(request.header("Upgrade")):
        return _refuse(400, "Upgrade header must contain websocket")
    if "upgrade" not in _tokens(request.header("Connection")):
        return _refuse(400, "Connection header must contain upgrade")
    key = request.header("Sec-WebSocket-Key")
    if key is None:
        return _refuse(400, "missing Sec-WebSocket-Key header")
    if not _valid_key(key.strip()):
        return _refuse(400, "Sec-WebSocket-Key must be 16 bytes in base64")
    version = request.header("Sec-WebSocket-Version")
    if version is None or version.strip() != "13":
        return _refuse(426, "Sec-WebSocket-Version must be 13", [_UPGRADE, _VERSION])
    return None


def origin_allowed(origin: str | None, host: str | None, allowed: Collection[str]) -> bool:
    """Whether a page from ``origin`` may open a WebSocket (docs/decisions.md, decision 19).

    Accepted: no ``Origin`` (a client that is not a browser, which could forge it anyway);
    the server's own origin, whose host and port are the request's ``Host`` (a proxy that
    forwards ``Host`` keeps this true behind it, with TLS ended there or not); an origin in
    ``allowed`` (lower case, ``scheme://host[:port]`` as browsers write it); anything when
    ``allowed`` holds ``*``.
    """
    if origin is None or ANY_ORIGIN in allowed:
        return True
    origin = origin.strip().lower()
    return origin in allowed or _same_origin(origin, host)


def _same_origin(origin: str, host: str | None) -> bool:
    """``Host: chat.example:8080`` is the origin ``http(s)://chat.example:8080``; a Host
    without a port is the origin on its scheme's default port."""
    scheme, _, authority = origin.partition("://")
    if host is None or not authority:
        return False
    mine = _host_and_port(host.strip().lower(), scheme)
    return mine is not None and mine == _host_and_port(authority, scheme)


def _host_and_port(authority: str, scheme: str) -> tuple[str, int | None] | None:
    try:
        parts = urlsplit("//" + authority)
        port = parts.port
    except ValueError:  # a port that is not a number, an unclosed IPv6 bracket
        return None
    if not parts.hostname or parts.username is not None or parts.path:
        return None
    return parts.hostname, _DEFAULT_PORTS.get(scheme) if port is None else port


def _tokens(value: str | None) -> set[str]:
    """The comma-separated tokens of a header, lower-cased (``Connection: keep-alive, Upgrade``)."""
    if not value:
        return set()
    return {token.strip().lower() for token in value.split(",")}


def _valid_key(key: str) -> bool:
    if len(key) != 24:
        return False
    try:
        return len(base64.b64decode(key, validate=True)) == 16
    except (binascii.Error, ValueError):
        return False


def _refuse(
    status: int, reason: str, extra: list[tuple[bytes, bytes]] | None = None
) -> HandshakeResult:
    return HandshakeResult(False, status, [_JSON, *(extra or ())], reason)


def response_bytes(result: HandshakeResult) -> bytes:
    """The whole HTTP response: the 101, or the refusal with ``{"error": reason}`` that ends
    the connection."""
    if result.ok:
        return encode_response(101, result.headers, b"", keep_alive=True)
    body = json.dumps({"error": result.reason}, separators=(",", ":")).encode()
    return encode_response(result.status, result.headers, body, keep_alive=False)
