"""Retrieve … from the <git>: status, log and branch of a real repository made in the test."""

import asyncio
import subprocess
import threading
from pathlib import Path

import pytest

from aro.actions import git
from aro.lang.compiler import compile_source
from aro.vm.errors import StatementError
from aro.vm.frame import Frame
from aro.vm.machine import execute
from tests.support.inproc import run_program, start

IDENTITY = {
    "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.com",
    "GIT_AUTHOR_DATE": "2025-01-02T03:04:05Z", "GIT_COMMITTER_DATE": "2025-01-02T03:04:05Z",
}  # fmt: skip


def sh(repository: Path, *arguments: str) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(repository), **IDENTITY}
    subprocess.run(["git", *arguments], cwd=repository, env=env, check=True, capture_output=True)


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """Two commits on ``main``; then a modified, a deleted, an added and an untracked file."""
    root = tmp_path / "repo"
    root.mkdir()
    sh(root, "init", "-q", "-b", "main")
    for name in ("a.txt", "b.txt", "c.txt"):
        (root / name).write_text(name)
    sh(root, "add", ".")
    sh(root, "commit", "-q", "-m", "First commit\n\nwith a body")
    (root / "a.txt").write_text("changed")
    sh(root, "commit", "-q", "-am", "Second commit")
    (root / "a.txt").write_text("changed again")
    (root / "b.txt").unlink()
    (root / "new.txt").write_text("new")
    sh(root, "add", "new.txt")
    (root / "loose.txt").write_text("loose")
    return root


def retrieve(repository: Path, statement: str) -> list[str]:
    program = start(statement.replace("<git>", f'<git: "{repository}">'))
    return run_program(program).lines


def test_status_names_the_branch_the_head_and_each_changed_file(repository):
    status = git.status(repository)
    assert status["branch"] == "main" and len(status["commit"]) == 40
    assert status["clean"] is False
    assert sorted(status["files"], key=lambda f: f["path"]) == [
        {"path": "a.txt", "status": "modified"},
        {"path": "b.txt", "status": "deleted"},
        {"path": "loose.txt", "status": "untracked"},
        {"path": "new.txt", "status": "added"},
    ]


def test_a_rename_is_reported_under_its_old_path():
    porcelain = "R  after.txt\0before.txt\0?? x\0"
    assert git.parse_status(porcelain) == [
        {"path": "before.txt", "status": "renamed"},
        {"path": "x", "status": "untracked"},
    ]


def test_log_lists_the_newest_commit_first_with_its_author(repository):
    second, first = git.log(repository)
    assert second["message"] == "Second commit"
    assert first["message"] == "First commit\n\nwith a body"
    assert second["short"] == second["hash"][:7]
    assert (first["author"], first["email"]) == ("Ada", "ada@example.com")
    assert first["timestamp"] == "2025-01-02T03:04:05Z"
    assert len(git.log(repository, limit=1)) == 1


def test_retrieve_statements_read_the_repository(repository):
    lines = retrieve(
        repository,
        "Retrieve the <status> from the <git>.\n"
        'Log "branch " ++ <status: branch> ++ ", clean " ++ <status: clean> to the <console>.\n'
        "Retrieve the <history> from the <git> with { limit: 1 }.\n"
        "for each <entry> in <history> { Log <entry: message> to the <console>. }\n"
        "Retrieve the <name: branch> from the <git>.\n"
        "Log <name> to the <console>.",
    )
    assert lines[:3] == [
        "[Application-Start] branch main, clean false",
        "[Application-Start] Second commit",
        "[Application-Start] main",
    ]


def test_a_clean_repository_without_commits_and_a_detached_head(tmp_path):
    root = tmp_path / "empty"
    root.mkdir()
    sh(root, "init", "-q", "-b", "trunk")
    assert git.log(root) == []
    assert git.status(root) == {"branch": "trunk", "commit": "", "clean": True, "files": []}
    (root / "f").write_text("f")
    sh(root, "add", "f")
    sh(root, "commit", "-q", "-m", "only")
    sh(root, "checkout", "-q", "--detach")
    assert git.branch(root) == "detached HEAD"


def test_a_directory_inside_a_repository_is_not_one(run, repository, tmp_path):
    inner = repository / "sub"
    inner.mkdir()
    for path in (inner, tmp_path / "missing"):
        with pytest.raises(StatementError) as error:
            run(f'Retrieve the <status> from the <git: "{path}">.')
        assert str(error.value.cause) == f"Not a Git repository: {path}"


def test_git_runs_off_the_event_loop(repository, monkeypatch, services):
    """Each git command waits until the loop has ticked: run on the loop's own thread, it
    would wait for ever (here: fail after 10 s)."""
    ticked = threading.Event()
    real_run = subprocess.run

    def run_after_a_tick(*arguments, **options):
        assert ticked.wait(timeout=10), "the event loop was blocked while git ran"
        return real_run(*arguments, **options)

    monkeypatch.setattr(git.subprocess, "run", run_after_a_tick)
    code = compile_source(
        f'(Test: Git) {{ Retrieve the <status> from the <git: "{repository}">. }}', "t.aro"
    ).code_objects[0]

    async def scenario() -> Frame:
        async def tick() -> None:
            await asyncio.sleep(0)
            ticked.set()

        ticker = asyncio.get_running_loop().create_task(tick())
        frame = Frame(code, services())
        await execute(frame)
        await ticker
        return frame

    assert asyncio.run(scenario()).lookup("status")["branch"] == "main"
