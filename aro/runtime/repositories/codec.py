"""Rows and keys as bytes, for backends that keep them outside this process.

A row is the JSON (orjson) of its ARO value, with the two types JSON lacks tagged so they come
back as they went in: a Date (``datetime``, UTC, microseconds kept) as ``{"\\u0000date": ISO}``
and Data (``bytes``) as ``{"\\u0000data": base64}``.  A map whose only key starts with a NUL
character cannot be told apart from a tag; no value a program builds from text has one.  A row
with an int beyond 64 bits is written by the standard library's JSON after one space (orjson
would read such an int back as a float).  JSON has no NaN or infinity: those come back as null,
as they are written in responses.

A key (``base.row_key``, ``base.canonical``) becomes text that equals another key's text only
when the keys are equal, the same in every process (no hash order): typed tags kept, the fields
of a map sorted.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Hashable
from datetime import datetime
from typing import Any

import orjson

_DATE_TAG = "\x00date"
_DATA_TAG = "\x00data"
_TAG_MARK = b"\\u0000"  # how orjson writes NUL: absent from the bytes, no tag to revive
_WIDE_INT_MARK = b" "  # leads a row written by the standard library (valid JSON whitespace)


def _tagged(value: Any) -> Any:
    if type(value) is datetime:
        return {_DATE_TAG: value.isoformat()}
    if type(value) is bytes:
        return {_DATA_TAG: base64.b64encode(value).decode("ascii")}
    raise TypeError(f"cannot store a {type(value).__name__}")


def encode_row(value: Any) -> bytes:
    """The stored form of ``value``."""
    try:
        return orjson.dumps(value, default=_tagged, option=orjson.OPT_PASSTHROUGH_DATETIME)
    except orjson.JSONEncodeError:  # an int beyond 64 bits
        text = json.dumps(value, default=_tagged, ensure_ascii=False, separators=(",", ":"))
        return _WIDE_INT_MARK + text.encode("utf-8", "surrogatepass")


def decode_row(data: bytes | str) -> Any:
    """The value ``encode_row`` stored."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    value = json.loads(data) if data[:1] == _WIDE_INT_MARK else orjson.loads(data)
    return _revived(value) if _TAG_MARK in data else value


def _revived(value: Any) -> Any:
    if type(value) is list:
        return [_revived(item) for item in value]
    if type(value) is not dict:
        return value
    if len(value) == 1:
        if _DATE_TAG in value:
            return datetime.fromisoformat(value[_DATE_TAG])
        if _DATA_TAG in value:
            return base64.b64decode(value[_DATA_TAG])
    return {key: _revived(item) for key, item in value.items()}


def key_text(key: Hashable) -> str:
    """Deterministic text of a canonical key (``base.canonical``, ``base.row_key``)."""
    return orjson.dumps(_plain(key)).decode()


def _plain(key: Any) -> Any:
    kind = type(key)
    if kind is tuple:
        return [_plain(item) for item in key]
    if kind is frozenset:
        return sorted((_plain(item) for item in key), key=orjson.dumps)
    if kind is datetime:
        return key.isoformat()
    if kind is int and not -(2**63) <= key < 2**64:
        return str(key)  # canonical tags it as an int: no clash with a string
    return key
