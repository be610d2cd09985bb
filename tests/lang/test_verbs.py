"""The verb table: one row per verb, stated as data."""

from __future__ import annotations

import pytest

from aro.lang.verbs import GROUPS, VERBS, Binding, FastPath, VerbRole, role_of


def test_every_verb_stands_in_exactly_one_group() -> None:
    listed = [verb for _, _, verbs in GROUPS for verb in verbs.split()]
    assert len(listed) == len(set(listed)) == len(VERBS)
    assert all(verb == verb.lower() for verb in listed)


def test_lookup_ignores_case_and_a_verb_without_a_row_binds_new() -> None:
    assert role_of("RETRIEVE") is VERBS["retrieve"]
    assert role_of("Frobnicate") == VerbRole(Binding.NEW, FastPath.EXPRESSION)


@pytest.mark.parametrize(
    ("binding", "binds", "may_rebind", "replaces"),
    [
        (Binding.NONE, False, False, False),
        (Binding.NEW, True, False, False),
        (Binding.REBIND, True, True, True),
        (Binding.REQUEST, True, False, True),
        (Binding.ALIAS, True, True, False),
    ],
)
def test_what_each_binding_means(binding, binds, may_rebind, replaces) -> None:
    role = VerbRole(binding, FastPath.RUN)
    assert (role.binds, role.may_rebind, role.replaces) == (binds, may_rebind, replaces)


@pytest.mark.parametrize(
    ("verbs", "binding"),
    [
        # The language's rebinding verbs: exempt from the immutability check, and they replace.
        ("accept update modify change set configure delete remove destroy clear show", "REBIND"),
        ("merge combine join concat", "REBIND"),
        ("retrieve fetch load find extract parse get request probe receive read", "REQUEST"),
        ("publish export expose share", "ALIAS"),
        # Test verbs read their result: it names the value under test.
        ("then assert", "NONE"),
        ("return respond throw send emit log print store write broadcast include", "NONE"),
    ],
)
def test_roles_of_the_language_verbs(verbs: str, binding: str) -> None:
    assert {VERBS[verb].binding for verb in verbs.split()} == {Binding[binding]}


def test_fast_path_policies() -> None:
    assert VERBS["create"].fast_path is FastPath.SPECIFIERS
    assert VERBS["validate"].fast_path is FastPath.EXPRESSION
    assert {VERBS[verb].fast_path for verb in "return throw then assert update".split()} == {
        FastPath.RUN
    }
