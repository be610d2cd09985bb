"""Every code block of the user guide (docs/guide/*.md) runs, so the guide cannot drift.

Each page runs in a fresh temporary directory, its blocks in order:

* ```` ```aro file=PATH ````, ```` ```yaml file=PATH ```` and any block with ``file=PATH``: the
  text is written to PATH (relative to the page's directory). With ``same-as=REPOPATH`` too, the
  text must equal that file of the repository (a tutorial quoting an example stays the example).
* ```` ```aro ```` without a file: compiled; it must have no diagnostics.
* ```` ```console ````: lines starting with ``$ `` are commands run by ``sh``; the lines that
  follow, up to the next command, are its expected output (stdout then stderr, exactly; an empty
  expectation checks nothing but the exit status, which must be 0 unless the next line is
  ``[exit N]``; test durations print as ``(<1ms)``). ``aro`` is the tree under test. A command
  ending in `` &`` starts a server in the background: the page waits for its "started on port"
  line and stops it (by PID) at the end of the page. Port 8080 in commands and output is
  replaced by a free port.
* ```` ```python ````: run as a script in the page's directory (the servers started so far keep
  running); it must exit 0.
* ```` ```sh ````: commands that must exit 0, except ``pip install …`` of this project, which is
  checked against our metadata (the package name and extras) instead of downloading it.
* ```` ```nginx ````: a server configuration, checked by ``nginx -t`` inside an ``http`` block
  (``.ci/run`` installs nginx).
* ```` ```text ```` blocks are not allowed: output belongs under its command in a console block.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from aro.lang.compiler import compile_source
from aro.lang.diagnostics import AroSyntaxError

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "guide"
FENCE = re.compile(r"^```(\S*)(.*?)\n(.*?)^```$", re.M | re.S)
STARTED = re.compile(r"started on port (\d+)")
EXIT_LINE = re.compile(r"^\[exit (\d+)\]$")
DOCUMENTED_PORT = "8080"
COMMAND_TIMEOUT = 60


@dataclass(frozen=True)
class Block:
    language: str
    options: dict[str, str]
    text: str
    line: int


def blocks_of(page: Path) -> list[Block]:
    source = page.read_text()
    found = []
    for match in FENCE.finditer(source):
        options = dict(item.split("=", 1) for item in match.group(2).split() if "=" in item)
        line = source.count("\n", 0, match.start()) + 1
        found.append(Block(match.group(1), options, match.group(3), line))
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PageRun:
    """The state of one page: its directory, its port, the servers it started."""

    def __init__(self, page: Path, directory: Path) -> None:
        self.page = page
        self.directory = directory
        self.port = str(free_port())
        self.servers: list[subprocess.Popen] = []
        shims = directory / ".bin"
        shims.mkdir()
        aro = shims / "aro"
        aro.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m aro "$@"\n')
        aro.chmod(0o755)
        # No inherited ARO_* settings: the guide shows what a fresh shell gets.
        self.environment = {k: v for k, v in os.environ.items() if not k.startswith("ARO_")}
        self.environment.update(PATH=f"{shims}:{os.environ['PATH']}", PYTHONPATH=str(ROOT),
                                PYTHONUNBUFFERED="1", ARO_HTTP_PORT=self.port)

    def where(self, block: Block) -> str:
        return f"{self.page.relative_to(ROOT)}:{block.line}"

    def localize(self, text: str) -> str:
        return text.replace(DOCUMENTED_PORT, self.port)

    def run(self, block: Block) -> None:
        if quoted := block.options.get("same-as"):
            assert block.text == (ROOT / quoted).read_text(), f"{self.where(block)}: not {quoted}"
        if "file" in block.options:
            target = self.directory / block.options["file"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.text)
        elif block.language == "aro":
            self.compile_snippet(block)
        elif block.language == "console":
            self.console(block)
        elif block.language == "python":
            self.shell(block, [sys.executable, "-c", self.localize(block.text)])
        elif block.language == "nginx":
            self.check_nginx(block)
        elif block.language == "sh":
            for command in block.text.splitlines():
                if command.strip() and not command.lstrip().startswith("#"):
                    self.sh_line(block, command)
        else:
            pytest.fail(f"{self.where(block)}: a {block.language or 'plain'} block cannot be run")

    def compile_snippet(self, block: Block) -> None:
        try:
            compile_source(block.text, "guide.aro")
        except AroSyntaxError as error:
            pytest.fail(f"{self.where(block)}: the snippet does not compile:\n{error}")

    def check_nginx(self, block: Block) -> None:
        nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
        assert nginx, f"{self.where(block)}: nginx is not installed (.ci/run installs it)"
        prefix = self.directory / "nginx"
        prefix.mkdir(exist_ok=True)
        config = prefix / "nginx.conf"
        config.write_text(f"pid {prefix}/nginx.pid;\nevents {{}}\nhttp {{\n{block.text}}}\n")
        self.shell(block, [nginx, "-t", "-q", "-e", "stderr", "-p", str(prefix), "-c", str(config)])

    def sh_line(self, block: Block, command: str) -> None:
        words = shlex.split(command)
        if Path(words[0]).name == "pip" and words[1:2] == ["install"]:
            check_install_command(self.where(block), words)
            return
        self.shell(block, ["sh", "-c", self.localize(command)])

    def shell(self, block: Block, argv: list[str]) -> subprocess.CompletedProcess:
        result = subprocess.run(argv, cwd=self.directory, env=self.environment, text=True,
                                capture_output=True, timeout=COMMAND_TIMEOUT)
        assert result.returncode == 0, (
            f"{self.where(block)}: {argv[-1]!r} exited {result.returncode}\n"
            f"{result.stdout}{result.stderr}")
        return result

    def console(self, block: Block) -> None:
        for command, expected in commands_of(block.text):
            if command.endswith(" &"):
                self.start_server(block, command[:-2])
                continue
            status = 0
            if expected and (exit_line := EXIT_LINE.match(expected[-1])):
                status, expected = int(exit_line.group(1)), expected[:-1]
            result = subprocess.run(["sh", "-c", self.localize(command)], cwd=self.directory,
                                    env=self.environment, text=True, capture_output=True,
                                    timeout=COMMAND_TIMEOUT)
            shown = (result.stdout + result.stderr).rstrip("\n")
            where = f"{self.where(block)}: $ {command}"
            assert result.returncode == status, f"{where}: exit {result.returncode}\n{shown}"
            if expected:
                wanted = self.localize("\n".join(expected)).rstrip("\n")
                assert _lines(shown) == _lines(wanted), f"{where}\n--- got\n{shown}"

    def start_server(self, block: Block, command: str) -> None:
        server = subprocess.Popen(["sh", "-c", f"exec {self.localize(command)}"],
                                  cwd=self.directory, env=self.environment, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.servers.append(server)
        deadline = time.monotonic() + 20
        seen = []
        while time.monotonic() < deadline:
            line = server.stdout.readline()
            if not line:
                break
            seen.append(line)
            if STARTED.search(line):
                return
        pytest.fail(f"{self.where(block)}: {command!r} did not start:\n{''.join(seen)}")

    def stop_servers(self) -> None:
        for server in self.servers:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


TEST_DURATION = re.compile(r"\(\d+ms\)$")


def _lines(text: str) -> list[str]:
    return [TEST_DURATION.sub("(<1ms)", line.rstrip()) for line in text.splitlines()]


def commands_of(text: str) -> list[tuple[str, list[str]]]:
    commands: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], []))
        elif commands:
            commands[-1][1].append(line)
        elif line.strip():
            raise AssertionError(f"output before the first command: {line!r}")
    return commands


def check_install_command(where: str, words: list[str]) -> None:
    """``pip install aro-py[extras]``: our name, and extras the project defines."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    targets = [w for w in words[words.index("install") + 1:] if not w.startswith("-")]
    assert targets, f"{where}: pip install of nothing"
    for target in targets:
        name, _, extras = target.partition("[")
        assert name == project["name"], f"{where}: installs {name!r}, not {project['name']!r}"
        for extra in filter(None, extras.rstrip("]").split(",")):
            assert extra in project["optional-dependencies"], f"{where}: no extra {extra!r}"


PAGES = sorted(GUIDE.glob("*.md"))


@pytest.mark.parametrize("page", PAGES, ids=[page.stem for page in PAGES])
def test_every_block_of_the_page_runs(page: Path, tmp_path: Path) -> None:
    run = PageRun(page, tmp_path)
    try:
        for block in blocks_of(page):
            run.run(block)
    finally:
        run.stop_servers()


def test_the_guide_has_pages_and_every_page_is_linked_from_its_index() -> None:
    index = (GUIDE / "README.md").read_text()
    assert len(PAGES) > 1
    for page in PAGES:
        if page.name != "README.md":
            assert f"({page.name})" in index, f"{page.name} is not linked from the guide's index"
