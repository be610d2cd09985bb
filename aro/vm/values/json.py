r"""JSON as Foundation's ``JSONSerialization`` writes it with ``.sortedKeys``, and JSON parsing.

Key order.  Foundation sorts keys with NSString.compare(options: [.numeric, .caseInsensitive,
.forcedOrdering], locale: NSLocale.system).  Because a locale is given, the first difference
is decided by ICU's root collation (CFStringCompareWithOptionsAndLocale hands over to
_CFCompareStringsWithLocale), with numeric collation on.  So the rule is the root collation:
  primary:   spaces < punctuation ``_-,;:!?.'"()[]{}@*/\&#%`^+<=>|~$`` < other symbols
             < digit runs (by numeric value) < letters (case-insensitive, accents folded)
  tie-break: lowercase before uppercase, then shorter digit runs, then code points.
E.g. ``user_id`` < ``userId``, ``item2`` < ``item10``, ``alpha`` < ``Zeta``, ``a`` < ``A``.
"""

from __future__ import annotations

import base64
import json
import re
import unicodedata
from datetime import datetime
from typing import Any

import orjson

from aro._speedups import JsonShaper
from aro._speedups._pure import PLAIN_DATE_OPTIONS
from aro.config import DEEPEST_JSON
from aro.vm.values.dates import iso
from aro.vm.values.model import Value
from aro.vm.values.text import describe

_PUNCTUATION_RANK = {
    char: rank for rank, char in enumerate("\t\n\x0b\x0c\r _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$")
}
_DIGIT_RUN = re.compile(r"[0-9]+|[^0-9]")


def collation_key(key: str) -> tuple:
    """The sort key of a JSON object key under the rule above."""
    primary: list[tuple[int, Any]] = []
    case: list[int] = []
    widths: list[int] = []
    for token in _DIGIT_RUN.findall(key):
        if "0" <= token[0] <= "9":
            primary.append((3, int(token)))
            widths.append(len(token))
            continue
        rank = _PUNCTUATION_RANK.get(token)
        if rank is not None:
            primary.append((1, rank))
            continue
        base = unicodedata.normalize("NFD", token)[0]
        if base.isalpha():
            primary.append((4, base.lower()))
            case.append(1 if base.isupper() else 0)
        elif unicodedata.category(token)[0] != "C":
            primary.append((2, ord(token)))
    return (primary, case, widths, key)


def foundation_order(keys: tuple[str, ...]) -> tuple[str, ...]:
    """Keys in the order Foundation writes them."""
    return tuple(sorted(keys, key=collation_key))


def json_leaf(value: Value) -> Value:
    """Dates as ISO strings, bytes as base64, anything else as its description."""
    if type(value) is datetime:
        return iso(value)
    if type(value) is bytes:
        return base64.b64encode(value).decode("ascii")
    return describe(value)


# The value itself when orjson's sorted keys give Foundation order, else a copy in that order
# with integral floats as ints and non-finite floats as null (compiled: it walks every row of
# a repository listing).  UTC dates stay dates either way: orjson writes them under
# PLAIN_DATE_OPTIONS as json_leaf would.
_jsonable = JsonShaper(foundation_order, json_leaf)
#: orjson's options for a value the shaper handed back as it is
PRESORTED = orjson.OPT_SORT_KEYS | PLAIN_DATE_OPTIONS


def to_json(value: Value) -> bytes:
    """The one JSON serializer for HTTP bodies and WebSocket broadcasts.

    Compact, keys sorted as Foundation sorts them (see the rule above), ``/`` written ``\\/``,
    integral floats as integers, dates as ISO strings, non-ASCII as raw UTF-8, non-finite
    floats as ``null``.
    """
    data = _jsonable(value)
    presorted = data is value  # code-point order is Foundation order here
    try:
        out = orjson.dumps(data, option=PRESORTED if presorted else PLAIN_DATE_OPTIONS)
    except orjson.JSONEncodeError:  # ints beyond 64 bits, lone surrogates
        text = json.dumps(
            data, ensure_ascii=False, separators=(",", ":"), sort_keys=presorted, default=json_leaf
        )
        out = text.encode("utf-8", "surrogatepass")
    return out.replace(b"/", b"\\/") if b"/" in out else out


class JustWritten:
    """The map a Broadcast just serialized (``value``, None for none) and its JSON (``data``).

    The statement right after the Broadcast may answer with ``data`` when its payload is
    ``value`` itself: a handler's ``Return`` of the map it broadcast.  Sound only where
    nothing can run between the two, so that nothing can change the map: the VM pairs a
    Return only with the Broadcast right before it in a code object without jumps
    (``Plan.previous``), and the Broadcast clears ``value`` as it starts, so what is there
    after it is its own.  Attributes, not functions: set and read on every such POST.
    """

    __slots__ = ("data", "value")

    def __init__(self) -> None:
        self.value: Value = None
        self.data = b""


JUST_WRITTEN = JustWritten()


#: Lists their owner promised not to change while they are held here (by id), each with the
#: bodies already written for it by payload key.  Bounded: past the limit all are forgotten,
#: which costs only their next serialization.
_held: dict[int, tuple[list, dict[str, bytes]]] = {}
_MOST_HELD = 64


def hold_unchanged(items: list) -> None:
    """Promise that ``items`` stays as it is until :func:`release` (a memory repository's
    listing between two writes): its JSON may be reused meanwhile."""
    if len(_held) >= _MOST_HELD:
        _held.clear()
    _held[id(items)] = (items, {})


def release(items: list) -> None:
    """``items`` may change from now on (its owner is about to write)."""
    _held.pop(id(items), None)


def keyed_to_json(key: str, value: Value) -> bytes:
    """``to_json({key: value})``, written once per key while ``value`` is a held list."""
    held = _held.get(id(value))
    if held is None:
        return to_json({key: value})
    bodies = held[1]
    body = bodies.get(key)
    if body is None:
        body = bodies[key] = to_json({key: value})
    return body


def pretty_json(value: Value) -> str:
    """JSON for people (files): as ``to_json``, indented by two spaces."""
    data = _jsonable(value)
    option = orjson.OPT_INDENT_2 | (PRESORTED if data is value else PLAIN_DATE_OPTIONS)
    try:
        return orjson.dumps(data, option=option).decode()
    except orjson.JSONEncodeError:  # ints beyond 64 bits, lone surrogates
        return json.dumps(
            data, ensure_ascii=False, indent=2, sort_keys=data is value, default=json_leaf
        )


class JsonTooDeep(ValueError):
    """JSON text whose arrays and objects nest deeper than the parse allows."""


def from_json(data: bytes | str, max_depth: int = DEEPEST_JSON) -> Value:
    """Parse JSON text: integer literals become ``int`` (``1.0`` stays a float, as in Foundation),
    ``null`` becomes None. Raises ``ValueError`` when the text is not JSON, and its subclass
    ``JsonTooDeep`` when arrays and objects nest more than ``max_depth`` deep (``[]`` is one
    deep): no parse gives a value the writer cannot write back (aro/config.py, DEEPEST_JSON)."""
    try:
        parsed = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        if error.msg.startswith("depth limit"):  # orjson's own, past 1024 levels
            raise JsonTooDeep(f"JSON nested more than {max_depth} deep") from None
        raise
    # (each level takes a bracket: a text no longer than the depth cannot nest deeper)
    if (
        len(data) > max_depth
        and _may_nest_deeper(data, max_depth)
        and nests_deeper(parsed, max_depth)
    ):
        raise JsonTooDeep(f"JSON nested more than {max_depth} deep")
    return parsed


def _may_nest_deeper(data: bytes | str, depth: int) -> bool:
    """False when the text has too few brackets to nest deeper than ``depth`` (two fast scans
    instead of a walk, for every ordinary document)."""
    if isinstance(data, str):
        return data.count("[") + data.count("{") > depth
    return data.count(b"[") + data.count(b"{") > depth


def nests_deeper(value: Value, depth: int) -> bool:
    """Whether lists and dicts nest more than ``depth`` deep in ``value`` (without recursion)."""
    if type(value) is not dict and type(value) is not list:
        return False
    pending = [(value, 1)]
    while pending:
        container, level = pending.pop()
        if level > depth:
            return True
        for child in container.values() if type(container) is dict else container:
            if type(child) is dict or type(child) is list:
                pending.append((child, level + 1))
    return False
