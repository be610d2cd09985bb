"""Clear, Show, Render and ``<terminal>``: plain output without a TTY, ANSI with one."""

from __future__ import annotations

import io

from aro.runtime.terminal import ConsoleTerminal
from tests.support.inproc import run_program, start


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_without_a_tty_clear_and_show_do_nothing_and_render_prints_as_is():
    outcome = run_program(start("""
        Clear the <screen> for the <terminal>.
        Clear the <cursor> for the <terminal>.
        Create the <menu> with "line one\\nline two".
        Render the <menu> to the <console>.
        Show the <cursor> for the <terminal>.
    """))
    assert outcome.exit_code == 0, outcome.stdout
    assert outcome.stdout.startswith("line one\nline two\n")
    assert "\x1b" not in outcome.stdout


def test_clear_on_a_repository_still_deletes():
    outcome = run_program(start("""
        Create the <note> with { text: "a" }.
        Store the <note> into the <notes-repository>.
        Clear the <all> from the <notes-repository>.
        Retrieve the <notes> from the <notes-repository>.
        Compute the <left: count> from <notes>.
        Log <left> to the <console>.
    """))
    assert "[Application-Start] 0" in outcome.lines


def test_clear_names_what_it_can_clear():
    outcome = run_program(start("Clear the <window> for the <terminal>."))
    assert outcome.exit_code == 1
    assert "Cannot clear the window for the terminal." in outcome.stdout


def test_terminal_in_a_template_without_a_tty(tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "size.screen").write_text(
        "{{ <terminal: columns> }}x{{ <terminal: rows> }} tty={{ <terminal: is_tty> }}"
    )
    outcome = run_program(
        start("""
            Transform the <size> from the <template: size.screen>.
            Render the <size> to the <console>.
        """),
        root=tmp_path,
    )
    assert outcome.lines[0] == "80x24 tty=false"


def test_on_a_tty_controls_are_ansi_sequences():
    out = FakeTty()
    terminal = ConsoleTerminal(out, {"TERM": "xterm"})
    for command in ("clear-screen", "hide-cursor", "clear-line", "show-cursor"):
        terminal.control(command)
    assert out.getvalue() == "\x1b[2J\x1b[H\x1b[?25l\x1b[2K\r\x1b[?25h"
    assert terminal.describe()["is_tty"] is True


def test_on_a_tty_a_section_rendered_again_is_redrawn_in_place():
    out = FakeTty()
    terminal = ConsoleTerminal(out, {})
    terminal.render("header", "H1\nH2")
    terminal.render("body", "B1")
    start_of_redraw = len(out.getvalue())
    terminal.render("header", "X1")  # shorter, with a section below: keeps its two lines
    assert out.getvalue()[start_of_redraw:] == "\x1b[3A\r\x1b[2KX1\n\x1b[2K\n\x1b[1B"
    start_of_redraw = len(out.getvalue())
    terminal.render("body", "Y1\nY2")  # the last section may grow
    assert out.getvalue()[start_of_redraw:] == "\x1b[1A\r\x1b[2KY1\n\x1b[2KY2\n\x1b[J"
