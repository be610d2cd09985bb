"""The keyboard: keys typed on a real pseudo-terminal reach the KeyPress handlers of an
``aro run`` process, and the terminal gets its mode back however listening ends."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from aro.runtime.keyboard import PASTE_MODE_OFF, PASTE_MODE_ON, KeyDecoder, cbreak
from tests.support.inproc import run_program, start
from tests.support.live import ROOT

KEYS_APP = """
(Application-Start: Keys) {
    Listen the <keyboard> to the <stdin>.
    Log "listening" to the <console>.
    Keepalive the <application> for the <events>.
    Return an <OK: status> for the <startup>.
}

(Show Key: KeyPress Handler) {
    Extract the <pressed> from the <event: key>.
    Log "key " ++ <pressed> to the <console>.
    Return an <OK: status> for the <key>.
}

(Confirm: KeyPress Handler<key:enter>) {
    Log "confirmed " ++ <key> to the <console>.
    Return an <OK: status> for the <confirmation>.
}

(Quit: KeyPress Handler<key:q>) {
    Stop the <keyboard> with <application>.
    Log "stopped" to the <console>.
    Return an <OK: status> for the <quit>.
}

(Application-End: Success) {
    Log "ended" to the <console>.
    Return an <OK: status> for the <shutdown>.
}
"""
ECHO_AND_LINES = termios.ECHO | termios.ICANON
DEADLINE_SECONDS = 15.0


# -- decoding -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "keys"),
    [
        (b"\x1b[A\x1b[B\x1b[C\x1b[D", ["up", "down", "right", "left"]),
        (b"\x1bOA\x1bOD", ["up", "left"]),  # application cursor mode
        (b"\r\n\t\x7f", ["enter", "enter", "tab", "backspace"]),
        (b"aZ 9~", ["a", "Z", " ", "9", "~"]),
        (b"\x1b", ["escape"]),
        (b"\x1bq", ["escape", "q"]),
        (b"\x1b[Z", ["escape", "[", "Z"]),  # an unknown sequence: its bytes are keys
        (b"\x1b[", ["escape", "["]),  # cut short by the read
        (b"\x01\x00\xc3\xa9x", ["x"]),  # control bytes and non-ASCII name no key
    ],
)  # fmt: skip
def test_keys_are_decoded_and_named_as_the_reference_names_them(typed, keys):
    assert KeyDecoder().feed(typed) == keys


def test_a_paste_is_text_even_when_it_spans_reads_and_holds_an_escape():
    decoder = KeyDecoder()
    assert decoder.feed(b"\x1b[200~a\x1b[A") == ["a", "[", "A"]
    assert decoder.in_paste
    assert decoder.feed(b"b\x1b[201~\x1b[A") == ["b", "up"]
    assert not decoder.in_paste


def test_cbreak_mode_stops_echo_line_editing_and_ctrl_s_but_keeps_ctrl_c_and_line_breaks():
    lflag = ECHO_AND_LINES | termios.ISIG | termios.IEXTEN
    mode = [termios.IXON, termios.OPOST, 0, lflag, 9600, 9600, [b"\x00"] * termios.NCCS]
    iflag, oflag, _, lflag, _, _, control_chars = cbreak(mode)
    assert lflag & (ECHO_AND_LINES | termios.IEXTEN) == 0 and iflag & termios.IXON == 0
    assert lflag & termios.ISIG and oflag & termios.OPOST
    assert (control_chars[termios.VMIN], control_chars[termios.VTIME]) == (1, 0)


# -- without a terminal -------------------------------------------------------------------------


def test_without_a_terminal_listening_does_nothing_and_keepalive_returns():
    outcome = run_program(start("""
        Listen the <keyboard> to the <stdin>.
        Keepalive the <application> for the <events>.
        Log "done" to the <console>.
    """))
    assert outcome.exit_code == 0, outcome.stdout
    assert "[Application-Start] done" in outcome.lines


# -- on a pseudo-terminal -----------------------------------------------------------------------


class TerminalApp:
    """``aro run`` with a pseudo-terminal as stdin, stdout and stderr: the test types on the
    master side and reads what the program writes there."""

    def __init__(self, process: subprocess.Popen, master: int, terminal: int) -> None:
        self.process = process
        self.master = master
        self.terminal = terminal  # our copy of the terminal side, to read its mode
        self.output = ""

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def wait_for(self, text: str) -> None:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while text not in self.output:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"{text!r} never came; output so far: {self.output!r}"
            readable, _, _ = select.select([self.master], [], [], remaining)
            if readable:
                self.output += os.read(self.master, 4096).decode(errors="replace")

    def echoes(self) -> bool:
        return termios.tcgetattr(self.terminal)[3] & ECHO_AND_LINES == ECHO_AND_LINES

    def exit_code(self) -> int:
        code = self.process.wait(timeout=DEADLINE_SECONDS)
        with_rest = select.select([self.master], [], [], 0)[0]
        if with_rest:
            self.output += os.read(self.master, 4096).decode(errors="replace")
        return code


@contextmanager
def terminal_app(tmp_path: Path) -> Iterator[TerminalApp]:
    (tmp_path / "main.aro").write_text(KEYS_APP)
    master, terminal = pty.openpty()
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "aro", "run", str(tmp_path)],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        cwd=ROOT,
        env=environment,
    )
    try:
        yield TerminalApp(process, master, terminal)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait()
        os.close(master)
        os.close(terminal)


def test_each_key_runs_the_handlers_that_hear_it_and_stop_ends_the_application(tmp_path):
    with terminal_app(tmp_path) as app:
        app.wait_for("listening")
        assert not app.echoes()
        app.type(b"\x1b[Ax")
        app.wait_for("key x")
        app.type(b"\r")
        app.wait_for("confirmed enter")
        app.type(b"\x1b[200~\x1bz\x1b[201~")
        app.wait_for("key z")
        app.type(b"q")
        app.wait_for("stopped")
        assert app.exit_code() == 0
        assert app.echoes()
    lines = [line.split("] ", 1)[-1] for line in app.output.splitlines()]
    assert lines.index("key up") < lines.index("key x") < lines.index("key enter")
    assert "key escape" not in lines  # the ESC inside the paste was text
    assert app.output.index(PASTE_MODE_ON.decode()) < app.output.index(PASTE_MODE_OFF.decode())
    assert "key q" in lines and lines.index("stopped") < lines.index("ended")


def test_the_terminal_gets_its_mode_back_when_the_application_is_stopped(tmp_path):
    with terminal_app(tmp_path) as app:
        app.wait_for("listening")
        assert not app.echoes()
        os.kill(app.process.pid, signal.SIGTERM)
        assert app.exit_code() == 0
        assert app.echoes()
    assert "ended" in app.output
