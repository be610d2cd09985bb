"""Values as text: ``describe`` (Swift's ``String(describing:)``), the human Log format and
user-perceived characters (Swift counts grapheme clusters, not code points)."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from aro.vm.values.dates import iso
from aro.vm.values.model import Value

_QUOTE_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\0"}
_QUOTE_RE = re.compile(r'["\\\x00-\x1f\x7f]')


def _quote_char(match: re.Match[str]) -> str:
    char = match.group()
    return _QUOTE_ESCAPES.get(char) or f"\\u{{{ord(char):x}}}"


def _quote(text: str) -> str:
    """A string as Swift's debugDescription writes it inside a container."""
    return '"' + _QUOTE_RE.sub(_quote_char, text) + '"'


def _describe(value: Value, nested: bool, sort_keys: bool = False) -> str:
    kind = type(value)
    if kind is str:
        return _quote(value) if nested else value
    if kind is bool:
        return "true" if value else "false"
    if kind is int or kind is float:
        return repr(value)
    if value is None:
        return "null"
    if kind is list or kind is tuple:
        return "[" + ", ".join(_describe(item, True, sort_keys) for item in value) + "]"
    if kind is dict:
        if not value:
            return "[:]"
        keys = sorted(value) if sort_keys else value
        return (
            "["
            + ", ".join(f"{_quote(k)}: {_describe(value[k], True, sort_keys)}" for k in keys)
            + "]"
        )
    if kind is datetime:
        return iso(value)
    if kind is bytes:
        return f"{len(value)} bytes"
    return str(value)


def describe(value: Value) -> str:
    """Swift's ``String(describing:)``: ``80.0``, ``["a", "b"]``, ``["k": 1]``, ``null``, ISO dates.

    Used by ``${}`` interpolation, ``++`` and ``Transform … <s: string>``.
    """
    return value if type(value) is str else _describe(value, False)


def describe_sorted(value: Value) -> str:
    """``describe`` with map keys sorted, so that equal maps describe alike."""
    return _describe(value, False, True)


# ---------------------------------------------------------------------------------------------
# Human output (Log and the final response line): docs/semantics.md, Output


def _log_scalar(value: Value) -> str:
    kind = type(value)
    if kind is str:
        return value
    if kind is float:
        return f"{value:.2f}"
    return describe(value)


def _flatten(data: dict, prefix: str, out: list[tuple[str, str]]) -> None:
    for key, value in data.items():
        full = f"{prefix}.{key}" if prefix else key
        kind = type(value)
        if kind is dict:
            _flatten(value, full, out)
        elif kind is list:
            out.append((full, ", ".join(sorted(_log_scalar(item) for item in value))))
        else:
            out.append((full, _log_scalar(value)))


def _log_lines(data: dict) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    _flatten(data, "", pairs)
    pairs.sort(key=lambda pair: pair[0])
    return pairs


def format_log(value: Value) -> str:
    """A value as ``Log`` prints it in the human context (docs/semantics.md, Output).

    Doubles ``%.2f``; a dict is one ``key: value`` line per leaf (sorted keys, dotted nesting,
    lists sorted and ``, ``-joined); a list of scalars ``[a, b]``; a list holding a dict is its
    elements separated by a blank line.
    """
    kind = type(value)
    if kind is str:
        return value
    if kind is dict:
        return "\n".join(f"{key}: {text}" for key, text in _log_lines(value))
    if kind is list:
        if any(type(item) is dict for item in value):
            return "\n\n".join(format_log(item) for item in value)
        return "[" + ", ".join(format_log(item) for item in value) + "]"
    return _log_scalar(value)


def format_payload_lines(payload: dict) -> list[str]:
    """The ``  key: value`` lines printed under ``[Status] reason``."""
    return [f"  {key}: {text}" for key, text in _log_lines(payload)]


# ---------------------------------------------------------------------------------------------
# Characters (Swift counts grapheme clusters, not code points)


def _joins(previous: str, char: str, run: int) -> bool:
    """Whether ``char`` continues the grapheme cluster that ends with ``previous``."""
    if previous == "\r" and char == "\n":
        return True
    if unicodedata.category(previous) == "Cc" or unicodedata.category(char) == "Cc":
        return False
    if previous == "\u200d" or char == "\u200d":
        return True
    if "\U0001f1e6" <= char <= "\U0001f1ff":
        return "\U0001f1e6" <= previous <= "\U0001f1ff" and run == 1
    return (
        unicodedata.category(char) in ("Mn", "Me", "Mc")
        or "\ufe00" <= char <= "\ufe0f"
        or "\U0001f3fb" <= char <= "\U0001f3ff"
        or "\U000e0020" <= char <= "\U000e007f"
    )


def _one_code_point_each(text: str) -> bool:
    return text.isascii() and "\r\n" not in text


def characters(text: str) -> list[str]:
    """The text's user-perceived characters (an approximation of Swift's ``Character``)."""
    if _one_code_point_each(text):
        return list(text)
    clusters: list[str] = []
    for char in text:
        if clusters and _joins(clusters[-1][-1], char, len(clusters[-1])):
            clusters[-1] += char
        else:
            clusters.append(char)
    return clusters


def character_count(text: str) -> int:
    """How many user-perceived characters the text has."""
    return len(text) if _one_code_point_each(text) else len(characters(text))


def first_characters(text: str, count: int) -> str:
    """The text's first ``count`` user-perceived characters."""
    count = max(count, 0)
    return text[:count] if _one_code_point_each(text) else "".join(characters(text)[:count])
