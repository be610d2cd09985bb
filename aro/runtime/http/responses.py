"""The response side of HTTP: a feature set's ``Response`` (or its failure) as status, content
type and body bytes.

The rules are those of docs/semantics.md (HTTP) with decisions 3 to 6 of docs/decisions.md.
Every builder here returns ``(status, content_type, body)`` with the content type already as
bytes, so the server can write the header block without encoding anything per request.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable

from aro.net.server import RawResponse
from aro.vm import values
from aro.vm.errors import AroError, ThrownError
from aro.vm.frame import Response
from aro.vm.statuses import CODES, status_code
from aro.vm.values.json import keyed_to_json

Reply = tuple[int, bytes, bytes]

# ---------------------------------------------------------------------------------------------
# Content types

JSON = b"application/json"
HTML = b"text/html; charset=utf-8"
CSS = b"text/css; charset=utf-8"
JAVASCRIPT = b"text/javascript; charset=utf-8"
PROMETHEUS = b"text/plain; version=0.0.4; charset=utf-8"

# A request path ending in one of these serves a one-string payload raw (the reference's rule).
_PATH_TYPES: dict[str, bytes] = {
    ".css": CSS,
    ".js": JAVASCRIPT,
    ".json": b"application/json; charset=utf-8",
    ".html": HTML,
    ".htm": HTML,
    ".xml": b"application/xml; charset=utf-8",
    ".txt": b"text/plain; charset=utf-8",
    ".svg": b"image/svg+xml",
    ".png": b"image/png",
    ".jpg": b"image/jpeg",
    ".jpeg": b"image/jpeg",
    ".gif": b"image/gif",
    ".webp": b"image/webp",
    ".ico": b"image/x-icon",
    ".woff": b"font/woff",
    ".woff2": b"font/woff2",
    ".ttf": b"font/ttf",
    ".eot": b"application/vnd.ms-fontobject",
}
_HTML_STARTS = ("<!DOCTYPE", "<!doctype", "<html", "<HTML")
_PROMETHEUS_STARTS = ("# HELP ", "# TYPE ")
_JS_STARTS = (
    "var ", "let ", "const ", "function ", "//", "'use strict'", '"use strict"', "(function",
    "import ", "export ",
)  # fmt: skip
# After a leading /* comment only these count as JavaScript (the reference's narrower list).
_JS_AFTER_COMMENT = ("var ", "let ", "const ", "function ", "(function")
# A selector (``:root``, ``@media``, ``*``, ``body``, ``.x``, ``#x``) followed later by ``{``.
_CSS = re.compile(r"(?::|@|\*|[a-zA-Z][a-zA-Z0-9-]*|\.[a-zA-Z]|#[a-zA-Z])[^{]*\{")


def _path_type(path: str) -> bytes | None:
    dot = path.rfind(".")
    return None if dot < 0 else _PATH_TYPES.get(path[dot:].lower())


def _after_comment(trimmed: str) -> str:
    """The text after a leading ``/* … */`` comment, trimmed (the text itself if none)."""
    if trimmed.startswith("/*"):
        end = trimmed.find("*/")
        if end >= 0:
            return trimmed[end + 2 :].strip()
    return trimmed


def _looks_like_css(content: str) -> bool:
    # The ``{`` test first: it rejects ordinary messages without running the regex.
    return "{" in content and _CSS.match(content) is not None


def _text_type(text: str) -> bytes | None:
    """HTML, CSS, Prometheus or JavaScript by the reference's prefix rules."""
    trimmed = text.strip()
    if trimmed.startswith(_HTML_STARTS):
        return HTML
    content = _after_comment(trimmed)
    if _looks_like_css(content):
        return CSS
    if trimmed.startswith(_PROMETHEUS_STARTS):
        return PROMETHEUS
    if trimmed.startswith(_JS_STARTS):
        return JAVASCRIPT
    if trimmed.startswith("/*") and content.startswith(_JS_AFTER_COMMENT):
        return JAVASCRIPT
    return None


def _utf8(text: str) -> bytes:
    """UTF-8 that, like ``values.to_json``, passes a lone surrogate through instead of failing."""
    return text.encode("utf-8", "surrogatepass")


def _raw_body(value: object, request_path: str) -> tuple[bytes, bytes] | None:
    """A one-entry payload served as is: ``(content_type, body)``, or None for JSON.

    Bytes (a file read as data) are served raw too when the path names their type; the
    reference only knows strings and would send them base64-encoded inside JSON.
    """
    kind = type(value)
    if kind is str:
        content_type = _path_type(request_path) or _text_type(value)
        return None if content_type is None else (content_type, _utf8(value))
    if kind is bytes:
        content_type = _path_type(request_path)
        return None if content_type is None else (content_type, value)
    return None


def _embedded(payload: dict) -> dict:
    """The payload with JSON-looking strings (``{…``/``[…`` that parse) as parsed JSON.

    Return stores lists and nested objects of a JSON string as text; the reference parses them
    back here, so they reach the client as real arrays and objects.  Copies only if needed.
    """
    out = None
    for key, value in payload.items():
        if type(value) is str and value.startswith(("{", "[")):
            try:
                parsed = values.from_json(value)
            except ValueError:
                continue
            if out is None:
                out = dict(payload)
            out[key] = parsed
    return payload if out is None else out


def encode_body(response: Response, request_path: str) -> Reply:
    """Status, content type and body for a feature set's Response (docs/semantics.md, HTTP).

    ``request_path`` is the raw path (no query) whose extension may choose the content type.
    204 has an empty body (its Content-Type stays JSON, as the reference's does); an empty
    payload becomes ``{"reason":…,"status":…}`` (reason left out when empty); everything that
    is not raw content is JSON by ``values.to_json``.
    """
    code = response.code or status_code(response.status)
    if code == 204:
        return 204, JSON, b""
    payload = response.payload
    if len(payload) == 1:
        ((key, value),) = payload.items()
        if type(value) is list:  # a listing: written once while its repository is unchanged
            return code, JSON, keyed_to_json(key, value)
        raw = _raw_body(value, request_path)
        if raw is not None:
            return code, raw[0], raw[1]
    elif not payload:
        status = {"status": response.status}
        if response.reason:
            status["reason"] = response.reason
        return code, JSON, values.to_json(status)
    embedded = _embedded(payload)
    if embedded is payload and response.json is not None:  # written already, by a Broadcast
        return code, JSON, response.json
    return code, JSON, values.to_json(embedded)


# ---------------------------------------------------------------------------------------------
# Error answers (docs/decisions.md, decisions 4 to 6).  Bodies are always valid JSON.


def _error_status(error: BaseException) -> int:
    """A thrown error answers the 4xx/5xx its name maps to; any other failure is a 500."""
    if isinstance(error, ThrownError):
        code = CODES.get(error.status_name.lower(), 500)
        return code if code >= 400 else 500
    return 500


def error_response(error: BaseException) -> Reply:
    """The answer to a failed handler: ``{"error": "<the ARO error text>"}``.

    The text is ``str(error)`` for ARO errors (the multi-line report of docs/semantics.md, Errors).
    Anything else is a defect of the runtime, whose details (and traceback) stay private.
    """
    if getattr(error, "http_status", None) == 404:  # a missing template
        return 404, JSON, values.to_json({"error": "Not Found", "message": str(error)})
    message = str(error) if isinstance(error, AroError) else "Internal Server Error"
    return _error_status(error), JSON, values.to_json({"error": message})


def refused(status: int, reason: str) -> Reply:
    """A request refused before its handler runs (a body that cannot be decoded or is over a
    limit): ``{"error": "<reason naming the limit>"}``."""
    return status, JSON, values.to_json({"error": reason})


def not_found(path: str) -> Reply:
    """No route for the path: 404 ``{"error":"Not Found","path":"<raw path>"}``."""
    return 404, JSON, values.to_json({"error": "Not Found", "path": path})


def method_not_allowed(allowed: Iterable[str]) -> Reply:
    """A known path with another method (decision 5): 405 listing the path's methods.

    ``allowed`` comes from the router, HEAD already next to GET; the caller sends the same
    names, comma-separated, as the ``Allow`` header.
    """
    body = values.to_json({"error": "Method Not Allowed", "allowed": list(allowed)})
    return 405, JSON, body


def not_implemented(operation_id: str) -> Reply:
    """A route without a feature set (a ``101`` operation): 501 naming its operationId."""
    return 501, JSON, values.to_json({"error": "Not Implemented", "operationId": operation_id})


def no_contract_response() -> RawResponse:
    """What every request gets from a server started without a contract (no routes):
    ``(200, headers, body)`` with Content-Type and a fresh ``X-Request-ID``.

    The body is written in the reference's key order, with its upper-case UUID form.
    """
    request_id = str(uuid.uuid4()).upper().encode("ascii")
    body = b'{"status":"ok","message":"Request received","requestId":"' + request_id + b'"}'
    return 200, [(b"Content-Type", JSON), (b"X-Request-ID", request_id)], body
