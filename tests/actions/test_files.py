"""The file actions end to end: a program run in this process against a temporary working
directory (relative paths resolve against the process's working directory)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from aro.lang.compiler import compile_source
from aro.runtime.app import Application
from aro.runtime.files import FileLines
from aro.vm.errors import StatementError
from aro.vm.frame import Frame
from aro.vm.machine import execute
from tests.support.inproc import run_program, start


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(body: str):
    return run_program(start(body + "\nReturn an <OK: status> for the <test>."))


def test_write_append_read_copy_move(workdir: Path) -> None:
    outcome = run(
        """
        Create the <dir> with "./out/nested".
        CreateDirectory the <made> to the <path: dir>.
        Make the <again> to the <path: dir>.
        Create the <hello> with "./out/nested/hello.txt".
        Create the <text> with "Hello".
        Write the <text> to the <file: hello>.
        Append the <more> to the <file: hello> with "\\nWorld".
        Read the <content: raw> from the <file: hello>.
        Log <content> to the <console>.
        Copy the <file: hello> to the <destination: "./out/copy.txt">.
        Move the <moved: "./out/copy.txt"> to the <destination: "./out/renamed.txt">.
        """
    )
    assert outcome.exit_code == 0, outcome.stdout
    assert outcome.lines[:2] == ["[Application-Start] Hello", "World"]
    assert (workdir / "out/nested/hello.txt").read_text() == "Hello\nWorld"
    assert (workdir / "out/renamed.txt").read_text() == "Hello\nWorld"
    assert not (workdir / "out/copy.txt").exists()


def test_list_sorted_recursive_and_glob(workdir: Path) -> None:
    for path in ("t/b.txt", "t/a.TXT", "t/sub/c.txt", "t/sub/d.md", "t/.hidden"):
        (workdir / path).parent.mkdir(parents=True, exist_ok=True)
        (workdir / path).write_text("x")
    outcome = run(
        """
        List the <top> from the <directory: "t">.
        for each <entry> in <top> { Log <entry: name> to the <console>. }
        List the <all: recursively> from the <directory: "t">.
        Compute the <count: length> from the <all>.
        Log <count> to the <console>.
        List the <texts: "*.txt"> from the <directory: "t">.
        for each <entry> in <texts> { Log <entry: name> to the <console>. }
        """
    )
    names = [line.split("] ", 1)[1] for line in outcome.lines[:-1]]
    assert names == [".hidden", "a.TXT", "b.txt", "sub", "6", "a.TXT", "b.txt"]


def test_list_entry_fields(workdir: Path) -> None:
    (workdir / "d").mkdir()
    (workdir / "d/f.txt").write_text("12345")
    outcome = run(
        """
        List the <entries> from the <directory: "d">.
        for each <e> in <entries> {
            Log "${<e: path>} ${<e: size>} ${<e: isFile>} ${<e: isDirectory>}" to the <console>.
        }
        """
    )
    assert outcome.lines[0] == f"[Application-Start] {workdir / 'd/f.txt'} 5 true false"


def test_stat_and_exists(workdir: Path) -> None:
    (workdir / "f.txt").write_text("abc")
    os.chmod(workdir / "f.txt", 0o640)
    outcome = run(
        """
        Stat the <info> for the <file: "f.txt">.
        Log "${<info: name>} ${<info: size>} ${<info: permissions>}" to the <console>.
        Exists the <a> for the <file: "f.txt">.
        Exists the <b> for the <directory: "f.txt">.
        Exists the <c> for the <directory: ".">.
        Exists the <d> for the <file: "missing.txt">.
        Log "${a} ${b} ${c} ${d}" to the <console>.
        """
    )
    assert outcome.lines[:2] == [
        "[Application-Start] f.txt 3 rw-r-----",
        "[Application-Start] true false true false",
    ]


def test_touch_creates_then_keeps(workdir: Path) -> None:
    outcome = run('Make the <file> to the <path: "deep/er/x.log">.')
    assert outcome.exit_code == 0
    assert (workdir / "deep/er/x.log").read_text() == ""


@pytest.mark.parametrize(
    ("statement", "cause"),
    [
        ('Read the <x> from "missing.txt".', "File not found: missing.txt"),
        ('List the <x> from the <directory: "missing">.', "Directory not found: missing"),
        ('Stat the <x> for the <file: "missing">.', "File not found: missing"),
        ('Copy the <file: "missing"> to the <destination: "b">.', "File not found: missing"),
        ('Stream the <x> from "missing.txt".', "File not found: missing.txt"),
    ],
)
def test_failures_name_the_path(workdir: Path, statement: str, cause: str) -> None:
    outcome = run(statement)
    assert outcome.exit_code == 1
    assert "Traceback" not in outcome.stdout + outcome.stderr
    assert str(failure_of(statement).cause) == cause


def failure_of(statement: str) -> StatementError:
    """The error one statement of Application-Start fails with (its cause is the action's)."""
    app = Application(compile_source(start(statement), "main.aro"), None, {}, {})
    with pytest.raises(StatementError) as failure:
        asyncio.run(execute(Frame(app.entry_point(), app)))
    return failure.value


def test_unreadable_file_is_an_error_not_a_traceback(workdir: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    (workdir / "secret.txt").write_text("x")
    os.chmod(workdir / "secret.txt", 0)
    outcome = run('Read the <x> from "secret.txt".')
    assert outcome.exit_code == 1
    assert "Traceback" not in outcome.stdout + outcome.stderr


def test_stream_yields_every_line_lazily(workdir: Path) -> None:
    (workdir / "lines.txt").write_text("alpha\r\nbravo\n\ncharlie")
    outcome = run(
        """
        Stream the <lines> from "./lines.txt".
        for each <line> in <lines> where <line> != "" { Log <line> to the <console>. }
        """
    )
    assert outcome.lines[:3] == [
        "[Application-Start] alpha",
        "[Application-Start] bravo",
        "[Application-Start] charlie",
    ]


def test_stream_from_a_url_is_left_to_the_network_branch(workdir: Path) -> None:
    """http(s) streams server-sent events (tests/actions/test_http_client.py); WebSocket
    streams are not available."""
    outcome = run('Stream the <events> from "ws://127.0.0.1:9/events".')
    assert outcome.exit_code == 1
    assert "Traceback" not in outcome.stdout + outcome.stderr


def test_binary_file_reads_as_bytes_and_writes_back(workdir: Path) -> None:
    (workdir / "blob.bin").write_bytes(bytes(range(256)))
    outcome = run(
        """
        Read the <blob> from "blob.bin".
        Log <blob> to the <console>.
        Write the <blob> to "copy.bin".
        """
    )
    assert outcome.lines[0] == "[Application-Start] 256 bytes"
    assert (workdir / "copy.bin").read_bytes() == bytes(range(256))


def test_file_lines_read_one_batch_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("aro.runtime.files.LINE_BATCH_BYTES", 64)
    path = tmp_path / "big.txt"
    path.write_text("".join(f"line {n:04}\n" for n in range(1000)))  # 10 bytes a line
    handle = open(path, "rb")  # noqa: SIM115 - FileLines closes it
    lines = FileLines(str(path), handle)
    first = asyncio.run(lines.next_batch())
    assert first[0] == "line 0000" and len(first) <= 7
    assert handle.tell() <= 128  # the rest of the file is still unread
    rest = asyncio.run(lines.collect())
    assert len(first) + len(rest) == 1000 and rest[-1] == "line 0999"
    assert handle.closed


def test_parallel_for_each_takes_a_whole_stream(workdir: Path) -> None:
    (workdir / "n.txt").write_text("1\n2\n3\n")
    outcome = run(
        """
        Stream the <lines> from "n.txt".
        parallel for each <line> in <lines> { Log <line> to the <console>. }
        """
    )
    assert sorted(outcome.lines[:3]) == [f"[Application-Start] {n}" for n in (1, 2, 3)]
