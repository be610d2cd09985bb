"""The request side of HTTP: what a handler feature set sees (docs/semantics.md, HTTP).

Body parsing follows the reference except where it loses data, by choice:

* JSON ``true``/``false`` stay booleans and ``null`` is ``None`` (the reference makes null the
  string ``"<null>"`` and probably booleans 1/0);
* every form field is decoded alike, so ``a=1&a=`` is ``["1", ""]`` and ``=x`` is skipped (the
  reference lets ``a=`` overwrite the list and reads ``=x`` as a field ``x``);
* a repeated multipart field becomes a list as a repeated form field does (the reference keeps
  the last part), and a text part that is not UTF-8 stays bytes (the reference empties it).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from aro.net.openapi import (
    cookie_parameters,
    form_decode,
    header_parameters,
    parse_query,
    raw_query_parameters,
)
from aro.vm import values

if TYPE_CHECKING:
    from aro.net.http import Request
    from aro.net.openapi import Operation

FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
_INT64 = 2**63
# A JSON number with a fraction or exponent needs a digit right before ``.``/``e``/``E``;
# without one, no float can be in the document and the integral-number walk is skipped.
_FLOAT_HINT = re.compile(rb"[0-9][.eE]")
_DISPOSITION_NAME = re.compile(r'(?:^|;)\s*name\s*=\s*(?:"([^"]*)"|([^;\s]*))', re.IGNORECASE)


def request_bindings(
    request: Request, operation: Operation | None, path_params: dict[str, str]
) -> dict[str, Any]:
    """The variables a handler starts with: ``request``, ``body`` (only for a dict body),
    ``pathParameters``, ``queryParameters``, ``headerParameters`` and ``cookieParameters``.

    Header, query and cookie parameters are read by the operation's declarations.
    """
    body = parse_body(request.body, request.header("content-type"))
    query = request.query_string
    bindings: dict[str, Any] = {
        "request": {
            "method": request.method,
            "path": request.path,
            "headers": request.headers,
            "body": body,
            "queryParameters": raw_query_parameters(query),
        },
        "pathParameters": path_params,
        "queryParameters": parse_query(query, operation),
        "headerParameters": header_parameters(request.headers, operation),
        "cookieParameters": cookie_parameters(request.header("cookie"), operation),
    }
    if type(body) is dict:
        bindings["body"] = body
    return bindings


def parse_body(body: bytes, content_type: str | None) -> Any:
    """A request body by its Content-Type (parameters and case ignored).

    Form-urlencoded and multipart (with a boundary) give a dict; anything else is tried as
    JSON, where only an object gives a dict.  Otherwise the body is its UTF-8 text (``""`` when
    empty or not UTF-8).
    """
    if not body:
        return ""
    media = (content_type or "").partition(";")[0].strip().lower()
    if media == FORM:
        return parse_form(body)
    if media == MULTIPART:
        boundary = _boundary(content_type or "")
        return _text(body) if boundary is None else parse_multipart(body, boundary)
    return _json_object(body)


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return ""


# ---------------------------------------------------------------------------------------------
# JSON


def _json_object(body: bytes) -> Any:
    """A JSON object as a dict with integral numbers as ints; any other body as its text."""
    if body[:1] != b"{" and body.lstrip()[:1] != b"{":
        return _text(body)
    try:
        parsed = values.from_json(body)
    except ValueError:
        return _text(body)
    if type(parsed) is not dict:
        return _text(body)
    return _integral(parsed) if _FLOAT_HINT.search(body) else parsed


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


def parse_form(body: bytes) -> dict[str, Any]:
    """``a=1&b=x+y&a=2&flag`` → ``{"a": ["1", "2"], "b": "x y", "flag": ""}``.

    Empty pairs and empty names are skipped; a body that is not UTF-8 gives ``{}``.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return {}
    fields: dict[str, Any] = {}
    for pair in text.split("&"):
        name, _, value = pair.partition("=")
        name = form_decode(name)
        if name:
            _add_field(fields, name, form_decode(value))
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


def parse_multipart(body: bytes, boundary: str) -> dict[str, Any]:
    """The named parts of a ``multipart/form-data`` body; the preamble before the first
    delimiter and everything after the closing one are ignored."""
    fields: dict[str, Any] = {}
    for part in body.split(b"--" + boundary.encode())[1:]:
        if part.startswith(b"--"):
            break
        field = _part(part)
        if field is not None:
            _add_field(fields, *field)
    return fields
