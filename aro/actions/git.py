"""Git: ``Retrieve the <status|log|branch> from the <git>`` through the ``git`` command.

``<git>`` is the working directory, ``<git: "path">`` another one (relative to the working
directory).  As in the reference, the directory itself must be the repository: git does not
look in the directories above it.  The command runs in a worker thread, so a server keeps
serving while git reads a large repository.

* ``status`` (the default): ``{branch, commit, clean, files: [{path, status}]}``, a file's
  status one of untracked, added, modified, deleted, renamed, changed;
* ``log`` or ``history``: the newest commits first, ``[{hash, short, message, author, email,
  timestamp}]``, 10 unless ``with { limit: N }``;
* ``branch``: the current branch's name (``detached HEAD`` when there is none).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aro.vm import values
from aro.vm.errors import ActionError
from aro.vm.frame import Frame
from aro.vm.plan import Plan
from aro.vm.registry import object_action

DEFAULT_LOG_LIMIT = 10
DETACHED = "detached HEAD"
GIT_TIMEOUT_SECONDS = 30.0
_FIELD, _RECORD = "\x00", "\x1e"  # separators of the log format below
_LOG_FORMAT = "%H%x00%an%x00%ae%x00%ct%x00%B%x1e"


@object_action("git", "retrieve", "fetch", "load", "find", prepositions=("from",))
async def retrieve_from_git(plan: Plan, frame: Frame) -> Any:
    plan.check_preposition()
    repository = repository_path(plan.obj.specifiers[0] if plan.obj.specifiers else None)
    what = (plan.result.specifiers[0] if plan.result.specifiers else plan.result.base).lower()
    if what in ("log", "history"):
        return await asyncio.to_thread(log, repository, _limit(plan, frame))
    if what == "branch":
        return await asyncio.to_thread(branch, repository)
    return await asyncio.to_thread(status, repository)


def repository_path(given: str | None) -> Path:
    """The working directory, or ``given`` resolved against it."""
    if not given or given == ".":
        return Path.cwd()
    return Path.cwd() / given


def _limit(plan: Plan, frame: Frame) -> int:
    options = plan.with_fn(frame) if plan.with_fn is not None else None
    limit = options.get("limit") if isinstance(options, dict) else None
    return limit if type(limit) is int and limit > 0 else DEFAULT_LOG_LIMIT


# -- the git command ---------------------------------------------------------------------------


def _git(repository: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """Run git in ``repository`` only: the ceiling stops it from using a parent's repository."""
    if not repository.is_dir():
        raise ActionError(f"Not a Git repository: {repository}")
    environment = {**os.environ, "GIT_CEILING_DIRECTORIES": str(repository.parent)}
    try:
        return subprocess.run(
            ["git", "-C", str(repository), *arguments],
            capture_output=True,
            text=True,
            env=environment,
            timeout=GIT_TIMEOUT_SECONDS,
        )
    except FileNotFoundError:
        raise ActionError("Git is not available: the git command was not found") from None
    except subprocess.TimeoutExpired:
        message = f"Git {arguments[0]}: no answer within {GIT_TIMEOUT_SECONDS:g}s"
        raise ActionError(message) from None


def _checked(repository: Path, *arguments: str) -> str:
    done = _git(repository, *arguments)
    if done.returncode != 0:
        if "not a git repository" in done.stderr.lower():
            raise ActionError(f"Not a Git repository: {repository}")
        raise ActionError(f"Git {arguments[0]}: {done.stderr.strip() or 'failed'}")
    return done.stdout


def _must_be_repository(repository: Path) -> None:
    _checked(repository, "rev-parse", "--git-dir")


def branch(repository: Path) -> str:
    _must_be_repository(repository)
    return _branch(repository)


def _branch(repository: Path) -> str:
    done = _git(repository, "symbolic-ref", "--short", "-q", "HEAD")
    return done.stdout.strip() if done.returncode == 0 else DETACHED


def _head(repository: Path) -> str:
    done = _git(repository, "rev-parse", "-q", "--verify", "HEAD")
    return done.stdout.strip() if done.returncode == 0 else ""


def status(repository: Path) -> dict[str, Any]:
    files = parse_status(_checked(repository, "status", "--porcelain=v1", "-z"))
    return {
        "branch": _branch(repository),
        "commit": _head(repository),
        "clean": not files,
        "files": files,
    }


def parse_status(porcelain: str) -> list[dict[str, str]]:
    """``git status --porcelain=v1 -z`` as ``[{path, status}]``; a rename names its old path."""
    files, entries = [], iter(porcelain.split("\0"))
    for entry in entries:
        if len(entry) < 4:
            continue
        index, worktree, path = entry[0], entry[1], entry[3:]
        if index in "RC":
            path = next(entries, path)  # -z gives the new path, then the old one
        files.append({"path": path, "status": _status_word(index, worktree)})
    return files


def _status_word(index: str, worktree: str) -> str:
    if index == "?":
        return "untracked"
    if index == "A":
        return "added"
    if "M" in (index, worktree):
        return "modified"
    if "D" in (index, worktree):
        return "deleted"
    if index == "R":
        return "renamed"
    return "changed"


def log(repository: Path, limit: int = DEFAULT_LOG_LIMIT) -> list[dict[str, str]]:
    _must_be_repository(repository)
    if not _head(repository):
        return []  # no commit yet
    text = _checked(repository, "log", f"-n{limit}", "--date-order", f"--format={_LOG_FORMAT}")
    return [_commit(record) for record in text.split(_RECORD) if record.strip()]


def _commit(record: str) -> dict[str, str]:
    commit, author, email, seconds, message = record.lstrip("\n").split(_FIELD, 4)
    return {
        "hash": commit,
        "short": commit[:7],
        "message": message.strip(),
        "author": author,
        "email": email,
        "timestamp": values.iso(datetime.fromtimestamp(int(seconds), UTC)),
    }
