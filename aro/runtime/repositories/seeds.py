"""``.store`` seed files: ``<stem>.store`` beside the program seeds ``<stem>-repository``.

A seed file is YAML read as the reference runtime reads it: a list of maps, or one map;
other entries are ignored; ``null``/``~`` become ``""``; dates stay text and only
``true``/``false`` (in three casings) are booleans, not ``yes``/``no``/``on``/``off``.
Seeding upserts by the Store rules and announces nothing: it happens before the program runs.

A persistent store is seeded again at every start, and once by each worker of ``aro serve``.
So that this adds no row, a seed row that has neither an id nor an identity field gets an id
derived from its file and its place in it: seeding again finds and updates it.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import yaml

from aro.lang.names import REPOSITORY_SUFFIX
from aro.runtime.repositories.base import IDENTITY_FIELDS
from aro.runtime.repositories.semantics import RepositoryRegistry
from aro.vm.errors import AroError

STORE_FILE_SUFFIX = ".store"
SEED_ID_NAMESPACE = uuid.UUID("5e3d1a52-8f0c-4b8e-9a4f-2c6b7d1e0a93")


class StoreFileError(AroError):
    """A ``.store`` seed file is not valid YAML."""


async def load_store_files(registry: RepositoryRegistry, root: Path) -> None:
    """Seed from every ``*.store`` file in ``root`` (not its subdirectories, not hidden ones),
    file by file and row by row, before the program runs."""
    for path in sorted(root.glob(f"*{STORE_FILE_SUFFIX}")):
        if not path.name.startswith(".") and path.is_file():
            repository = registry.get(path.stem + REPOSITORY_SUFFIX)
            for place, entry in enumerate(read_store_file(path)):
                await repository.seed(_with_seed_id(entry, path.name, place))


def read_store_file(path: Path) -> list[dict[str, Any]]:
    """The seed rows of one ``.store`` file."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_StoreLoader)
    except yaml.YAMLError as error:
        raise StoreFileError(f"Invalid store file {path.name}: {error}") from None
    if type(data) is dict:
        data = [data]
    if type(data) is not list:
        return []
    return [_null_as_empty(entry) for entry in data if type(entry) is dict]


def _with_seed_id(entry: dict[str, Any], file_name: str, place: int) -> dict[str, Any]:
    """``entry`` with the id it keeps across seedings, when nothing else identifies it."""
    if "id" in entry or any(field in entry for field in IDENTITY_FIELDS):
        return entry
    seed_id = uuid.uuid5(SEED_ID_NAMESPACE, f"{file_name}:{place}")
    return {**entry, "id": str(seed_id).upper()}


def _null_as_empty(value: Any) -> Any:
    if value is None:
        return ""
    if type(value) is dict:
        return {key: _null_as_empty(item) for key, item in value.items()}
    if type(value) is list:
        return [_null_as_empty(item) for item in value]
    return value


class _StoreLoader(yaml.SafeLoader):
    """SafeLoader without YAML 1.1 timestamps and with only true/false as booleans."""


_BOOL_TAG = "tag:yaml.org,2002:bool"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_StoreLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_BOOL_TAG, _TIMESTAMP_TAG)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StoreLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
