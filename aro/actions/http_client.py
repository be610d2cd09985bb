"""HTTP as a client: Request, Read and Write on ``<url: …>``, and Stream from a URL.

``Request the <r> from <url>`` answers ``{body, status, headers}`` whatever the status (a 503
is a reply to branch on, not a failure); ``body`` is the parsed JSON when the reply is JSON,
else its text.  Extract walks from such a result into its body (``<r: latitude>``), see
``aro.vm.values.paths``.  Only a request that gets no reply fails: refused, timed out, or a
URL that is not http(s).

The method is GET for ``from``, POST for ``to``, the object's specifier for ``via``
(``via the <api: PUT>``), and a ``with { method, headers, body, timeout }`` map overrides it.
A ``with`` value that is not such a map (a string, a list, a map with none of those keys) is
the body.
"""

from __future__ import annotations

from typing import Any

from aro.lang.bytecode import NounInfo
from aro.vm import values
from aro.vm.errors import ActionError
from aro.vm.frame import UNBOUND, Frame
from aro.vm.plan import Plan
from aro.vm.registry import action
from aro.vm.services import HttpReply

METHOD_OF_PREPOSITION = {"from": "GET", "to": "POST", "with": "GET"}
URL_OBJECT = "url"
RAW_QUALIFIERS = frozenset(("raw", "string"))
CONFIG_KEYS = frozenset(("method", "headers", "body", "timeout"))


@action("request", "http", prepositions=("from", "to", "via", "with"))
async def request(plan: Plan, frame: Frame) -> dict[str, Any]:
    plan.check_preposition()
    options = _with_value(plan, frame)
    config = options if type(options) is dict and CONFIG_KEYS.intersection(options) else {}
    method = str(config.get("method") or _method(plan)).upper()
    body = config.get("body") if config else options
    headers = _headers(config)
    payload = None if body is None else encode_body(body, headers)
    reply = await frame.services.http.request(
        method, _target_url(plan, frame), headers, payload, _timeout(config)
    )
    return {"body": parse_body(reply.body), "status": reply.status, "headers": reply.headers}


def _method(plan: Plan) -> str:
    if plan.prep == "via":
        return plan.obj.specifiers[0] if plan.obj is not None and plan.obj.specifiers else "GET"
    return METHOD_OF_PREPOSITION.get(plan.prep or "from", "GET")


def _target_url(plan: Plan, frame: Frame) -> str:
    """The URL: an expression, a variable (walked along its specifiers, except after ``via``
    where the specifier is the method), or the object's own name when no variable has it."""
    if plan.object_fn is not None:
        return _text(plan.object_fn(frame))
    obj = plan.obj
    if obj is None:
        raise ActionError("Request needs a URL")
    if obj.base == URL_OBJECT and obj.specifiers:
        return url_of(obj, frame)
    value = frame.load_or_unbound(obj.slot)
    if value is UNBOUND:
        return obj.base
    if obj.specifiers and plan.prep != "via":
        value = values.property_path(value, obj.specifiers)
    return _text(value)


def url_of(obj: NounInfo, frame: Frame) -> str:
    """``<url: "https://…">`` names its URL; ``<url: address>`` and ``<url>`` read the
    variable."""
    name = obj.specifiers[0] if obj.specifiers else obj.base
    if obj.is_string_spec:
        return name
    value = frame.find(name)
    return name if value is UNBOUND else _text(value)


def _text(value: Any) -> str:
    return value if type(value) is str else values.describe(value)


def _with_value(plan: Plan, frame: Frame) -> Any:
    return None if plan.with_fn is None else plan.with_fn(frame)


def _headers(config: dict[str, Any]) -> dict[str, str]:
    headers = config.get("headers")
    if type(headers) is not dict:
        return {}
    return {str(name): _text(value).strip() for name, value in headers.items()}


def _timeout(config: dict[str, Any]) -> float | None:
    timeout = values.as_number(config.get("timeout"))
    return float(timeout) if timeout is not None and timeout > 0 else None


def encode_body(body: Any, headers: dict[str, str]) -> bytes:
    """Text as UTF-8 (``text/plain``), bytes as they are, anything else as JSON; a
    ``Content-Type`` the program set is kept."""
    if type(body) is bytes:
        content_type, data = "application/octet-stream", body
    elif type(body) is str:
        content_type, data = "text/plain; charset=utf-8", body.encode()
    else:
        content_type, data = "application/json", values.to_json(body)
    if not any(name.lower() == "content-type" for name in headers):
        headers["Content-Type"] = content_type
    return data


def parse_body(data: bytes) -> Any:
    """A JSON object or array as its value, anything else as text."""
    text = data.decode("utf-8", "replace")
    if text.lstrip()[:1] in ("{", "["):
        try:
            return values.from_json(text)
        except ValueError:
            pass
    return text


# -- Read and Write on <url: …> ---------------------------------------------------------------


async def read_url(plan: Plan, frame: Frame) -> Any:
    """``Read the <x> from the <url: "…"> [with { headers, timeout }]`` (the file actions hand
    a ``<url: …>`` object here): GET, the body parsed
    as JSON when the reply says it is JSON (or the result asks ``<x: json>``), else its text;
    ``<x: raw>`` keeps the text."""
    config = _with_value(plan, frame)
    config = config if type(config) is dict else {}
    reply = await frame.services.http.request(
        "GET", url_of(plan.obj, frame), _headers(config), None, _timeout(config)
    )
    wanted = {specifier.lower() for specifier in plan.result.specifiers}
    text = reply.body.decode("utf-8", "replace")
    if wanted & RAW_QUALIFIERS:
        return text
    if "json" in wanted or _is_json(reply):
        try:
            return values.from_json(text)
        except ValueError:
            return text
    return text


def _is_json(reply: HttpReply) -> bool:
    content_type = next(
        (value for name, value in reply.headers.items() if name.lower() == "content-type"), ""
    )
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


async def write_url(plan: Plan, frame: Frame, value: Any) -> dict[str, Any]:
    """``Write the <x> to the <url: "…"> [with { headers, timeout }]``: POST the value
    (JSON for maps and lists, text for strings); ``{url, statusCode, success, body}``."""
    config = _with_value(plan, frame)
    config = config if type(config) is dict else {}
    headers = _headers(config)
    if type(config.get("content-type")) is str:
        headers["Content-Type"] = config["content-type"]
    url = url_of(plan.obj, frame)
    payload = encode_body(value, headers)
    reply = await frame.services.http.request("POST", url, headers, payload, _timeout(config))
    return {
        "url": url,
        "statusCode": reply.status,
        "success": 200 <= reply.status < 300,
        "body": reply.body.decode("utf-8", "replace"),
    }


# -- Stream from a URL -------------------------------------------------------------------------


def stream_url(plan: Plan, frame: Frame, url: str) -> str:
    """``Stream the <update> from <url> [with { headers, retry }]``: subscribe to the
    server-sent events at ``url`` and return at once; each message becomes an ``update``
    domain event (docs/semantics.md, Events).  The result is the URL."""
    config = _with_value(plan, frame)
    config = config if type(config) is dict else {}
    retry = values.as_number(config.get("retry"))
    frame.services.http.subscribe(
        url, plan.result.base, _headers(config), float(retry) if retry else None
    )
    return url
