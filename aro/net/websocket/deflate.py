"""permessage-deflate (RFC 7692): offer negotiation and the per-message codec.

The server always answers with ``server_no_context_takeover``: every message we send is then a
self-contained deflate stream, so a broadcast compresses once and one compressed frame serves
every connection that negotiated compression, and no connection needs its own compressor
(a zlib deflate state is about 256 KiB).  Messages from the client keep whatever context the
client chose (``client_no_context_takeover`` and ``client_max_window_bits`` are honoured); the
inflater that context needs is only created when the first compressed message arrives.
"""

from __future__ import annotations

import re
import sys
import zlib
from dataclasses import dataclass

__all__ = [
    "COMPRESS_MIN",
    "DeflateParams",
    "MessageTooBig",
    "PerMessageDeflate",
    "negotiate",
    "parse_offers",
]

#: Messages shorter than this are sent uncompressed (RSV1 clear) by default: deflate saves
#: them a few bytes at best, for several microseconds of CPU (the full flush that makes frames
#: shareable).
COMPRESS_MIN = 256
#: zlib level 1: on JSON and text within a few percent of the default level's ratio, at
#: several times its speed (measured on 100 KiB of chat JSON: 3.82 vs 3.78 KB, 5x faster).
LEVEL = 1

#: Every deflate stream flushed with Z_SYNC_FLUSH/Z_FULL_FLUSH ends with these four bytes,
#: which RFC 7692 §7.2.1 removes on the wire and §7.2.2 appends again before inflating.
_TAIL = b"\x00\x00\xff\xff"

_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_NAME = re.compile(rf"\s*({_TOKEN})\s*")
_PARAM = re.compile(rf';\s*({_TOKEN})\s*(?:=\s*(?:({_TOKEN})|"([^"\\]*)")\s*)?')
_BITS = re.compile(r"[89]|1[0-5]")
_FLAGS = ("server_no_context_takeover", "client_no_context_takeover")
_KNOWN = {*_FLAGS, "server_max_window_bits", "client_max_window_bits"}

Offer = tuple[str, list[tuple[str, str | None]]]


class MessageTooBig(Exception):
    """A compressed message inflates past the size limit (the connection closes with
    MESSAGE_TOO_BIG)."""


@dataclass(frozen=True, slots=True)
class DeflateParams:
    """Negotiated parameters as the response states them; a window of None means 15 bits and
    that the parameter is absent from the response."""

    server_no_context_takeover: bool = True
    client_no_context_takeover: bool = False
    server_max_window_bits: int | None = None
    client_max_window_bits: int | None = None

    def header(self) -> str:
        """The ``Sec-WebSocket-Extensions`` value of the response."""
        parts = ["permessage-deflate"]
        parts += [flag for flag in _FLAGS if getattr(self, flag)]
        if self.server_max_window_bits is not None:
            parts.append(f"server_max_window_bits={self.server_max_window_bits}")
        if self.client_max_window_bits is not None:
            parts.append(f"client_max_window_bits={self.client_max_window_bits}")
        return "; ".join(parts)


def parse_offers(header: str) -> list[Offer]:
    """Parse ``Sec-WebSocket-Extensions`` (RFC 6455 §9.1) into ``(name, [(param, value)])``.

    Names are lower-cased, a quoted value is unquoted, a parameter without value has None.
    Raises ValueError on a malformed header.
    """
    offers: list[Offer] = []
    pos, end = 0, len(header)
    while True:
        match = _NAME.match(header, pos)
        if match is None:
            raise ValueError(f"malformed extension offer at {pos}: {header!r}")
        params: list[tuple[str, str | None]] = []
        pos = match.end()
        while (param := _PARAM.match(header, pos)) is not None:
            value = param[2] if param[2] is not None else param[3]
            params.append((param[1].lower(), value))
            pos = param.end()
        offers.append((match[1].lower(), params))
        if pos == end:
            return offers
        if header[pos] != ",":
            raise ValueError(f"malformed extension offer at {pos}: {header!r}")
        pos += 1


def negotiate(offer_header: str | None, enabled: bool) -> tuple[str | None, DeflateParams | None]:
    """Accept the first acceptable permessage-deflate offer: ``(response header, params)``,
    or ``(None, None)`` to go on without compression (a malformed header included)."""
    if not enabled or not offer_header:
        return None, None
    try:
        offers = parse_offers(offer_header)
    except ValueError:
        return None, None
    for name, params in offers:
        if name == "permessage-deflate":
            accepted = _accept(params)
            if accepted is not None:
                return accepted.header(), accepted
    return None, None


def _accept(params: list[tuple[str, str | None]]) -> DeflateParams | None:
    """The answer to one offer, or None to decline it (unknown, repeated or bad parameter)."""
    seen = dict(params)
    if len(seen) != len(params) or not seen.keys() <= _KNOWN:
        return None
    if any(seen.get(flag) is not None for flag in _FLAGS):
        return None  # these two take no value
    server_bits = client_bits = None
    if "server_max_window_bits" in seen:
        server_bits = _window_bits(seen["server_max_window_bits"])
        if server_bits is None:
            return None  # the value is mandatory here
    value = seen.get("client_max_window_bits")
    if value is not None:
        client_bits = _window_bits(value)
        if client_bits is None:
            return None
    return DeflateParams(
        server_no_context_takeover=True,
        client_no_context_takeover="client_no_context_takeover" in seen,
        server_max_window_bits=server_bits,
        client_max_window_bits=client_bits,
    )


def _window_bits(value: str | None) -> int | None:
    """8 to 15 written without leading zeros (RFC 7692 §7.1.2), else None."""
    return int(value) if value is not None and _BITS.fullmatch(value) else None


_shared: dict[int, zlib._Compress] = {}


def _shared_compressor(bits: int) -> zlib._Compress:
    """One deflater per window size for the whole process: with no context takeover every
    message ends in a full flush, which forgets all history, so nothing leaks between them."""
    compressor = _shared.get(bits)
    if compressor is None:
        compressor = _shared[bits] = _compressor(bits)
    return compressor


def _compressor(bits: int) -> zlib._Compress:
    return zlib.compressobj(LEVEL, zlib.DEFLATED, -bits)


class PerMessageDeflate:
    """The codec of one connection.

    Messages we send are compressed from ``min_size`` bytes on (RFC 7692 lets any message go
    uncompressed).  A client that limited our window to 8 bits gets none compressed: zlib
    cannot produce raw deflate for a 256-byte window.
    """

    __slots__ = ("_deflater", "_inflater", "min_size", "params")

    def __init__(self, params: DeflateParams, min_size: int = COMPRESS_MIN) -> None:
        self.params = params
        self.min_size = min_size if self.window_bits > 8 else sys.maxsize
        self._deflater: zlib._Compress | None = None
        self._inflater: zlib._Decompress | None = None

    @property
    def window_bits(self) -> int:
        """Our compression window; connections with the same one can share compressed frames."""
        return self.params.server_max_window_bits or 15

    def compress(self, payload: bytes) -> bytes:
        """Raw deflate of one message without the 4-byte tail (RFC 7692 §7.2.1)."""
        if self.params.server_no_context_takeover:
            deflater = _shared_compressor(self.window_bits)
            data = deflater.compress(payload) + deflater.flush(zlib.Z_FULL_FLUSH)
        else:
            deflater = self._deflater
            if deflater is None:
                deflater = self._deflater = _compressor(self.window_bits)
            data = deflater.compress(payload) + deflater.flush(zlib.Z_SYNC_FLUSH)
        return data[:-4] if data.endswith(_TAIL) else data

    def decompress(self, payload: bytes, max_size: int) -> bytes:
        """Inflate one message; raises MessageTooBig past ``max_size`` bytes (without ever
        holding more than that) and zlib.error on corrupt data."""
        inflater = self._inflater
        if inflater is None:
            inflater = zlib.decompressobj(wbits=-(self.params.client_max_window_bits or 15))
        data = inflater.decompress(payload + _TAIL, max_size + 1)
        if len(data) > max_size:
            raise MessageTooBig(f"message inflates past {max_size} bytes")
        # Keep the window for the next message only when the client keeps its context and its
        # stream goes on (a final block ends it; the next message then starts afresh).
        keep = not self.params.client_no_context_takeover and not inflater.eof
        self._inflater = inflater if keep else None
        return data
