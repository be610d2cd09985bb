"""Compile-time checks and the shape of the emitted code objects."""

from __future__ import annotations

import pytest

from aro.lang.bytecode import Op
from aro.lang.compiler import compile_source
from aro.lang.diagnostics import AroSyntaxError
from aro.lang.disasm import disassemble_program


def errors_of(source: str) -> list[str]:
    with pytest.raises(AroSyntaxError) as caught:
        compile_source(source, "app.aro")
    return [str(d) for d in caught.value.diagnostics]


def test_rebinding_an_immutable_name_is_an_error_with_its_position() -> None:
    (message,) = errors_of(
        "(Application-Start: T) {\n"
        "    Create the <x> with 1.\n"
        "    Compute the <x> from <x> + 1.\n"
        "}\n"
    )
    assert message.startswith(
        "app.aro:3:18: error: Cannot rebind variable 'x' - variables are immutable"
    )
    assert message.splitlines()[1:] == [
        "    Compute the <x> from <x> + 1.",
        "                 ^",
        "  hint: Variable 'x' was already defined earlier in this feature set",
        "  hint: Create a new variable with a different name instead",
    ]


@pytest.mark.parametrize(
    "body",
    [
        "Create the <x> with 1.\n Update the <x> with 2.",  # rebinding verb
        "Create the <_x> with 1.\n Create the <_x> with 2.",  # internal name
        "Create the <n> with 1.\n while <n> < 3 { Compute the <n> from <n> + 1. }",
        "Create the <xs> with [1].\n for each <i> in <xs> { Create the <y> with 1. }\n"
        " Create the <y> with 2.",  # a loop's bindings are not the feature set's
        "Create the <c> with 1.\n match <c> { case 1 { Create the <y> with 1. }"
        " otherwise { Create the <y> with 2. } }",
    ],
)
def test_allowed_rebindings(body: str) -> None:
    compile_source("(Application-Start: T) {\n " + body + "\n}\n")


def test_duplicate_feature_sets_and_event_cycles_are_reported_together() -> None:
    messages = errors_of(
        "(Twice: Alpha) { }\n"
        "(Twice: Beta) { }\n"
        "(Answer Ping: Ping Handler) { Emit a <Pong: event> with 1. }\n"
        "(Answer Pong: Pong Handler) { Emit a <Ping: event> with 1. }\n"
    )
    assert any("Duplicate feature set name 'Twice'" in m for m in messages)
    assert any("Circular event chain detected: Ping -> Pong -> Ping" in m for m in messages)


def test_application_end_may_have_one_handler_per_activity() -> None:
    program = compile_source(
        "(Application-End: Success) { }\n(Application-End: Error) { }\n"
    )
    assert [code.activity for code in program.code_objects] == ["Success", "Error"]
    messages = errors_of("(Application-End: Error) { }\n(Application-End: Error) { }\n")
    assert any("Duplicate feature set name 'Application-End'" in m for m in messages)


def test_each_feature_set_becomes_a_flat_code_object() -> None:
    program = compile_source(
        "(Application-Start: T) {\n"
        "    Create the <xs> with [1, 2].\n"
        "    for each <x> in <xs> { Log <x> to the <console>. }\n"
        "    while false { break. }\n"
        "}\n"
    )
    (code,) = program.code_objects
    ops = [op for op, _ in code.instructions]
    assert ops == [
        Op.STMT, Op.FOR_INIT, Op.FOR_NEXT, Op.STMT, Op.JUMP, Op.JUMP_IF_NOT, Op.JUMP, Op.JUMP
    ]  # fmt: skip
    assert code.slot_names[:2] == ["xs", "x"]
    listing = disassemble_program(program)
    assert "FOR_NEXT" in listing and "Log <x> to the <console>." in listing


def test_bracketed_and_bare_verbs_compile_to_the_same_code() -> None:
    bare = compile_source("(S: T) { Extract the <a> from the <b: c>. }")
    bracketed = compile_source("(S: T) { <Extract> the <a> from the <b: c>. }")
    assert disassemble_program(bare) == disassemble_program(bracketed)
