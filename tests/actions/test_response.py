import time

import pytest

from aro.vm.errors import ThrownError


def test_return_status_reason_and_dict_payload(run):
    result = run(
        'Create the <user> with { name: "Ada", address: { city: "Paris" }, tags: ["a"] }.\n'
        "Return a <Created: status> for the <signup> with <user>.\n"
        'Log "unreachable" to the <console>.'
    )
    response = result.response
    assert (response.status, response.reason) == ("Created", "signup")
    assert response.payload == {"name": "Ada", "address.city": "Paris", "tags": ["a"]}
    assert result.services.logs == []


@pytest.mark.parametrize(
    ("value", "payload"),
    [
        ("[1, 2]", {"data": [1, 2]}),
        ("42", {"value": 42}),
        ('"plain"', {"value": "plain"}),
        ('"{\\"a\\": 1, \\"b\\": {\\"c\\": 2}}"', {"a": 1, "b": '{"c":2}'}),
        ("{ nested: {} }", {}),
    ],
)
def test_return_with_expression(run, value, payload):
    response = run(f"Return an <OK: status> with {value}.").response
    assert response.payload == payload
    assert response.reason == "_expression_"


def test_return_with_a_map_of_plain_values_answers_that_map_unchanged(run):
    result = run(
        'Create the <message> with { text: "hi", n: 1, tags: ["a"] }.\n'
        "Return a <Created: status> with <message>."
    )
    assert result.response.payload == {"text": "hi", "n": 1, "tags": ["a"]}
    assert result.response.payload is result["message"]  # shared, not copied
    assert result.response.reason == "_expression_"


@pytest.mark.parametrize(
    ("statement", "code"),
    [
        ("Return a <Created: status> with <n>.", 201),  # linked: looked up once
        ("Return a <Teapot: status> with <n>.", 200),  # an unknown name answers 200
        ("Return a <NotFound: status> for the <n>.", 0),  # general: looked up when encoded
    ],
)
def test_a_linked_return_carries_its_http_code(run, statement, code):
    assert run(f"Compute the <n> from 1.\n{statement}").response.code == code


def test_return_with_an_empty_map_borrows_a_fallback_value(run):
    result = run('Create the <message> with "Hello".\nReturn an <OK: status> with {}.')
    assert result.response.payload == {"value": "Hello"}


def test_return_for_the_object_copies_its_value(run):
    result = run(
        'Create the <user> with { id: 1, name: "Ada" }.\nReturn an <OK: status> for the <user>.'
    )
    assert result.response.payload == {"user.id": 1, "user.name": "Ada"}


def test_return_borrows_a_fallback_value(run):
    result = run(
        'Create the <data> with { name: "Ada" }.\n'
        'Create the <greeting> with "Hello".\n'
        "Return an <OK: status> for the <demo>."
    )
    assert result.response.payload == {"value": "Hello"}
    described = run('Create the <data> with { name: "Ada" }.\nReturn an <OK: status> for the <x>.')
    assert described.response.payload == {"value": '["name": "Ada"]'}


def test_return_empty_payload(run):
    response = run("Return a <NoContent: status> for the <deletion>.").response
    assert (response.status, response.reason, response.payload) == ("NoContent", "deletion", {})


def test_throw_raises_a_thrown_error(run):
    with pytest.raises(ThrownError) as caught:
        run("Create the <n> with -1.\nThrow a <NotFound: error> for the <user> when <n> < 0.")
    error = caught.value
    assert error.status_name == "NotFound"
    assert error.headline == "Cannot throw the NotFound: error for the user when <condition>."
    assert error.feature == "Test" and error.activity == "Action Demo"
    assert "Throw" in error.statement


def test_throw_skipped_by_its_guard(run):
    result = run("Throw the <Oops> for the <x> when false.\nReturn an <OK: status> for the <y>.")
    assert result.response.status == "OK"


def test_sleep_units_and_binding(run):
    started = time.monotonic()
    result = run(
        "Sleep the <brief> for 20 milliseconds.\n"
        "Create the <wait> with 0.01.\n"
        "Sleep the <var> for <wait> seconds.\n"
        "Sleep the <plain> with 0."
    )
    assert time.monotonic() - started >= 0.03
    assert result["brief"] == {"slept": 20}
    assert result["var"] == {"slept": 0}
    assert result["plain"] == {"slept": 0}


def test_publish_action(run):
    result = run(
        "Create the <config> with { a: 1 }.\nExport the <shared-config> with the <config>."
    )
    assert result.services.publications == [("shared-config", {"a": 1}, "Action Demo")]
    assert result["shared-config"] == {"a": 1}
