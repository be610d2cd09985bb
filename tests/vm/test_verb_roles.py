"""The compiler and the VM read one verb table, and every action's verb has a row in it."""

from __future__ import annotations

import pytest

import aro.actions  # noqa: F401 - registers every action
from aro.lang.compiler import compile_source
from aro.lang.diagnostics import AroSyntaxError
from aro.lang.verbs import VERBS, FastPath, role_of
from aro.vm import registry
from aro.vm.plan import BIND_ALWAYS, BIND_IF_NEW, BIND_NEVER, Plan
from tests.support.inproc import run_program, start

# ``Publish`` is a reserved word: ``Publish as <alias> <var>.`` is a statement, so the action is
# reached through its synonyms.
SPELLABLE = sorted(VERBS.keys() - {"publish"})


def test_every_registered_verb_has_a_row() -> None:
    assert registry.ACTIONS
    assert [verb for verb in registry.ACTIONS if verb not in VERBS] == []


def test_registering_a_verb_without_a_row_fails_at_once() -> None:
    with pytest.raises(ValueError, match=r"no row in the verb table \(aro.lang.verbs\) for Zap"):
        registry.action("Zap", prepositions=("with",))
    assert registry.lookup("zap") is None


def _plan(source: str, index: int = -1) -> Plan:
    (code,) = compile_source(source).code_objects
    return Plan(code.statements[index], code.name, code.activity)


def _compiles(source: str) -> bool:
    try:
        compile_source(source)
    except AroSyntaxError as error:
        assert "Cannot rebind variable 'x'" in str(error)
        return False
    return True


@pytest.mark.parametrize("verb", SPELLABLE)
def test_compiler_and_vm_read_the_same_row(verb: str) -> None:
    role = role_of(verb)
    statement = f"{verb.capitalize()} the <x> for the <y>."
    # Compiler: a binding verb gets its own slot in a loop body; rebinding may be an error.
    in_loop = start(f"Create the <x> with 1.\nfor each <i> in <x> {{ {statement} }}")
    (code,) = compile_source(in_loop).code_objects
    assert (code.statements[-1].result.slot != code.statements[0].result.slot) is role.binds
    assert _compiles(start(f"Create the <x> with 1.\n{statement}")) is not (
        role.binds and not role.may_rebind
    )
    # VM: how the linked statement binds.
    expected = BIND_ALWAYS if role.replaces else BIND_IF_NEW if role.binds else BIND_NEVER
    assert _plan(start(statement)).bind_mode == expected


@pytest.mark.parametrize("verb", SPELLABLE)
def test_fast_path_follows_the_row(verb: str) -> None:
    policy = role_of(verb).fast_path
    plain = _plan(start(f"{verb.capitalize()} the <x> with 5.")).fast_path
    specified = _plan(start(f"{verb.capitalize()} the <x: y> with 5.")).fast_path
    assert plain is (policy is not FastPath.RUN)
    assert specified is (policy is FastPath.EXPRESSION)


# -- the verbs the compiler and the VM used to disagree on -------------------------------------


def _lines(body: str) -> list[str]:
    outcome = run_program(start(body))
    assert outcome.exit_code == 0, outcome.stdout + outcome.stderr
    prefix = "[Application-Start] "
    return [line.removeprefix(prefix) for line in outcome.lines if line.startswith(prefix)]


def test_an_alias_published_in_a_loop_body_stays_in_that_iteration() -> None:
    lines = _lines(
        "Create the <xs> with [1, 2].\n"
        "for each <x> in <xs> {\n"
        "    Export the <latest> with <x>.\n"
        '    Log "in: ${<latest>}" to the <console>.\n'
        "}\n"
        'Log "after: ${<latest> exists}" to the <console>.'
    )
    assert lines == ["in: 1", "in: 2", "after: false"]


def test_publishing_under_a_bound_name_is_no_error_and_the_binding_stays() -> None:
    lines = _lines(
        "Create the <x> with 1.\nExport the <x> with 2.\nShare the <x> with 3.\n"
        "Log <x> to the <console>."
    )
    assert lines == ["1"]


def test_configure_and_delete_rebind_like_update() -> None:
    lines = _lines(
        "Create the <settings> with { a: 1 }.\n"
        "Configure the <settings: timeout> with 30.\n"
        "Delete the <settings: a> from the <settings>.\n"
        "Log <settings> to the <console>."
    )
    assert lines == ["timeout: 30"]


def test_test_verbs_read_a_bound_result_without_a_compile_error() -> None:
    compile_source(start("Create the <v> with 1.\nThen the <v> with 1.\nAssert the <v> for 1."))


@pytest.mark.parametrize(
    ("statement", "specialized"),
    [
        ("Extract the <x> from the <event: message>.", True),
        ("Extract the <x: first> from the <event: items>.", False),  # a result specifier
        ("Extract the <x> from the <env: HOME>.", False),
        ("Extract the <x> to the <event: message>.", False),  # its error stays the action's
        ("Send the <x> to the <websocket-connection: id>.", True),
        ("Send the <x> to the <client>.", False),
        ("Broadcast the <x> to the <websocket>.", True),
    ],
)
def test_an_action_may_specialize_itself_when_a_statement_is_linked(
    statement: str, specialized: bool
) -> None:
    plan = _plan(start(statement))
    assert (plan.func is not plan.spec.func) is specialized
