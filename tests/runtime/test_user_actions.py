"""User-defined actions: ``(Name: Action takes <field>)`` called as ``Application.Name``."""

from __future__ import annotations

from tests.support.inproc import run_program

ACTIONS = """
(Triple: Action takes <amount>) {
    Extract the <n> from the <input: amount>.
    Compute the <tripled> from <n> * 3.
    Return an <OK: status> with { tripled: <tripled> }.
}

(Describe: Action) {
    Extract the <name> from the <input: name>.
    Extract the <given-size> from the <input: size>.
    Application.Triple the <t> from <given-size>.
    Extract the <size> from the <t: tripled>.
    Return a <Created: status> for the <label> with { text: "${<name>}:${<size>}" }.
}

(Inputs: Action) {
    Return an <OK: status> with <input>.
}
"""


def run(body: str):
    return run_program(ACTIONS + "(Application-Start: Demo) {\n" + body + "\n}\n")


def test_takes_sugar_binds_a_literal_or_a_variable_as_the_field() -> None:
    outcome = run(
        "Application.Triple the <a> from 4.\n"
        "Create the <n> with 5.\n"
        "Application.Triple the <b> from the <n>.\n"
        "Log <a: tripled> to the <console>.\n"
        "Log <b: tripled> to the <console>."
    )
    assert outcome.lines == ["[Application-Start] 12", "[Application-Start] 15", "[OK] success"]


def test_with_map_is_the_input_and_actions_nest() -> None:
    outcome = run(
        'Application.Describe the <d> with { name: "box", size: 2 }.\n'
        "Log <d: text> to the <console>.\n"
        "Log <d: status> to the <console>.\n"
        "Log <d: reason> to the <console>."
    )
    assert outcome.lines[:3] == [
        "[Application-Start] box:6",
        "[Application-Start] Created",
        "[Application-Start] label",
    ]


def test_a_map_object_is_the_input_and_no_object_means_empty() -> None:
    outcome = run(
        "Create the <args> with { k: 1 }.\n"
        "Application.Inputs the <a> from the <args>.\n"
        "Application.Inputs the <b> for the <nothing>.\n"
        "Log <a: k> to the <console>.\n"
        "Log <b> to the <console>."
    )
    assert outcome.lines[:3] == [
        "[Application-Start] 1",
        "[Application-Start] reason: _expression_",
        "status: OK",
    ]  # a multi-line Log prefixes its first line; an empty input adds nothing to the response


def test_unknown_actions_fail_with_their_name() -> None:
    outcome = run("Application.Missing the <x> from 1.\nHash.Nothing the <y> from 2.")
    assert outcome.exit_code == 1
    assert "Cannot application.missing the x from the _expression_." in outcome.stdout
