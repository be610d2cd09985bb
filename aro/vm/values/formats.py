"""Values to and from file formats, chosen by a file's extension or a result qualifier.

``Write the <users> to "./users.csv"`` serializes by the extension, ``Read`` parses back.  The
shapes follow the reference runtime: tables (CSV, TSV, Markdown, HTML) take a list of objects
with the first object's keys, sorted, as columns; XML, SQL and TOML name their root, table or
array of tables after the variable; ``.env`` flattens nested keys to ``PARENT_CHILD`` in upper
case; ``.txt`` is ``key=value`` lines.  Markdown, HTML, SQL, log and binary files read back as
their text.  Text that does not parse in its format reads back as the text itself.
"""

from __future__ import annotations

import csv
import io
import json
import tomllib
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any

import yaml

from aro.vm.values.dates import iso
from aro.vm.values.json import from_json, pretty_json, to_json
from aro.vm.values.model import Value, parse_double, parse_int
from aro.vm.values.text import describe

JSON, JSONL, YAML, XML, TOML, CSV, TSV = "json", "jsonl", "yaml", "xml", "toml", "csv", "tsv"
MARKDOWN, HTML, TEXT, SQL = "markdown", "html", "text", "sql"
LOG, ENV, BINARY = "log", "env", "binary"

_BY_EXTENSION = {
    "json": JSON, "jsonl": JSONL, "ndjson": JSONL, "yaml": YAML, "yml": YAML, "xml": XML,
    "toml": TOML, "csv": CSV, "tsv": TSV, "md": MARKDOWN, "markdown": MARKDOWN, "html": HTML,
    "htm": HTML, "txt": TEXT, "sql": SQL, "log": LOG, "env": ENV,
}  # fmt: skip
#: Result qualifiers that name a format (``Read the <data: json> from "./payload.txt"``).
_BY_QUALIFIER = {
    **_BY_EXTENSION, "json-lines": JSONL, "text": TEXT, "binary": BINARY, "bin": BINARY,
}  # fmt: skip
#: Qualifiers that bypass every format: the file's text as it is.
RAW_QUALIFIERS = frozenset(("raw", "string", "as string"))

Options = Mapping[str, Any]  # CSV/TSV: delimiter, header, quote


def detect(path: str) -> str:
    """The format of ``path`` by its extension (``.env`` files too); binary when unknown."""
    name = PurePath(path).name.lower()
    if name == ".env" or name.endswith(".env"):
        return ENV
    extension = name.rpartition(".")[2] if "." in name else ""
    return _BY_EXTENSION.get(extension, BINARY)


def from_qualifiers(qualifiers: tuple[str, ...]) -> str | None:
    """The format the first format-naming qualifier asks for, else None."""
    return next((_BY_QUALIFIER[q.lower()] for q in qualifiers if q.lower() in _BY_QUALIFIER), None)


def is_raw(qualifiers: tuple[str, ...]) -> bool:
    return any(q.lower() in RAW_QUALIFIERS for q in qualifiers)


# -- writing -----------------------------------------------------------------------------------


def serialize(value: Value, fmt: str, name: str, options: Options | None = None) -> str | bytes:
    """``value`` as the content of a ``fmt`` file; ``name`` is the variable written."""
    if fmt == BINARY:
        return value if isinstance(value, (str, bytes)) else describe(value)
    options = options or {}
    if fmt in (CSV, TSV):
        delimiter = str(options.get("delimiter", "," if fmt == CSV else "\t"))
        header = options.get("header", True) is not False
        return _csv(value, delimiter, header, str(options.get("quote", '"')))
    writer = _WRITERS[fmt]
    return writer(value, name) if fmt in (XML, TOML, SQL) else writer(value)


def _scalar(value: Value) -> str:
    return value if isinstance(value, str) else describe(value)


def _first_object_keys(value: Value) -> list[str] | None:
    """The columns of a table: the first row's keys, sorted; None when rows are not objects."""
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return sorted(value[0])
    return None


def _jsonl(value: Value) -> str:
    rows = value if isinstance(value, list) else [value]
    return "\n".join(to_json(row).decode() for row in rows)


def _yaml(value: Value) -> str:
    return yaml.safe_dump(_plain(value), sort_keys=True, allow_unicode=True).rstrip("\n")


def _plain(value: Value) -> Any:
    """Only the types PyYAML's safe dumper knows: dates as ISO text, other leaves as text."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, (str, int, float)):
        return value
    return iso(value) if isinstance(value, datetime) else describe(value)


def _xml_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        .replace('"', "&quot;").replace("'", "&apos;")
    )  # fmt: skip


def _xml(value: Value, name: str) -> str:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>']
    _xml_element(value, name, 0, lines)
    return "\n".join(lines)


def _xml_element(value: Value, name: str, depth: int, lines: list[str]) -> None:
    indent = "  " * depth
    if isinstance(value, (list, dict)):
        lines.append(f"{indent}<{name}>")
        if isinstance(value, dict):
            children = [(key, value[key]) for key in sorted(value)]
        else:
            children = [("item", item) for item in value]
        for child, item in children:
            _xml_element(item, child, depth + 1, lines)
        lines.append(f"{indent}</{name}>")
    else:
        lines.append(f"{indent}<{name}>{_xml_escape(_scalar(value))}</{name}>")


def _toml_value(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return describe(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        pairs = (f"{key} = {_toml_value(value[key])}" for key in sorted(value))
        return "{ " + ", ".join(pairs) + " }"
    return json.dumps(_scalar(value), ensure_ascii=False)


def _toml_pairs(row: dict) -> list[str]:
    return [f"{key} = {_toml_value(row[key])}" for key in sorted(row)]


def _toml(value: Value, name: str) -> str:
    if isinstance(value, dict):
        return "\n".join(_toml_pairs(value))
    if isinstance(value, list):
        rows = (row for row in value if isinstance(row, dict))
        return "\n\n".join("\n".join([f"[[{name}]]", *_toml_pairs(row)]) for row in rows)
    return _scalar(value)


def _csv(value: Value, delimiter: str, header: bool, quote: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter[:1] or ",", quotechar=quote[:1] or '"',
                        lineterminator="\n")  # fmt: skip
    columns = _first_object_keys(value)
    if columns is not None:
        if header:
            writer.writerow(columns)
        for row in value:
            if isinstance(row, dict):
                writer.writerow(_scalar(row[key]) if key in row else "" for key in columns)
    elif isinstance(value, dict):
        if header:
            writer.writerow(("key", "value"))
        writer.writerows((key, _scalar(value[key])) for key in sorted(value))
    elif isinstance(value, list):
        writer.writerows([_scalar(item)] for item in value)
    else:
        return _scalar(value)
    return out.getvalue().rstrip("\n")


def _markdown_cell(value: Value) -> str:
    return _scalar(value).replace("|", "\\|").replace("\n", " ")


def _markdown(value: Value) -> str:
    columns = _first_object_keys(value)
    if columns is not None:
        lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
        for row in value:
            if isinstance(row, dict):
                cells = (_markdown_cell(row[key]) if key in row else "" for key in columns)
                lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)
    if isinstance(value, dict):
        rows = (f"| {key} | {_markdown_cell(value[key])} |" for key in sorted(value))
        return "\n".join(["| Key | Value |", "|-----|-------|", *rows])
    if isinstance(value, list):
        return "\n".join(f"- {_scalar(item)}" for item in value)
    return _scalar(value)


def _html_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _html_table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["<table>", "  <thead>", "    <tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"]
    lines += ["  </thead>", "  <tbody>"]
    lines += ["    <tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows]
    return "\n".join([*lines, "  </tbody>", "</table>"])


def _html(value: Value) -> str:
    columns = _first_object_keys(value)
    if columns is not None:
        rows = [
            [_html_escape(_scalar(row[key])) if key in row else "" for key in columns]
            for row in value
            if isinstance(row, dict)
        ]
        return _html_table([_html_escape(c) for c in columns], rows)
    if isinstance(value, dict):
        rows = [[_html_escape(key), _html_escape(_scalar(value[key]))] for key in sorted(value)]
        return _html_table(["Key", "Value"], rows)
    if isinstance(value, list):
        items = "\n".join(f"  <li>{_html_escape(_scalar(item))}</li>" for item in value)
        return f"<ul>\n{items}\n</ul>"
    return _html_escape(_scalar(value))


def _text(value: Value, prefix: str = "") -> str:
    if isinstance(value, dict):
        lines = []
        for key in sorted(value):
            path = f"{prefix}.{key}" if prefix else key
            item = value[key]
            lines.append(_text(item, path) if isinstance(item, dict) else f"{path}={_scalar(item)}")
        return "\n".join(lines)
    if isinstance(value, list):
        lines = []
        for index, item in enumerate(value):
            path = f"{prefix}[{index}]"
            if isinstance(item, dict):
                lines += [f"{path}.{key}={_scalar(item[key])}" for key in sorted(item)]
            else:
                lines.append(f"{path}={_scalar(item)}")
        return "\n".join(lines)
    return _scalar(value)


def _sql_value(value: Value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return describe(value)
    return "'" + _scalar(value).replace("'", "''") + "'"


def _sql(value: Value, table: str) -> str:
    rows = value if isinstance(value, list) else [value]
    statements = [
        f"INSERT INTO {table} ({', '.join(sorted(row))}) VALUES "
        f"({', '.join(_sql_value(row[key]) for key in sorted(row))});"
        for row in rows
        if isinstance(row, dict)
    ]
    return "\n".join(statements) if statements else "-- Cannot serialize non-object value to SQL"


def _log(value: Value) -> str:
    stamp = iso(datetime.now(UTC))
    entries = value if isinstance(value, list) else [value]
    return "\n".join(f"{stamp}: {_log_entry(entry)}" for entry in entries)


def _log_entry(entry: Value) -> str:
    return to_json(entry).decode() if isinstance(entry, (dict, list)) else _scalar(entry)


def _env_lines(value: Value, prefix: str, lines: list[str]) -> None:
    if isinstance(value, dict):
        for key in value:
            _env_lines(value[key], f"{prefix}_{key}" if prefix else key, lines)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _env_lines(item, f"{prefix}_{index}" if prefix else str(index), lines)
    else:
        lines.append(f"{prefix.upper()}={_scalar(value)}")


def _env(value: Value) -> str:
    lines: list[str] = []
    _env_lines(value, "", lines)
    return "\n".join(sorted(lines))


_WRITERS: dict[str, Callable[..., str]] = {
    JSON: pretty_json, JSONL: _jsonl, YAML: _yaml, XML: _xml, TOML: _toml, MARKDOWN: _markdown,
    HTML: _html, TEXT: _text, SQL: _sql, LOG: _log, ENV: _env,
}  # fmt: skip


# -- reading -----------------------------------------------------------------------------------


def deserialize(text: str, fmt: str, options: Options | None = None) -> Value:
    """The value a ``fmt`` file's text holds; formats that are not data give the text."""
    options = options or {}
    try:
        if fmt in (CSV, TSV):
            delimiter = options.get("delimiter") or ("\t" if fmt == TSV else _guess_delimiter(text))
            header = options.get("header", True) is not False
            return _read_csv(text, str(delimiter), header, str(options.get("quote", '"')))
        reader = _READERS.get(fmt)
        return text if reader is None else reader(text)
    except (ValueError, yaml.YAMLError, ElementTree.ParseError, csv.Error):
        return text  # not in its format: the text itself, as the reference answers


def _read_jsonl(text: str) -> Value:
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            rows.append(from_json(line))
        except ValueError:
            continue  # a malformed line is skipped, the others still read
    return rows


def _read_yaml(text: str) -> Value:
    return yaml.safe_load(text)


def scalar_from_text(text: str, fold_case: bool = True) -> Value:
    """An integer, a number, ``true``/``false`` (any case when ``fold_case``), else the text."""
    text = text.strip()
    number = parse_int(text)
    if number is None:
        number = parse_double(text)
    if number is not None:
        return number
    word = text.lower() if fold_case else text
    return {"true": True, "false": False}.get(word, text)


def _read_xml(text: str) -> Value:
    return _xml_value(ElementTree.fromstring(text))


def _xml_value(element: ElementTree.Element) -> Value:
    children = list(element)
    if not children:
        return scalar_from_text(element.text or "", fold_case=False)
    if all(child.tag == "item" for child in children):
        return [_xml_value(child) for child in children]
    result: dict[str, Any] = {}
    for child in children:
        value = _xml_value(child)
        if child.tag not in result:
            result[child.tag] = value
        elif isinstance(result[child.tag], list):
            result[child.tag].append(value)
        else:
            result[child.tag] = [result[child.tag], value]
    return result


def _read_toml(text: str) -> Value:
    document = tomllib.loads(text)
    if len(document) == 1:
        (only,) = document.values()
        if isinstance(only, list) and all(isinstance(row, dict) for row in only):
            return only  # one array of tables: the rows, as written
    return document


def _guess_delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    return max((";", ",", "\t"), key=lambda d: (first.count(d), d == ","))


def _read_csv(text: str, delimiter: str, header: bool, quote: str) -> Value:
    reader = csv.reader(
        io.StringIO(text), delimiter=delimiter[:1] or ",", quotechar=quote[:1] or '"'
    )
    rows = [[cell.strip() for cell in row] for row in reader if row]
    if not header:
        return [[scalar_from_text(cell) for cell in row] for row in rows]
    if len(rows) < 1:
        return text
    columns, body = rows[0], rows[1:]
    if [c.lower() for c in columns] == ["key", "value"]:
        return {row[0]: scalar_from_text(row[1]) for row in body if len(row) >= 2}
    names = [column.replace(".", "-") for column in columns]
    # A short row fills the columns it has, as the reference does.
    return [
        {name: scalar_from_text(cell) for name, cell in zip(names, row, strict=False)}
        for row in body
    ]


def _read_text(text: str) -> Value:
    result: dict[str, Any] = {}
    for line in text.splitlines():
        key, equals, raw = line.partition("=")
        if not equals:
            continue
        *parents, leaf = key.split(".")
        table = result
        for part in parents:
            child = table.get(part)
            if not isinstance(child, dict):
                child = table[part] = {}
            table = child
        table[leaf] = scalar_from_text(raw, fold_case=False)
    return result


def _read_env(text: str) -> Value:
    result: dict[str, Any] = {}
    for line in text.splitlines():
        line = line.strip()
        key, equals, raw = line.partition("=")
        if not equals or line.startswith("#"):
            continue
        raw = raw.strip()
        if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
            raw = raw[1:-1]
        result[key] = scalar_from_text(raw)
    return result


_READERS: dict[str, Callable[[str], Value]] = {
    JSON: from_json, JSONL: _read_jsonl, YAML: _read_yaml, XML: _read_xml, TOML: _read_toml,
    TEXT: _read_text, ENV: _read_env,
}  # fmt: skip
