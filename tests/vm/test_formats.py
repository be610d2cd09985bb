"""Values to and from file formats (aro.vm.values.formats)."""

from __future__ import annotations

import pytest

from aro.vm.values import formats

USERS = [
    {"id": 1, "name": "Alice", "email": "alice@example.com"},
    {"id": 2, "name": "Bob, Jr.", "email": "bob@example.com"},
]


@pytest.mark.parametrize(
    ("path", "fmt"),
    [
        ("a.json", "json"), ("a.NDJSON", "jsonl"), ("a.yml", "yaml"), ("a.htm", "html"),
        ("a.txt", "text"), ("config/.env", "env"), ("prod.env", "env"), ("a.md", "markdown"),
        ("a.log", "log"), ("a.sql", "sql"), ("a.bin", "binary"), ("README", "binary"),
    ],
)  # fmt: skip
def test_format_by_extension(path: str, fmt: str) -> None:
    assert formats.detect(path) == fmt


def test_qualifiers_override_or_bypass() -> None:
    assert formats.from_qualifiers(("json",)) == "json"
    assert formats.from_qualifiers(("first",)) is None
    assert formats.is_raw(("raw",)) and formats.is_raw(("String",))


@pytest.mark.parametrize("fmt", ["json", "jsonl", "yaml", "xml", "toml", "csv", "tsv"])
def test_tables_round_trip(fmt: str) -> None:
    text = formats.serialize(USERS, fmt, "users")
    assert formats.deserialize(text, fmt) == USERS


def test_shapes_the_reference_writes() -> None:
    assert formats.serialize(USERS, "jsonl", "users").splitlines()[0] == (
        '{"email":"alice@example.com","id":1,"name":"Alice"}'
    )
    assert formats.serialize(USERS, "csv", "users").splitlines() == [
        "email,id,name",
        "alice@example.com,1,Alice",
        'bob@example.com,2,"Bob, Jr."',
    ]
    markdown = formats.serialize(USERS, "markdown", "users").splitlines()
    assert markdown[:2] == ["| email | id | name |", "|---|---|---|"]
    assert "<tr><th>email</th><th>id</th><th>name</th></tr>" in formats.serialize(
        USERS, "html", "users"
    )
    assert formats.serialize(USERS, "sql", "users").startswith(
        "INSERT INTO users (email, id, name) VALUES ('alice@example.com', 1, 'Alice');"
    )
    assert formats.serialize(USERS, "toml", "users").startswith('[[users]]\nemail = "alice')
    assert formats.serialize(USERS, "xml", "users").splitlines()[:4] == [
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<users>",
        "  <item>",
        "    <email>alice@example.com</email>",
    ]
    assert formats.serialize(USERS, "json", "users").splitlines()[0] == "["


def test_env_and_text_flatten_nesting() -> None:
    config = {"database": {"host": "db", "port": 5432}, "app_name": "X", "debug": True}
    env = formats.serialize(config, "env", "config")
    assert env.splitlines() == [
        "APP_NAME=X",
        "DATABASE_HOST=db",
        "DATABASE_PORT=5432",
        "DEBUG=true",
    ]
    assert formats.deserialize(env, "env")["DATABASE_PORT"] == 5432
    text = formats.serialize(config, "text", "config")
    assert "database.host=db" in text.splitlines()
    assert formats.deserialize(text, "text") == config


def test_csv_options() -> None:
    text = formats.serialize(
        USERS, "csv", "users", {"delimiter": ";", "header": False, "quote": "'"}
    )
    assert text.splitlines()[0] == "alice@example.com;1;Alice"
    rows = formats.deserialize(text, "csv", {"delimiter": ";", "header": False})
    assert rows[1] == ["bob@example.com", 2, "Bob, Jr."]
    assert formats.deserialize("a;b\n1;x\n", "csv") == [{"a": 1, "b": "x"}]  # guessed ';'
    assert formats.deserialize("key,value\nport,80\n", "csv") == {"port": 80}


def test_text_formats_read_back_as_text() -> None:
    for fmt in ("markdown", "html", "sql", "log"):
        assert formats.deserialize("| a |", fmt) == "| a |"
    assert formats.deserialize("{not json", "json") == "{not json"


def test_binary_passes_strings_and_bytes() -> None:
    assert formats.serialize(b"\x00\x01", "binary", "blob") == b"\x00\x01"
    assert formats.serialize("text", "binary", "blob") == "text"
