"""The request side of HTTP: what a handler feature set sees (docs/semantics.md, HTTP).

Body parsing follows the reference except where it loses data or endangers the server, by choice:

* JSON ``true``/``false`` stay booleans and ``null`` is ``None`` (the reference makes null the
  string ``"<null>"`` and probably booleans 1/0);
* every form field is decoded alike, so ``a=1&a=`` is ``["1", ""]`` and ``=x`` is skipped (the
  reference lets ``a=`` overwrite the list and reads ``=x`` as a field ``x``);
* a repeated multipart field becomes a list as a repeated form field does (the reference keeps
  the last part), and a text part that is not UTF-8 stays bytes (the reference empties it);
* a body that cannot be decoded (not UTF-8, a malformed ``%`` escape in a form) and a body over
  one of the ``BodyLimits`` are refused with 400 or 413 before the handler runs
  (docs/decisions.md, decision 18).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_to_bytes

from aro.net.openapi import (
    cookie_parameters,
    header_parameters,
    parse_query,
    raw_query_parameters,
)
from aro.vm import values

if TYPE_CHECKING:
    from aro.config import Config
    from aro.lang.bytecode import CodeObject
    from aro.net.http import Request
    from aro.net.openapi import Operation

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
_INT64 = 2**63
_JSON_STARTS = (b"{", b"[")
# A JSON number with a fraction or exponent needs a digit right before ``.``/``e``/``E``;
# without one, no float can be in the document and the integral-number walk is skipped.
_FLOAT_HINT = re.compile(rb"[0-9][.eE]")
_DISPOSITION_NAME = re.compile(r'(?:^|;)\s*name\s*=\s*(?:"([^"]*)"|([^;\s]*))', re.IGNORECASE)
_MALFORMED_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


@dataclass(frozen=True, slots=True)
class BodyLimits:
    """What a parsed request body may hold: ``fields`` (form fields, multipart parts, or JSON
    object keys in all), ``depth`` (nesting of JSON arrays and objects) and ``string`` (the
    length of any name or value, in characters)."""

    fields: int
    depth: int
    string: int

    @classmethod
    def from_config(cls, config: Config) -> BodyLimits:
        return cls(config.max_body_fields, config.max_body_depth, config.max_body_string)


class BodyError(ValueError):
    """A request body refused before its handler runs: the HTTP status and the client's reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _too_many_fields(limits: BodyLimits) -> BodyError:
    return BodyError(400, f"request body has more than {limits.fields} fields (--max-body-fields)")


def _too_deep(limits: BodyLimits) -> BodyError:
    return BodyError(400, f"JSON body nested more than {limits.depth} deep (--max-body-depth)")


def _check_length(text: str, limits: BodyLimits) -> None:
    if len(text) > limits.string:
        reason = f"request body has a string over {limits.string} characters (--max-body-string)"
        raise BodyError(413, reason)


#: Every name ``request_bindings`` may bind.
REQUEST_NAMES = (
    "request",
    "body",
    "pathParameters",
    "queryParameters",
    "headerParameters",
    "cookieParameters",
)


def slots_for_request(code: CodeObject) -> tuple[tuple[int, str], ...]:
    """The ``(slot, name)`` of each request binding the handler ``code`` has a slot for
    (what ``Frame.adopt_names`` binds), decided once per handler."""
    return tuple((code.slot_index[name], name) for name in REQUEST_NAMES if name in code.slot_index)


def request_bindings(
    request: Request,
    operation: Operation | None,
    path_params: dict[str, str],
    limits: BodyLimits,
) -> dict[str, Any]:
    """The variables a handler starts with: ``request``, ``body`` (only for a dict body),
    ``pathParameters``, ``queryParameters``, ``headerParameters`` and ``cookieParameters``.

    Header, query and cookie parameters are read by the operation's declarations.  Raises
    ``BodyError`` for a body that cannot be decoded or is over one of ``limits``.
    """
    # Headers are looked up by their usual spelling, which matches at once in practice (the
    # lookup falls back to any case), and Cookie only when the operation reads cookies.
    content = request.body
    body = parse_body(content, request.header("Content-Type"), limits) if content else ""
    # Each parameter family is read only when there is something to read: no calls for
    # the usual request without a query string to an operation declaring no headers.
    query = request.query_string
    raw_query, parsed_query = (
        (raw_query_parameters(query), parse_query(query, operation)) if query else ({}, {})
    )
    headers: dict[str, str] = {}
    cookies: dict[str, str] = {}
    if operation is not None:
        if operation.header_names:
            headers = header_parameters(request.headers, operation)
        if operation.cookie_names:
            cookies = cookie_parameters(request.header("Cookie"), operation)
    bindings: dict[str, Any] = {
        "request": {
            "method": request.method,
            "path": request.path,
            "headers": request.headers,
            "body": body,
            "queryParameters": raw_query,
        },
        "pathParameters": path_params,
        "queryParameters": parsed_query,
        "headerParameters": headers,
        "cookieParameters": cookies,
    }
    if type(body) is dict:
        bindings["body"] = body
    return bindings


def parse_body(body: bytes, content_type: str | None, limits: BodyLimits) -> Any:
    """A request body by its Content-Type (parameters and case ignored).

    Form-urlencoded and multipart (with a boundary) give a dict; anything else is tried as
    JSON, where only an object gives a dict.  Otherwise the body is its UTF-8 text (``""``
    when empty).  ``BodyError`` when the body is not UTF-8 or over one of ``limits``.
    """
    if not body:
        return ""
    if content_type == JSON:  # the usual spelling: nothing to split off or fold
        return _json_object(body, limits)
    media = (content_type or "").partition(";")[0].strip().lower()
    if media == FORM:
        return parse_form(body, limits)
    if media == MULTIPART:
        boundary = _boundary(content_type or "")
        return _text(body) if boundary is None else parse_multipart(body, boundary, limits)
    return _json_object(body, limits)


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BodyError(400, f"request body is not valid UTF-8 (at byte {error.start})") from None


# ---------------------------------------------------------------------------------------------
# JSON


def _json_object(body: bytes, limits: BodyLimits) -> Any:
    """A JSON object as a dict with integral numbers as ints; any other body as its text.

    A JSON array stays text too, but is held to the limits like an object: a handler may
    parse it back.
    """
    if body[:1] not in _JSON_STARTS and body.lstrip()[:1] not in _JSON_STARTS:
        return _text(body)
    try:
        parsed = values.from_json(body, limits.depth)
    except values.JsonTooDeep:
        raise _too_deep(limits) from None
    except ValueError:
        return _text(body)
    _check_json(parsed, body, limits)
    if type(parsed) is not dict:
        return _text(body)
    return _integral(parsed) if _FLOAT_HINT.search(body) else parsed


def _check_json(parsed: dict | list, body: bytes, limits: BodyLimits) -> None:
    """Count the object keys and measure the strings of a parsed body, without recursion.

    Skipped when the text itself bounds both: each key needs a ``:``, and no string is longer
    than the text it was written in.
    """
    if body.count(b":") <= limits.fields and len(body) <= limits.string:
        return
    keys = 0
    pending = [parsed]
    while pending:
        container = pending.pop()
        if type(container) is dict:
            keys += len(container)
            if keys > limits.fields:
                raise _too_many_fields(limits)
            for key in container:
                _check_length(key, limits)
            container = container.values()
        for item in container:
            kind = type(item)
            if kind is str:
                _check_length(item, limits)
            elif kind is dict or kind is list:
                pending.append(item)


def _integral(value: Any) -> Any:
    """``10.0`` → ``10`` at any depth, as Foundation's number bridging does (within Int64)."""
    kind = type(value)
    if kind is float:
        return int(value) if value.is_integer() and -_INT64 <= value < _INT64 else value
    if kind is dict:
        return {key: _integral(item) for key, item in value.items()}
    if kind is list:
        return [_integral(item) for item in value]
    return value


# ---------------------------------------------------------------------------------------------
# application/x-www-form-urlencoded


def _add_field(fields: dict[str, Any], name: str, value: Any) -> None:
    """A repeated field name collects its values into a list, in order."""
    existing = fields.get(name)
    if existing is None:
        fields[name] = value
    elif type(existing) is list:
        existing.append(value)
    else:
        fields[name] = [existing, value]


def _form_decode(text: str) -> str:
    """A form name or value: ``+`` is a space, then ``%XX`` escapes are UTF-8 bytes.  A
    malformed escape or escaped bytes that are not UTF-8 refuse the body."""
    if "+" in text:
        text = text.replace("+", " ")
    if "%" not in text:
        return text
    if _MALFORMED_ESCAPE.search(text) is None:
        try:
            return unquote_to_bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            pass
    raise BodyError(400, f"form field {text[:40]!r} is not valid percent-encoded UTF-8")


def parse_form(body: bytes, limits: BodyLimits) -> dict[str, Any]:
    """``a=1&b=x+y&a=2&flag`` → ``{"a": ["1", "2"], "b": "x y", "flag": ""}``.

    Empty pairs and empty names are skipped.  The ``&`` are counted before anything is split,
    so a body with more pairs than ``limits.fields`` costs one scan.
    """
    if body.count(b"&") >= limits.fields:
        raise _too_many_fields(limits)
    check_lengths = len(body) > limits.string
    fields: dict[str, Any] = {}
    for pair in _text(body).split("&"):
        name, _, value = pair.partition("=")
        name = _form_decode(name)
        if name:
            value = _form_decode(value)
            if check_lengths:
                _check_length(name, limits)
                _check_length(value, limits)
            _add_field(fields, name, value)
    return fields


# ---------------------------------------------------------------------------------------------
# multipart/form-data


def _boundary(content_type: str) -> str | None:
    for parameter in content_type.split(";")[1:]:
        parameter = parameter.strip()
        if parameter[:9].lower() == "boundary=":
            return parameter[9:].strip('"') or None
    return None


def _part_headers(block: bytes) -> dict[str, str] | None:
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError:
        return None
    headers: dict[str, str] = {}
    for line in text.split("\r\n"):
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return headers


def _field_name(headers: dict[str, str]) -> str | None:
    match = _DISPOSITION_NAME.search(headers.get("content-disposition", ""))
    if match is None:
        return None
    return match.group(1) if match.group(1) is not None else match.group(2)


def _part(part: bytes) -> tuple[str, str | bytes] | None:
    """One part between delimiters as ``(field name, value)``; None when it has no name.

    Text parts (no Content-Type, or ``text/…``) are strings; other parts, and text that is
    not UTF-8, stay bytes.
    """
    if part.startswith(b"\r\n"):
        part = part[2:]
    block, separator, content = part.partition(b"\r\n\r\n")
    headers = _part_headers(block) if separator else None
    name = None if headers is None else _field_name(headers)
    if not name:
        return None
    if content.endswith(b"\r\n"):
        content = content[:-2]
    content_type = headers.get("content-type")
    if content_type is None or content_type.lower().startswith("text/"):
        try:
            return name, content.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return name, content


def parse_multipart(body: bytes, boundary: str, limits: BodyLimits) -> dict[str, Any]:
    """The named parts of a ``multipart/form-data`` body; the preamble before the first
    delimiter and everything after the closing one are ignored.  The delimiters are counted
    before anything is split (the closing one starts no part); text parts are held to
    ``limits.string``, binary parts only to the body size."""
    delimiter = b"--" + boundary.encode()
    if body.count(delimiter) > limits.fields + 1:
        raise _too_many_fields(limits)
    fields: dict[str, Any] = {}
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        field = _part(part)
        if field is not None:
            name, value = field
            _check_length(name, limits)
            if type(value) is str:
                _check_length(value, limits)
            _add_field(fields, name, value)
    return fields
