"""The OpenAPI contract: checked once at start-up, compiled into a router, read per request.

ARO is contract first (docs/semantics.md, HTTP): the app's ``openapi.yaml`` decides which
requests exist and which feature set (named by the ``operationId``) answers each one.  Everything
that can be decided from the contract alone is decided here, at load: ``$ref`` parameters and
their schemas are resolved, path-level and operation-level parameters merged, and the routes
compiled into lookup tables, so that a request costs a dict lookup or two and no regex.

Error texts are the reference runtime's, so that ``Error: ...`` at start-up reads the same.
Where the reference would fail with an obscure decoding error on a harmless spelling (a numeric
``version``, a response without ``description``), we accept the contract instead.

The deliberate differences from the reference (docs/decisions.md, decision 5): a known path
with another method is reported with its allowed methods so the server can answer 405, and HEAD
falls back to the GET operation.  Template paths are normalised like request paths, so a
template written with a trailing ``/`` is reachable (the reference never matches it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import unquote_to_bytes, urlsplit

import yaml

CONTRACT_FILES = ("openapi.yaml", "openapi.yml", "openapi.json")
# The order in which the reference lists the operations of one path item.
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE")
# The order of an ``Allow`` header: HEAD next to the GET it comes from.
ALLOW_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")
UPGRADE_STATUS = "101"

_PARSE_FAILED = "Failed to parse OpenAPI specification: "
_MAPPING = "Dictionary<String, Any>"
_ARRAY = "Array<Any>"
_DEFAULT_STYLE = {"query": "form", "cookie": "form", "path": "simple", "header": "simple"}
# A ``%`` not followed by two hex digits: Foundation refuses to decode such a text at all.
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ContractError(Exception):
    """The contract cannot serve this app; ``str()`` is the reference's message for it."""


@dataclass(frozen=True, slots=True)
class Parameter:
    """One declared parameter, ``$ref`` and schema ``$ref`` already resolved.

    ``style`` and ``explode`` carry the OpenAPI defaults for the location, so that readers never
    need to know them; ``is_array`` says whether a query value is split into a list.
    """

    name: str
    location: str
    schema: dict[str, Any]
    style: str
    explode: bool
    is_array: bool


@dataclass(frozen=True, slots=True, eq=False)
class Operation:
    """One routable operation.  ``operation_id`` is the name of the feature set that answers it
    (for a webhook without one, the webhook's name); ``upgrade`` marks a WebSocket endpoint, the
    only kind allowed to have no feature set.  Compared by identity, so it can key a dict."""

    method: str
    path: str
    operation_id: str
    parameters: tuple[Parameter, ...]
    responses: dict[str, Any]
    request_body: dict[str, Any] | None
    upgrade: bool
    # decided once, not per request: the header (lower case) and cookie parameters declared
    header_names: frozenset[str] = field(init=False)
    cookie_names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        headers = frozenset(p.name.lower() for p in self.parameters if p.location == "header")
        cookies = tuple(p.name for p in self.parameters if p.location == "cookie")
        object.__setattr__(self, "header_names", headers)
        object.__setattr__(self, "cookie_names", cookies)


class _Entry(NamedTuple):
    """An operation as written in the document, before anything is resolved."""

    method: str
    path: str
    spec: dict[str, Any]
    shared: list[Any]
    handler: str | None


# --------------------------------------------------------------------------- the contract


class Contract:
    """A loaded and checked contract: its operations, schemas, port and compiled router."""

    __slots__ = ("operations", "router", "schemas", "server_port", "title")

    def __init__(
        self,
        title: str,
        operations: tuple[Operation, ...],
        schemas: dict[str, Any],
        server_port: int | None,
    ) -> None:
        self.title = title
        self.operations = operations
        self.schemas = schemas
        self.server_port = server_port
        self.router = Router(operations)

    @classmethod
    def load(cls, root: Path) -> Contract | None:
        """The contract of the app in ``root``, or None when it has none (then the server answers
        every request with the reference's generic 200)."""
        for name in CONTRACT_FILES:
            path = root / name
            if path.is_file():
                return cls.from_document(_read(path))
        return None

    @classmethod
    def from_document(cls, document: Any) -> Contract:
        """Check a parsed document in the reference's order (shape, version, operationIds,
        ``$ref``s) and build the contract; raise ContractError at the first problem."""
        doc = _mapping(document, "")
        version = _text(doc, "openapi", "")
        info = _mapping(_required(doc, "info", ""), "info")
        title = _text(info, "title", "info")
        _text(info, "version", "info")
        _mapping(_required(doc, "paths", ""), "paths")
        entries = list(_entries(doc))
        components = _optional_mapping(doc, "components", "")
        schemas = _optional_mapping(components, "schemas", "components")
        _optional_mapping(components, "parameters", "components")
        if not version.startswith("3."):
            raise ContractError(f"Unsupported OpenAPI version: {version}")
        _check_operation_ids(entries)
        _check_references(entries, components)
        operations = tuple(_operation(entry, components) for entry in entries)
        return cls(title, operations, schemas, _server_port(doc.get("servers")))

    def check_handlers(self, names: AbstractSet[str]) -> None:
        """Refuse to start when an operation has no feature set of its name, listing all of
        them at once; WebSocket upgrade endpoints are exempt (the runtime answers them)."""
        missing = [op for op in self.operations if not op.upgrade and op.operation_id not in names]
        if missing:
            lines = "".join(
                f"  - {op.method} {op.path} requires feature set named '{op.operation_id}'\n"
                for op in missing
            )
            raise ContractError(
                "Missing ARO feature set handlers for the following operations:\n"
                f"{lines}\n"
                "Create feature sets with names matching the operationIds in your OpenAPI "
                "contract."
            )


def _read(path: Path) -> Any:
    """Parse the contract file: JSON by its extension, else YAML."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ContractError("OpenAPI file has invalid encoding (expected UTF-8)") from None
    if path.suffix == ".json":
        try:
            return json.loads(text)
        except ValueError:
            raise ContractError(
                f"{_PARSE_FAILED}Data corrupted at : The given data was not valid JSON."
            ) from None
    try:
        document = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise ContractError(f"{_PARSE_FAILED}{exc}") from None
    if document is None:
        raise ContractError("OpenAPI document is empty")
    return document


# --------------------------------------------------------------------------- document shape


def _where(parent: str, key: str) -> str:
    """A coding path as the reference prints it: keys joined by dots."""
    return f"{parent}.{key}" if parent else key


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ContractError(f"{_PARSE_FAILED}Type mismatch for {_MAPPING} at {where}")
    return value


def _required(mapping: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in mapping:
        raise ContractError(f"{_PARSE_FAILED}Missing key '{key}' at {where}")
    return mapping[key]


def _text(mapping: Mapping[str, Any], key: str, where: str) -> str:
    """A required scalar as text; numbers are accepted (``version: 1.0``) where the reference
    would reject them."""
    value = _required(mapping, key, where)
    if value is None:
        raise ContractError(f"{_PARSE_FAILED}Missing value of type String at {_where(where, key)}")
    if isinstance(value, dict | list):
        raise ContractError(f"{_PARSE_FAILED}Type mismatch for String at {_where(where, key)}")
    return str(value)


def _optional_mapping(mapping: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    value = mapping.get(key)
    return {} if value is None else _mapping(value, _where(where, key))


def _list(mapping: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = mapping.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ContractError(f"{_PARSE_FAILED}Type mismatch for {_ARRAY} at {_where(where, key)}")
    return value


def _entries(doc: dict[str, Any]) -> Iterator[_Entry]:
    """Every operation of ``paths`` and then of ``webhooks``, in document order and, within a
    path item, in the reference's method order.  A webhook is routed at ``/<name>``."""
    for path, item in doc["paths"].items():
        yield from _item_entries(str(path), item, f"paths.{path}", None)
    for name, item in _optional_mapping(doc, "webhooks", "").items():
        key = name if str(name).startswith("/") else f"/{name}"
        yield from _item_entries(key, item, f"webhooks.{name}", str(name))


def _item_entries(path: str, item: Any, where: str, webhook: str | None) -> Iterator[_Entry]:
    item = _mapping(item, where)
    shared = _list(item, "parameters", where)
    for method in METHODS:
        spec = item.get(method.lower())
        if spec is None:
            continue
        spec_where = _where(where, method.lower())
        spec = _mapping(spec, spec_where)
        _list(spec, "parameters", spec_where)
        _mapping(_required(spec, "responses", spec_where), _where(spec_where, "responses"))
        operation_id = spec.get("operationId")
        handler = webhook if operation_id is None else str(operation_id)
        yield _Entry(method, path, spec, shared, handler)


# --------------------------------------------------------------------------- checks


def _check_operation_ids(entries: Sequence[_Entry]) -> None:
    """Every ``paths`` operation names its feature set, and no two operations the same one."""
    for entry in entries:
        if not entry.handler:
            raise ContractError(
                f"Missing operationId for {entry.method} {entry.path}. "
                "All operations must have an operationId."
            )
    seen: dict[str, _Entry] = {}
    for entry in entries:
        first = seen.setdefault(entry.handler or "", entry)
        if first is not entry:
            raise ContractError(
                f"Duplicate operationId '{entry.handler}' found:\n"
                f"  - {first.method} {first.path}\n  - {entry.method} {entry.path}"
            )


def _local_ref(ref: Any, section: str) -> str | None:
    """The component name of a ``#/components/<section>/<name>`` reference, else None: other
    references (external files, responses, ...) are neither checked nor resolved."""
    if not isinstance(ref, str):
        return None
    parts = [part for part in ref.split("/") if part]
    if len(parts) == 4 and parts[:3] == ["#", "components", section]:
        return parts[3]
    return None


def _check_references(entries: Sequence[_Entry], components: dict[str, Any]) -> None:
    """A schema ``$ref`` in a body or response, or a parameter ``$ref``, must name a component
    that exists; the message lists the ones that do."""
    schema_refs: dict[str, None] = {}
    parameter_refs: dict[str, None] = {}
    for entry in entries:
        for parameter in (*entry.shared, *_list(entry.spec, "parameters", "")):
            if isinstance(parameter, dict) and "$ref" in parameter:
                parameter_refs[parameter["$ref"]] = None
        for schema in _media_schemas(entry.spec):
            schema_refs.update(dict.fromkeys(_schema_refs(schema)))
    _check_refs(schema_refs, components, "schemas", "schema")
    _check_refs(parameter_refs, components, "parameters", "parameter")


def _check_refs(refs: Iterable[Any], components: dict[str, Any], section: str, noun: str) -> None:
    available = components.get(section) or {}
    for ref in refs:
        name = _local_ref(ref, section)
        if name is not None and name not in available:
            message = f"Invalid {noun} reference: {ref}"
            if available:
                message += f"\nAvailable {section}: {', '.join(map(str, available))}"
            raise ContractError(message)


def _media_schemas(spec: dict[str, Any]) -> Iterator[Any]:
    """The schemas of an operation's request body and responses, where refs are checked."""
    holders = [spec.get("requestBody")]
    responses = spec.get("responses") or {}
    holders.extend(responses.values())
    for holder in holders:
        content = holder.get("content") if isinstance(holder, dict) else None
        if isinstance(content, dict):
            for media in content.values():
                if isinstance(media, dict):
                    yield media.get("schema")


def _schema_refs(schema: Any) -> Iterator[str]:
    """The ``$ref``s of a schema and of its properties, items and allOf/oneOf/anyOf members."""
    if not isinstance(schema, dict):
        return
    if "$ref" in schema:
        yield schema["$ref"]
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for member in properties.values():
            yield from _schema_refs(member)
    yield from _schema_refs(schema.get("items"))
    for key in ("allOf", "oneOf", "anyOf"):
        members = schema.get(key)
        if isinstance(members, list):
            for member in members:
                yield from _schema_refs(member)


# --------------------------------------------------------------------------- building


def _operation(entry: _Entry, components: dict[str, Any]) -> Operation:
    responses = {str(status): value for status, value in entry.spec["responses"].items()}
    body = entry.spec.get("requestBody")
    return Operation(
        method=entry.method,
        path=entry.path,
        operation_id=entry.handler or "",
        parameters=_merged_parameters(entry, components),
        responses=responses,
        request_body=body if isinstance(body, dict) else None,
        upgrade=UPGRADE_STATUS in responses,
    )


def _merged_parameters(entry: _Entry, components: dict[str, Any]) -> tuple[Parameter, ...]:
    """Path-level parameters, each replaced by an operation-level one of the same name and
    location, followed by the operation's own."""
    merged: list[Parameter] = []
    for level in (entry.shared, _list(entry.spec, "parameters", "")):
        for raw in level:
            parameter = _parameter(raw, components)
            if parameter is None:
                continue
            merged = [
                p for p in merged if (p.name, p.location) != (parameter.name, parameter.location)
            ]
            merged.append(parameter)
    return tuple(merged)


def _parameter(raw: Any, components: dict[str, Any]) -> Parameter | None:
    """A Parameter from its declaration or its ``$ref``; None for one that cannot be used (an
    external reference, no name or no location)."""
    if isinstance(raw, dict) and "$ref" in raw:
        name = _local_ref(raw["$ref"], "parameters")
        raw = (components.get("parameters") or {}).get(name) if name is not None else None
    if not isinstance(raw, dict) or raw.get("name") is None or raw.get("in") is None:
        return None
    location = str(raw["in"])
    schema = _resolved_schema(raw.get("schema"), components)
    style = str(raw.get("style") or _DEFAULT_STYLE.get(location, "form"))
    explode = raw.get("explode")
    return Parameter(
        name=str(raw["name"]),
        location=location,
        schema=schema,
        style=style,
        explode=style == "form" if explode is None else bool(explode),
        is_array=_schema_type(schema) == "array",
    )


def _resolved_schema(schema: Any, components: dict[str, Any]) -> dict[str, Any]:
    """A parameter's schema with a ``#/components/schemas`` reference followed, so that its
    type (array or not) is known."""
    if not isinstance(schema, dict):
        return {}
    name = _local_ref(schema.get("$ref"), "schemas")
    target = (components.get("schemas") or {}).get(name) if name is not None else None
    return target if isinstance(target, dict) else schema


def _schema_type(schema: dict[str, Any]) -> str | None:
    """The schema's type; of an OpenAPI 3.1 type list, the first that is not ``null``."""
    kind = schema.get("type")
    if isinstance(kind, list):
        return next((k for k in kind if k != "null"), kind[0] if kind else None)
    return kind


def _server_port(servers: Any) -> int | None:
    """The explicit port of ``servers[0].url`` after substituting variable defaults; host and
    base path do not matter (the server binds its own address)."""
    if not isinstance(servers, list) or not servers or not isinstance(servers[0], dict):
        return None
    url = str(servers[0].get("url") or "")
    variables = servers[0].get("variables")
    if isinstance(variables, dict):
        for name, variable in variables.items():
            if isinstance(variable, dict) and "default" in variable:
                url = url.replace(f"{{{name}}}", str(variable["default"]))
    try:
        return urlsplit(url).port
    except ValueError:
        return None


# --------------------------------------------------------------------------- routing

_Target = tuple[Operation, tuple[tuple[int, str], ...]]
Resolution = tuple[Operation | None, dict[str, str] | None, tuple[str, ...]]


def _normalize(path: str) -> str:
    """The reference's path normalisation: a leading ``/``, no trailing ``/`` (except the
    root); inner ``//`` stay, so they make empty segments."""
    if path[:1] != "/":
        path = "/" + path
    if path[-1:] == "/" and len(path) > 1:
        path = path.rstrip("/") or "/"
    return path


def _is_template(segment: str) -> bool:
    return len(segment) >= 2 and segment[0] == "{" and segment[-1] == "}"


def _key_getter(positions: tuple[int, ...]) -> Callable[[Sequence[str]], Any]:
    """Picks the literal positions out of a segment list: the same function keys the table at
    compile time (from the template) and looks it up per request (from the path)."""
    if not positions:
        return lambda _segments: ()
    return itemgetter(*positions)


class _Shape:
    """All templates of one segment count whose literals sit at the same positions: one dict
    lookup finds which of them (if any) a path matches."""

    __slots__ = ("key", "literals", "table")

    def __init__(self, positions: tuple[int, ...]) -> None:
        self.key = _key_getter(positions)
        self.literals = len(positions)
        self.table: dict[Any, dict[str, _Target]] = {}


class Router:
    """Maps (method, path) to an operation, compiled once from the operations.

    Precedence is the reference's specificity (10 per segment + 5 per literal segment): since
    only paths of equal segment count can match, more literal segments win, and for each method
    the most specific matching template that has that method answers.  Fully literal paths sit
    in one dict; templates are grouped by segment count and then by the positions of their
    literals (a ``_Shape``), most literals first, ties in document order.
    """

    __slots__ = ("_literal", "_templated")

    def __init__(self, operations: Sequence[Operation]) -> None:
        self._literal: dict[str, dict[str, Operation]] = {}
        shapes: dict[int, dict[tuple[int, ...], _Shape]] = {}
        for op in operations:
            path = _normalize(op.path)
            segments = path[1:].split("/") if path != "/" else []
            captures = tuple((i, s[1:-1]) for i, s in enumerate(segments) if _is_template(s))
            if not captures:
                self._literal.setdefault(path, {}).setdefault(op.method, op)
                continue
            positions = tuple(i for i, s in enumerate(segments) if not _is_template(s))
            group = shapes.setdefault(len(segments), {})
            shape = group.get(positions)
            if shape is None:
                shape = group[positions] = _Shape(positions)
            methods = shape.table.setdefault(shape.key(segments), {})
            methods.setdefault(op.method, (op, captures))
        self._templated = {
            count: tuple(sorted(group.values(), key=lambda shape: -shape.literals))
            for count, group in shapes.items()
        }

    def resolve(self, method: str, path: str) -> Resolution:
        """``(operation, path parameters, ())`` on a match; ``(None, None, allowed methods)``
        when the path exists for other methods only (405); ``(None, None, ())`` otherwise.
        Path parameters are the raw segments, not percent-decoded.

        The first lookup uses the path and method as received: a literal route's key is already
        normalised and has the highest precedence, so a hit there is final and the common
        request costs two dict lookups."""
        methods = self._literal.get(path)
        if methods is not None and method in methods:
            return methods[method], {}, ()
        path = _normalize(path)
        method = method.upper()
        hit = self._find(method, path)
        if hit is None and method == "HEAD":
            hit = self._find("GET", path)
        if hit is not None:
            return hit[0], hit[1], ()
        return None, None, self._allowed(path)

    def _find(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        methods = self._literal.get(path)
        if methods is not None and method in methods:
            return methods[method], {}
        if path == "/":
            return None
        parts = path[1:].split("/")
        for shape in self._templated.get(len(parts), ()):
            targets = shape.table.get(shape.key(parts))
            if targets is not None and method in targets:
                op, captures = targets[method]
                params = {}
                for index, name in captures:
                    params[name] = parts[index]
                return op, params
        return None

    def _allowed(self, path: str) -> tuple[str, ...]:
        """The methods of every route matching the path (the slow path of a 405), HEAD added
        wherever GET is."""
        found = set(self._literal.get(path, ()))
        if path != "/":
            parts = path[1:].split("/")
            for shape in self._templated.get(len(parts), ()):
                found.update(shape.table.get(shape.key(parts), ()))
        if "GET" in found:
            found.add("HEAD")
        return tuple(m for m in ALLOW_ORDER if m in found)


# --------------------------------------------------------------------------- parameters


def percent_decode(text: str) -> str:
    """Foundation's ``removingPercentEncoding``: a malformed escape or invalid UTF-8 leaves the
    whole text as it was."""
    if "%" not in text or _BAD_ESCAPE.search(text):
        return text
    try:
        return unquote_to_bytes(text).decode("utf-8")
    except UnicodeDecodeError:
        return text


def form_decode(text: str) -> str:
    """A query component: ``+`` is a space (decoded first, so ``%2B`` stays a plus)."""
    if "+" in text:
        text = text.replace("+", " ")
    return percent_decode(text)


def _query_values(raw: str) -> dict[str, list[str]]:
    """Every value of every key, in order; a pair without ``=`` has the value ``""``."""
    values: dict[str, list[str]] = {}
    for pair in raw.split("&"):
        key, _, value = pair.partition("=")
        key = form_decode(key)
        if key:
            values.setdefault(key, []).append(form_decode(value))
    return values


def _deserialize(values: list[str], parameter: Parameter) -> str | list[str]:
    """A declared query parameter: the first value of a scalar (or object), a list for an
    array, split by its style when not exploded."""
    if not parameter.is_array:
        return values[0]
    if parameter.explode:
        return list(values)
    first = values[0]
    if parameter.style == "form":
        return first.split(",")
    if parameter.style == "spaceDelimited":
        return first.replace("%20", " ").split(" ")
    if parameter.style == "pipeDelimited":
        return first.split("|")
    return [first]


def parse_query(raw: str, operation: Operation | None) -> dict[str, str | list[str]]:
    """The top-level ``queryParameters``: the last value of each key, except that parameters
    the operation declares are read by their declaration (see ``_deserialize``)."""
    if not raw:
        return {}
    values = _query_values(raw)
    result: dict[str, str | list[str]] = {key: found[-1] for key, found in values.items()}
    if operation is not None:
        for parameter in operation.parameters:
            if parameter.location == "query" and parameter.name in values:
                result[parameter.name] = _deserialize(values[parameter.name], parameter)
    return result


def raw_query_parameters(raw: str) -> dict[str, str]:
    """``request.queryParameters``: the reference splits pairs dropping empty pieces, so a pair
    without ``=`` or with an empty value is lost; the last value of a key wins."""
    result: dict[str, str] = {}
    if not raw:
        return result
    for pair in raw.split("&"):
        key, _, value = pair.lstrip("=").partition("=")
        if value:
            result[form_decode(key)] = form_decode(value)
    return result


def header_parameters(headers: Mapping[str, str], operation: Operation | None) -> dict[str, str]:
    """``headerParameters``: only headers the operation declares, matched case-insensitively
    and keyed in lower case."""
    if operation is None:
        return {}
    declared = operation.header_names
    if not declared:
        return {}
    return {key.lower(): value for key, value in headers.items() if key.lower() in declared}


def _cookies(header: str) -> dict[str, str]:
    cookies: dict[str, str] = {}
    for piece in header.split(";"):
        name, found, value = piece.strip(" \t").partition("=")
        name = name.strip(" \t")
        if found and name:
            cookies[name] = percent_decode(value.strip(" \t"))
    return cookies


def cookie_parameters(cookie_header: str | None, operation: Operation | None) -> dict[str, str]:
    """``cookieParameters``: only cookies the operation declares (names are case-sensitive),
    values percent-decoded."""
    if operation is None or not cookie_header:
        return {}
    declared = operation.cookie_names
    if not declared:
        return {}
    cookies = _cookies(cookie_header)
    return {name: cookies[name] for name in declared if name in cookies}
