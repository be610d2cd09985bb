"""The file capability (``aro.vm.services.Files``) on the local file system.

Each operation runs as one function in a worker thread (``asyncio.to_thread``), so a handler
reading a large file leaves the event loop free for the server's other clients.  Failures
become ``ActionError``s worded as the reference runtime words them.
"""

from __future__ import annotations

import asyncio
import grp
import os
import pwd
import re
import shutil
import stat as stat_mode
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from typing import IO, Any

from aro.vm.errors import ActionError
from aro.vm.streams import ItemStream
from aro.vm.values import iso

LINE_BATCH_BYTES = 64 * 1024  # how much of a streamed file one batch reads


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def _date(timestamp: float) -> str:
    return iso(datetime.fromtimestamp(timestamp, UTC))


def _entry(path: str, info: os.stat_result) -> dict[str, Any]:
    is_directory = stat_mode.S_ISDIR(info.st_mode)
    # Linux keeps no birth time in stat; the inode change time is the nearest there is.
    born = getattr(info, "st_birthtime", info.st_ctime)
    return {
        "name": os.path.basename(path),
        "path": path,
        "size": info.st_size,
        "isFile": not is_directory,
        "isDirectory": is_directory,
        "modified": _date(info.st_mtime),
        "created": _date(born),
    }


def _glob(pattern: str | None) -> re.Pattern[str] | None:
    """``*`` any run, ``?`` one character, case-insensitive, the whole name."""
    if not pattern:
        return None
    text = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(text, re.IGNORECASE | re.DOTALL)


def _permissions(mode: int) -> str:
    bits = "rwxrwxrwx"
    return "".join(bit if mode & (0o400 >> i) else "-" for i, bit in enumerate(bits))


def _owner(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def _make_parent(path: str) -> None:
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)


class LocalFiles:
    """``frame.services.files``."""

    async def read(self, path: str, decode: Callable[[str | bytes], Any]) -> Any:
        return await asyncio.to_thread(self._read, path, decode)

    async def write(self, path: str, encode: Callable[[], str | bytes]) -> None:
        await asyncio.to_thread(self._write, path, encode)

    async def append(self, path: str, text: str) -> None:
        await asyncio.to_thread(self._append, path, text)

    async def list(self, directory: str, pattern: str | None, recursive: bool) -> list[dict]:
        return await asyncio.to_thread(self._list, directory, _glob(pattern), recursive)

    async def stat(self, path: str) -> dict:
        return await asyncio.to_thread(self._stat, path)

    async def kind(self, path: str) -> str | None:
        return await asyncio.to_thread(self._kind, path)

    async def make_directory(self, path: str) -> None:
        await asyncio.to_thread(self._make_directory, path)

    async def touch(self, path: str) -> None:
        await asyncio.to_thread(self._touch, path)

    async def copy(self, source: str, destination: str) -> None:
        await asyncio.to_thread(self._transfer, source, destination, "copying", self._copy_item)

    async def move(self, source: str, destination: str) -> None:
        await asyncio.to_thread(self._transfer, source, destination, "moving", shutil.move)

    async def open_lines(self, path: str) -> ItemStream:
        handle = await asyncio.to_thread(self._open_for_lines, path)
        return FileLines(path, handle)

    # -- in the worker thread --------------------------------------------------------------

    @staticmethod
    def _read(path: str, decode: Callable[[str | bytes], Any]) -> Any:
        try:
            with open(path, "rb") as file:
                data = file.read()
        except FileNotFoundError:
            raise ActionError(f"File not found: {path}") from None
        except OSError as error:
            raise ActionError(f"Error reading {path}: {_reason(error)}") from None
        try:
            content: str | bytes = data.decode("utf-8")
        except UnicodeDecodeError:
            content = data
        return decode(content)

    @staticmethod
    def _write(path: str, encode: Callable[[], str | bytes]) -> None:
        content = encode()
        data = content.encode("utf-8") if isinstance(content, str) else content
        try:
            _make_parent(path)
            # Whole or not at all: a reader never sees half a file.
            directory = os.path.dirname(os.path.abspath(path))
            with tempfile.NamedTemporaryFile(dir=directory, delete=False) as temporary:
                temporary.write(data)
            os.replace(temporary.name, path)
        except OSError as error:
            raise ActionError(f"Error writing {path}: {_reason(error)}") from None

    @staticmethod
    def _append(path: str, text: str) -> None:
        try:
            _make_parent(path)
            with open(path, "a", encoding="utf-8") as file:
                file.write(text)
        except OSError as error:
            raise ActionError(f"Error writing {path}: {_reason(error)}") from None

    @staticmethod
    def _list(directory: str, pattern: re.Pattern[str] | None, recursive: bool) -> list[dict]:
        if not os.path.isdir(directory):
            raise ActionError(f"Directory not found: {directory}")
        root = os.path.abspath(directory)
        entries = []
        try:
            for parent, names in _walk(root, recursive):
                for name in names:
                    if pattern is not None and not pattern.fullmatch(name):
                        continue
                    path = os.path.join(parent, name)
                    try:
                        entries.append(_entry(path, os.stat(path)))
                    except OSError:
                        continue  # gone, or a dangling link: not an entry
        except OSError as error:
            raise ActionError(f"Error listing {directory}: {_reason(error)}") from None
        entries.sort(key=lambda entry: entry["path"])
        return entries

    @staticmethod
    def _stat(path: str) -> dict:
        try:
            info = os.stat(path)
        except FileNotFoundError:
            raise ActionError(f"File not found: {path}") from None
        except OSError as error:
            raise ActionError(f"Error getting stats for {path}: {_reason(error)}") from None
        entry = _entry(os.path.abspath(path), info)
        entry.update(
            accessed=_date(info.st_atime),
            permissions=_permissions(info.st_mode),
            owner=_owner(info.st_uid),
            group=_group(info.st_gid),
        )
        return entry

    @staticmethod
    def _kind(path: str) -> str | None:
        if os.path.isdir(path):
            return "directory"
        return "file" if os.path.exists(path) else None

    @staticmethod
    def _make_directory(path: str) -> None:
        try:
            os.makedirs(path, exist_ok=True)
        except OSError as error:
            raise ActionError(f"Error creating directory {path}: {_reason(error)}") from None

    @staticmethod
    def _touch(path: str) -> None:
        try:
            _make_parent(path)
            with open(path, "a"):
                os.utime(path)
        except OSError as error:
            raise ActionError(f"Error writing {path}: {_reason(error)}") from None

    @staticmethod
    def _copy_item(source: str, destination: str) -> None:
        if os.path.isdir(source):
            shutil.copytree(source, destination)
        else:
            shutil.copy2(source, destination)

    @staticmethod
    def _transfer(source: str, destination: str, verb: str, transfer: Callable) -> None:
        """Copy or move: the destination's directory is made and what was there replaced."""
        if not os.path.exists(source):
            raise ActionError(f"File not found: {source}")
        try:
            _make_parent(destination)
            if os.path.isdir(destination) and not os.path.islink(destination):
                shutil.rmtree(destination)
            elif os.path.lexists(destination):
                os.remove(destination)
            transfer(source, destination)
        except OSError as error:
            raise ActionError(f"Error {verb} {source} to {destination}: {_reason(error)}") from None

    @staticmethod
    def _open_for_lines(path: str) -> IO[bytes]:
        try:
            return open(path, "rb")  # FileLines owns and closes it
        except FileNotFoundError:
            raise ActionError(f"File not found: {path}") from None
        except OSError as error:
            raise ActionError(f"Error reading {path}: {_reason(error)}") from None


def _walk(root: str, recursive: bool):
    """(directory, names) for ``root`` alone or its whole tree; errors on ``root`` raise."""
    if not recursive:
        yield root, os.listdir(root)
        return

    def fail(error: OSError) -> None:
        raise error

    for parent, directories, files in os.walk(root, onerror=fail):
        yield parent, directories + files


class FileLines(ItemStream):
    """A file's lines, a batch of whole lines per read; ``\\r\\n`` counts as one break."""

    def __init__(self, path: str, handle: IO[bytes]) -> None:
        self.path = path
        self.handle: IO[bytes] | None = handle
        self.rest = b""  # the start of a line whose end is not read yet

    async def next_batch(self) -> list[str]:
        if self.handle is None:
            return []
        return await asyncio.to_thread(self._read_batch)

    def _read_batch(self) -> list[str]:
        lines: list[bytes] = []
        while not lines and self.handle is not None:
            try:
                chunk = self.handle.read(LINE_BATCH_BYTES)
            except OSError as error:
                self._close()
                raise ActionError(f"Error reading {self.path}: {_reason(error)}") from None
            if not chunk:
                lines = [self.rest] if self.rest else []
                self.rest = b""
                self._close()
                break
            *lines, self.rest = (self.rest + chunk).split(b"\n")
        return [line.removesuffix(b"\r").decode("utf-8", "replace") for line in lines]

    def _close(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None
