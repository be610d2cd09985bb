"""Files and directories: Read, Write, Append, List, Stat, Exists, Make, Copy, Move, Stream.

Every action reaches the disk through ``frame.services.files``, which runs the I/O off the
event loop.  A path comes from the object expression (``from "./data.json"``) or from a noun
the reference's way (``resolve_path``): the first specifier's variable, the base's variable,
the base itself unless it is a generic word (``file``, ``directory`` …), then the specifier as
written.  Read and Write pick the format by the file's extension unless the result names one
(``<data: json>``) or asks for ``raw`` text (``aro.vm.values.formats``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aro.actions import http_client
from aro.lang.bytecode import NounInfo
from aro.vm import values
from aro.vm.errors import ActionError
from aro.vm.frame import UNBOUND, Frame
from aro.vm.plan import Plan
from aro.vm.registry import action
from aro.vm.values import formats

FILE_WORDS = frozenset(("file",))
ENTRY_WORDS = frozenset(("file", "directory"))
NETWORK_SCHEMES = ("http://", "https://", "ws://", "wss://")


def resolve_path(frame: Frame, noun: NounInfo, generic: frozenset[str]) -> str | None:
    """A path named by ``<base: specifier>``, in the reference's order; None when only
    generic words are there.  A quoted specifier (``<file: "./a.txt">``) is the path."""
    specifier = noun.specifiers[0] if noun.specifiers else None
    if specifier is not None:
        if noun.is_string_spec:
            return specifier
        value = frame.find(specifier)
        if isinstance(value, str):
            return value
    value = frame.find(noun.base)
    if isinstance(value, str):
        return value
    if noun.base not in generic:
        return noun.base
    return specifier


def object_path(plan: Plan, frame: Frame, generic: frozenset[str], field: str, verb: str) -> str:
    """The path the object names (an expression or a noun); ActionError when it names none."""
    if plan.object_fn is not None:
        value = plan.object_fn(frame)
        if isinstance(value, str):
            return value
    elif plan.obj is not None:
        path = resolve_path(frame, plan.obj, generic)
        if path is not None:
            return path
    raise ActionError(f"'{verb}' requires {field}")


def result_path(plan: Plan, frame: Frame, field: str, verb: str) -> str:
    """The source path of Copy and Move: the result noun names it (``<file: draft>``)."""
    path = resolve_path(frame, plan.result, ENTRY_WORDS)
    if path is None:
        raise ActionError(f"'{verb}' requires {field}")
    return path


def _names_url(plan: Plan) -> bool:
    return plan.obj is not None and plan.obj.base == "url"


def _format_options(plan: Plan, frame: Frame) -> Mapping[str, Any]:
    """CSV/TSV options from ``with { delimiter, header, quote }``."""
    options = plan.with_fn(frame) if plan.with_fn is not None else None
    return options if isinstance(options, dict) else {}


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else values.describe(value)


# -- Read, Write, Append -------------------------------------------------------------------


@action("read", prepositions=("from",))
async def read(plan: Plan, frame: Frame) -> Any:
    """The file parsed by its format; bytes when the file is not UTF-8 text."""
    plan.check_preposition()
    if _names_url(plan):
        return await http_client.read_url(plan, frame)
    path = object_path(plan, frame, FILE_WORDS, "a file path", "Read")
    qualifiers = plan.result.specifiers
    if formats.is_raw(qualifiers):
        return await frame.services.files.read(path, _unchanged)
    fmt = formats.from_qualifiers(qualifiers) or formats.detect(path)
    options = _format_options(plan, frame)

    def decode(content: str | bytes) -> Any:
        return content if isinstance(content, bytes) else formats.deserialize(content, fmt, options)

    return await frame.services.files.read(path, decode)


def _unchanged(content: str | bytes) -> str | bytes:
    return content


@action("write", prepositions=("to", "into"))
async def write(plan: Plan, frame: Frame) -> Any:
    """The result's value, serialized by the file's format (``raw``: its text as it is)."""
    plan.check_preposition()
    value = plan.sink_fn(frame) if plan.sink_fn is not None else plan.result_value(frame)
    if _names_url(plan):
        return await http_client.write_url(plan, frame, value)
    path = object_path(plan, frame, FILE_WORDS, "a file path", "Write")
    qualifiers = plan.result.specifiers
    fmt = formats.from_qualifiers(qualifiers) or formats.detect(path)
    options = _format_options(plan, frame)
    name = plan.result.base

    def encode() -> str | bytes:
        if formats.is_raw(qualifiers):
            return value if isinstance(value, bytes) else _as_text(value)
        return formats.serialize(value, fmt, name, options)

    await frame.services.files.write(path, encode)
    return UNBOUND


@action("append", prepositions=("to", "into"))
async def append(plan: Plan, frame: Frame) -> Any:
    """The ``with`` value, else the result's value, at the end of the file."""
    plan.check_preposition()
    path = object_path(plan, frame, FILE_WORDS, "a file path", "Append")
    content = plan.with_fn(frame) if plan.with_fn is not None else plan.result_value(frame)
    await frame.services.files.append(path, _as_text(content))
    return UNBOUND


# -- Directories and metadata --------------------------------------------------------------


@action("list", prepositions=("from",))
async def list_entries(plan: Plan, frame: Frame) -> Any:
    """``<entries: recursively>`` walks the tree; a specifier with ``*`` or ``?`` filters
    names (case-insensitive)."""
    plan.check_preposition()
    directory = object_path(plan, frame, frozenset(("directory",)), "a directory path", "List")
    specifiers = plan.result.specifiers
    pattern = next((s for s in specifiers if "*" in s or "?" in s), None)
    object_specifiers = plan.obj.specifiers if plan.obj is not None else ()
    recursive = "recursively" in specifiers or "recursively" in object_specifiers
    return await frame.services.files.list(directory, pattern, recursive)


@action("stat", prepositions=("for",))
async def stat(plan: Plan, frame: Frame) -> Any:
    plan.check_preposition()
    path = object_path(plan, frame, ENTRY_WORDS, "a file or directory path", "Stat")
    return await frame.services.files.stat(path)


@action("exists", prepositions=("for",))
async def exists(plan: Plan, frame: Frame) -> Any:
    """True when something is there, and it is a directory if the object says ``directory``,
    a file if it says ``file``."""
    plan.check_preposition()
    path = object_path(plan, frame, ENTRY_WORDS, "a file or directory path", "Exists")
    kind = await frame.services.files.kind(path)
    expected = plan.obj.base if plan.obj is not None else None
    return kind is not None and (expected not in ENTRY_WORDS or kind == expected)


@action("make", "touch", "createdirectory", "mkdir", prepositions=("to", "for", "at"))
async def make(plan: Plan, frame: Frame) -> Any:
    """A directory with its parents (there already is fine); ``Make the <file> …`` touches a
    file instead."""
    plan.check_preposition()
    path = object_path(plan, frame, frozenset(("path",)), "a path", "Make")
    is_file = plan.result.base == "file"
    if is_file:
        await frame.services.files.touch(path)
    else:
        await frame.services.files.make_directory(path)
    return {"path": path, "success": True, "isFile": is_file}


@action("copy", prepositions=("to",))
async def copy(plan: Plan, frame: Frame) -> Any:
    """``Copy the <file: source> to the <destination: target>``: a file or a whole tree."""
    plan.check_preposition()
    source = result_path(plan, frame, "a source path", "Copy")
    target = object_path(plan, frame, frozenset(("destination",)), "a destination path", "Copy")
    await frame.services.files.copy(source, target)
    return UNBOUND


@action("move", "rename", prepositions=("to",))
async def move(plan: Plan, frame: Frame) -> Any:
    plan.check_preposition()
    source = result_path(plan, frame, "a source path", "Move")
    target = object_path(plan, frame, frozenset(("destination",)), "a destination path", "Move")
    await frame.services.files.move(source, target)
    return UNBOUND


# -- Stream --------------------------------------------------------------------------------


@action("stream", "subscribe", prepositions=("from", "with"))
async def stream(plan: Plan, frame: Frame) -> Any:
    """A file's lines, read lazily as ``for each`` consumes them; a network URL streams its
    events (``stream_url``)."""
    plan.check_preposition()
    source = object_path(plan, frame, FILE_WORDS, "a file path or URL", "Stream")
    if source.startswith(NETWORK_SCHEMES):
        return await stream_url(plan, frame, source)
    return await frame.services.files.open_lines(source)


async def stream_url(plan: Plan, frame: Frame, url: str) -> Any:
    """Server-sent events from an http(s) URL; WebSocket streams are not in this runtime yet."""
    if url.startswith(("http://", "https://")):
        return http_client.stream_url(plan, frame, url)
    raise ActionError(f"Streaming from {url} is not available in this runtime yet")
