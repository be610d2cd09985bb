"""Sans-I/O HTTP/1.1 core: bytes in, :class:`Request` values out; responses out as bytes.

Nothing here touches a socket or an event loop, so every edge case (partial reads, pipelining,
chunked bodies, limits) is unit-testable with plain bytes; ``aro.net.server`` is the thin
asyncio glue around it.  Parsing is httptools (llhttp, C); this module only turns its callbacks
into one :class:`Request` per message and enforces the limits of docs/decisions.md, decision 6
(body → 413, header block → 431) *while* reading, so nothing is buffered past a limit.

Framing is strict (docs/decisions.md, decision 24): llhttp runs with none of its leniencies,
and what it still lets through is refused here — an HTTP/1.1 request without exactly one Host,
a version other than 1.0/1.1, a transfer coding other than a lone ``chunked`` — because a
request two parsers could frame differently is how requests are smuggled past a proxy.
"""

from __future__ import annotations

import httptools

__all__ = [
    "CONTINUE",
    "MAX_BODY",
    "MAX_HEADERS",
    "MAX_HEADER_BYTES",
    "HttpError",
    "HttpParser",
    "Request",
    "encode_response",
    "reason_phrase",
]

MAX_BODY = 1 << 20
MAX_HEADER_BYTES = 16 * 1024
MAX_HEADERS = 100

#: The interim response a client announcing ``Expect: 100-continue`` waits for.
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class Request:
    """One parsed request; the glue sets ``remote_address``.

    ``headers`` keeps the client's spelling (the reference's lookups are case-sensitive);
    :meth:`header` is the case-insensitive lookup the runtime itself uses.
    """

    __slots__ = (
        "body",
        "headers",
        "keep_alive",
        "method",
        "path",
        "query_string",
        "remote_address",
        "target",
        "upgrade",
        "version",
    )

    def __init__(
        self,
        method: str,
        target: str,
        headers: dict[str, str],
        version: str = "1.1",
        body: bytes = b"",
        keep_alive: bool = True,
        upgrade: bool = False,
    ) -> None:
        self.method = method
        self.target = target
        path, _, self.query_string = target.partition("?")
        self.path = path if path.startswith("/") else _origin_path(path)
        self.headers = headers
        self.version = version
        self.body = body
        self.keep_alive = keep_alive
        self.upgrade = upgrade
        self.remote_address = ""

    def header(self, name: str, default: str | None = None) -> str | None:
        """Header value by case-insensitive name (the exact spelling is tried first)."""
        value = self.headers.get(name)
        if value is not None:
            return value
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return default

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.target} HTTP/{self.version}>"


def _origin_path(path: str) -> str:
    """Path of an absolute-form (``http://host/p``) or asterisk-form target, which servers
    must accept too (RFC 9112 §3.2)."""
    scheme, sep, rest = path.partition("://")
    if not sep or "/" in scheme:
        return path
    slash = rest.find("/")
    return rest[slash:] if slash >= 0 else "/"


class HttpError(Exception):
    """A request the server must refuse; its response ends the connection.

    Raised inside parser callbacks to stop llhttp at once, and returned by
    :meth:`HttpParser.feed` in request order.
    """

    __slots__ = ("message", "status")

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message)
        self.status = status
        self.message = message

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, HttpError):
            return NotImplemented
        return (self.status, self.message) == (other.status, other.message)

    def __hash__(self) -> int:
        return hash((self.status, self.message))


class HttpParser:
    """Incremental HTTP/1.1 request parser: :meth:`feed` any slice of the stream.

    ``partial`` is true while a request has begun but is not complete (the glue times that
    with its request timeout).  ``expect_continue`` is set when a request announcing
    ``Expect: 100-continue`` was accepted and its body is still to come: the glue writes
    :data:`CONTINUE` and clears the flag.  After an upgrade request (``Connection: upgrade``
    or CONNECT) parsing stops; the bytes that followed it are ``upgrade_tail``.
    """

    __slots__ = (
        "_body",
        "_body_size",
        "_codings",
        "_expect",
        "_head_bytes",
        "_head_spill",
        "_headers",
        "_hosts",
        "_length",
        "_max_body",
        "_max_head",
        "_max_headers",
        "_messages",
        "_out",
        "_parser",
        "_request",
        "_stopped",
        "_url",
        "expect_continue",
        "partial",
        "upgrade_tail",
    )

    def __init__(
        self,
        max_body: int = MAX_BODY,
        max_header_bytes: int = MAX_HEADER_BYTES,
        max_headers: int = MAX_HEADERS,
    ) -> None:
        self._max_body = max_body
        self._max_head = max_header_bytes
        self._max_headers = max_headers
        self._out: list[Request | HttpError] = []
        self._stopped = False
        self._messages = 0
        self._request: Request | None = None
        self.partial = False
        self.expect_continue = False
        self.upgrade_tail = b""
        self._reset()
        self._parser = httptools.HttpRequestParser(self)

    def _reset(self) -> None:
        self._url = b""
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._body_size = 0
        self._head_bytes = 0
        self._head_spill = 0
        self._length = -1
        self._expect = False
        self._hosts = 0
        self._codings: bytes | None = None

    def feed(self, data: bytes) -> list[Request | HttpError]:
        """Parse ``data``; answer the requests it completed, then at most one error.

        After an error, a request that does not keep the connection alive, or an upgrade,
        the connection's HTTP stream is over and later data is ignored.
        """
        if self._stopped:
            return []
        out = self._out = []
        in_head = self.partial and self._request is None
        messages = self._messages
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            self.upgrade_tail = data[exc.args[0] :]
            self._stopped = True
        except httptools.HttpParserError as exc:
            if not self._stopped:
                out.append(_refusal(exc))
                self._stopped = True
        else:
            if in_head and self._messages == messages and self._request is None:
                # The whole chunk extended one unfinished header block (slow or huge header).
                self._head_spill += len(data)
                if self._head_spill > self._max_head:
                    out.append(HttpError(431, "Request Header Fields Too Large"))
                    self._stopped = True
        return out

    # httptools callbacks ------------------------------------------------------------------

    def on_url(self, url: bytes) -> None:
        # The target's first piece starts a message (llhttp's own message-begin callback would
        # cost one more Python call per request; a stall inside the method is just idleness).
        if not self.partial:
            self._messages += 1
            self.partial = True
            self._request = None
            self._reset()
        self._url += url
        self._head_bytes += len(url)
        if self._head_bytes > self._max_head:
            raise HttpError(414, "URI Too Long")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_bytes += len(name) + len(value) + 4
        if self._head_bytes > self._max_head or len(self._headers) >= self._max_headers:
            raise HttpError(431, "Request Header Fields Too Large")
        # The few headers read here are told apart by length first, and Host (in every
        # request) by its usual spelling before lower(): that keeps this hot path cheap.
        size = len(name)
        if size == 4:
            if name == b"Host" or name.lower() == b"host":
                self._hosts += 1
        elif size == 14 and name.lower() == b"content-length":
            self._length = int(value)
        elif size == 17 and name.lower() == b"transfer-encoding":
            codings = self._codings
            self._codings = value if codings is None else codings + b"," + value
        elif size == 6 and name.lower() == b"expect":
            self._expect = value.lower() == b"100-continue"
        self._headers[name.decode("latin-1")] = value.decode("utf-8", "replace")

    def on_headers_complete(self) -> None:
        parser = self._parser
        version = parser.get_http_version()
        if version != "1.1" or self._hosts != 1 or self._codings is not None:
            self._check_framing(version)
        self._request = Request(
            parser.get_method().decode("ascii"),
            self._url.decode("utf-8", "replace"),
            self._headers,
            version,
            upgrade=parser.should_upgrade(),
        )
        if self._length > self._max_body:
            raise HttpError(413, "Payload Too Large")
        self.expect_continue = self._expect and version == "1.1"

    def _check_framing(self, version: str) -> None:
        """Refuse what llhttp accepts but RFC 9112 does not (off the common path)."""
        if version not in ("1.1", "1.0"):  # llhttp reads a missing version as 0.9
            raise HttpError(400, f"Bad Request: unsupported HTTP version {version}")
        if self._hosts > 1:
            raise HttpError(400, "Bad Request: more than one Host header")
        if version == "1.1" and not self._hosts:
            raise HttpError(400, "Bad Request: missing Host header")
        if self._codings is not None:
            _check_codings(version, self._codings)

    def on_body(self, chunk: bytes) -> None:
        size = self._body_size + len(chunk)
        if size > self._max_body:
            raise HttpError(413, "Payload Too Large")
        self._body_size = size
        self._body.append(chunk)

    def on_message_complete(self) -> None:
        request = self._request
        if self._body:
            request.body = b"".join(self._body)
        request.keep_alive = keep = self._parser.should_keep_alive()
        self._out.append(request)
        self.partial = self.expect_continue = False
        if not keep and not request.upgrade:
            self._stopped = True


def _check_codings(version: str, value: bytes) -> None:
    """Transfer-Encoding rules of RFC 9112 §6.1 and §6.3 (Content-Length beside it and a
    repeated ``chunked`` are llhttp's own refusals)."""
    if version == "1.0":
        raise HttpError(400, "Bad Request: Transfer-Encoding in an HTTP/1.0 request")
    codings = [c.strip().lower() for c in value.split(b",") if c.strip()]
    if not codings or codings[-1] != b"chunked":
        raise HttpError(400, "Bad Request: chunked is not the final transfer coding")
    if len(codings) > 1:  # a coding we cannot undo: the body would be taken still encoded
        unknown = b", ".join(codings[:-1])[:40].decode("latin-1")  # echo a bounded part
        raise HttpError(501, f"Not Implemented: transfer coding {unknown}")


def _refusal(exc: httptools.HttpParserError) -> HttpError:
    """The response status for a stream llhttp (or one of our limits) rejected."""
    cause = exc.__context__
    if isinstance(exc, httptools.HttpParserCallbackError):
        if isinstance(cause, HttpError):
            return cause
        raise exc from cause  # a bug in a callback, not a bad request
    if isinstance(exc, httptools.HttpParserInvalidMethodError):
        return HttpError(501, "Not Implemented: unknown method")
    return HttpError(400, f"Bad Request: {exc.args[0] if exc.args else 'malformed request'}")


# Responses ---------------------------------------------------------------------------------

_REASONS = {
    100: "Continue",
    101: "Switching Protocols",
    102: "Processing",
    103: "Early Hints",
    200: "OK",
    201: "Created",
    202: "Accepted",
    203: "Non-Authoritative Information",
    204: "No Content",
    205: "Reset Content",
    206: "Partial Content",
    207: "Multi-Status",
    208: "Already Reported",
    226: "IM Used",
    300: "Multiple Choices",
    301: "Moved Permanently",
    302: "Found",
    303: "See Other",
    304: "Not Modified",
    305: "Use Proxy",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    409: "Conflict",
    410: "Gone",
    411: "Length Required",
    412: "Precondition Failed",
    413: "Payload Too Large",
    414: "URI Too Long",
    415: "Unsupported Media Type",
    416: "Range Not Satisfiable",
    417: "Expectation Failed",
    418: "I'm a teapot",
    421: "Misdirected Request",
    422: "Unprocessable Entity",
    423: "Locked",
    424: "Failed Dependency",
    425: "Too Early",
    426: "Upgrade Required",
    428: "Precondition Required",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    451: "Unavailable For Legal Reasons",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    505: "HTTP Version Not Supported",
    506: "Variant Also Negotiates",
    507: "Insufficient Storage",
    508: "Loop Detected",
    510: "Not Extended",
    511: "Network Authentication Required",
}

# Status lines are built once; an unlisted code gets its line (empty reason) on first use.
_STATUS_LINES = {code: f"HTTP/1.1 {code} {text}\r\n".encode() for code, text in _REASONS.items()}

_KEEP = b"%s%sContent-Length: %d\r\n\r\n%s"
_CLOSE = b"%s%sContent-Length: %d\r\nConnection: close\r\n\r\n%s"
_KEEP_EMPTY = b"%s%s\r\n"
_CLOSE_EMPTY = b"%s%sConnection: close\r\n\r\n"


def reason_phrase(status: int) -> str:
    """The standard reason phrase (SwiftNIO's spelling), ``""`` for an unknown code."""
    return _REASONS.get(status, "")


def _status_line(status: int) -> bytes:
    if not 100 <= status <= 999:
        raise ValueError(f"invalid HTTP status {status}")
    line = _STATUS_LINES[status] = b"HTTP/1.1 %d \r\n" % status
    return line


def encode_response(
    status: int,
    headers: list[tuple[bytes, bytes]] | tuple[tuple[bytes, bytes], ...],
    body: bytes,
    keep_alive: bool,
    head: bool = False,
) -> bytes:
    """The whole response as one bytes object, ready for a single ``write``.

    ``headers`` are trusted bytes (the caller never puts CR/LF in them); Content-Length is
    added here.  HEAD keeps the length of the body it omits; 204 and 304 carry neither body
    nor length.
    """
    line = _STATUS_LINES.get(status) or _status_line(status)
    count = len(headers)
    if count == 1:
        block = b"%s: %s\r\n" % headers[0]
    elif count:
        block = b"".join([b"%s: %s\r\n" % header for header in headers])
    else:
        block = b""
    if status == 204 or status == 304 or status < 200:
        return (_KEEP_EMPTY if keep_alive else _CLOSE_EMPTY) % (line, block)
    return (_KEEP if keep_alive else _CLOSE) % (line, block, len(body), b"" if head else body)
