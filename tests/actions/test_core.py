import re

import pytest

from aro.lang.compiler import compile_source
from aro.vm.errors import ActionError, StatementError
from aro.vm.machine import linked

# -- Extract -----------------------------------------------------------------------------------


def test_extract_walks_object_specifiers(run):
    result = run(
        'Create the <user> with { name: "Ada", address: { city: "Paris" } }.\n'
        "Extract the <city> from the <user: address.city>."
    )
    assert result["city"] == "Paris"


def test_extract_reverse_indexes_lists(run):
    result = run("Create the <items> with [1, 2, 3].\nExtract the <x> from the <items: 0>.")
    assert result["x"] == 3


def test_extract_missing_property_is_a_statement_error(run):
    with pytest.raises(StatementError) as caught:
        run('Create the <user> with { name: "Ada" }.\nExtract the <x> from the <user: age>.')
    assert caught.value.headline == "Cannot extract the x from the user: age."


@pytest.mark.parametrize(
    ("specifier", "expected"),
    [("first", 10), ("last", 40), ("0", 40), ("1-2", [30, 20]), ("0,3", [40, 10]), ("9", None)],
)
def test_extract_result_specifier_on_lists(last, specifier, expected):
    value = last(
        f"Create the <items> with [10, 20, 30, 40].\nExtract the <x: {specifier}> from the <items>."
    )
    assert value == (expected if expected is not None else [10, 20, 30, 40])


def test_extract_result_specifier_picks_a_key_or_keeps_the_dict(last):
    body = 'Create the <body> with { message: "hi" }.\n'
    assert last(body + "Extract the <text: message> from the <body>.") == "hi"
    assert last(body + "Extract the <text: other> from the <body>.") == {"message": "hi"}


def test_extract_parses_json_text(run):
    result = run('Create the <text> with "{\\"a\\": 1}".\nExtract the <data> from the <text>.')
    assert result["data"] == {"a": 1}


def test_extract_key_from_form_text(last):
    body = 'Create the <text> with "name=Ada&age=3".\nExtract the <n: name> from the <text>.'
    assert last(body) == "Ada"


def test_extract_env_and_parameters(run, services):
    fake = services(environ={"HOME": "/h"}, parameters={"count": 3})
    result = run(
        "Extract the <home> from the <env: HOME>.\n"
        "Extract the <missing> from the <env: NOPE>.\n"
        "Extract the <count> from the <parameter: count>.\n"
        "Extract the <all> from the <parameter>.",
        fake,
    )
    assert (result["home"], result["missing"], result["count"]) == ("/h", "", 3)
    assert result["all"] == {"count": 3}


def test_extract_missing_parameter_fails(run):
    with pytest.raises(StatementError):
        run("Extract the <name> from the <parameter: name>.")


def test_extract_schema_name_requires_an_object(last):
    assert last("Create the <u> with { a: 1 }.\nExtract the <x: User> from the <u>.") == {"a": 1}
    with pytest.raises(ActionError):
        last("Create the <u> with [1].\nExtract the <x: User> from the <u>.")


def test_extract_rejects_other_prepositions(last):
    with pytest.raises(ActionError, match="Invalid preposition"):
        last("Create the <u> with 1.\nExtract the <x: a> for the <u>.")


# -- Create ------------------------------------------------------------------------------------


def test_create_typed_dict_gets_an_id(run):
    result = run('Create the <order: Order> with { item: "tea" }.')
    order = result["order"]
    assert order["item"] == "tea"
    assert re.fullmatch(r"[0-9a-f]{17,20}", order["id"])


def test_create_keeps_an_existing_id_and_copies_from_the_object(run):
    result = run(
        'Create the <src> with { id: "1" }.\n'
        "Create the <copy: Thing> from the <src>.\n"
        "Create the <nothing> from the <unbound>."
    )
    assert result["copy"] == {"id": "1"}
    assert result["nothing"] == ""


def test_create_gives_a_map_literal_its_id_and_never_changes_a_variable(run):
    result = run(
        'Create the <fields> with { item: "tea" }.\n'
        "Create the <order: Order> with <fields>.\n"
        'Create the <literal: Order> with { item: "tea" }.\n'
        'Create the <kept: Order> with { id: "7", item: "tea" }.'
    )
    assert result["fields"] == {"item": "tea"}  # the variable's map is copied, never changed
    assert list(result["order"]) == list(result["literal"]) == ["item", "id"]
    assert result["order"]["id"] != result["literal"]["id"]
    assert result["kept"] == {"id": "7", "item": "tea"}


@pytest.mark.parametrize(
    ("statement", "linked_as"),
    [
        ('Create the <order: Order> with { item: "tea" }.', "create_entity"),
        ('Create the <order: Order> from the <src> with { item: "tea" }.', "create_entity"),
        ("Create the <order: Order> with <src>.", "create"),  # a variable's map: copied
        ('Create the <order: Order> with { id: "7" }.', "create"),  # has its id
    ],
)
def test_create_of_a_map_literal_is_linked_to_give_it_its_id_in_place(statement, linked_as):
    source = f"(Test: Action Demo) {{\n{statement}\n}}\n"
    code = compile_source(source, "test.aro").code_objects[0]
    assert linked(code).plans[0].func.__name__ == linked_as


# -- Compute -----------------------------------------------------------------------------------


def test_compute_operation_from_specifier_or_base(run):
    result = run(
        'Create the <greeting> with "Hello".\n'
        "Compute the <length> from the <greeting>.\n"
        "Compute the <shout: uppercase> from the <greeting>.\n"
        "Compute the <same> from the <greeting>."
    )
    assert (result["length"], result["shout"], result["same"]) == (5, "HELLO", "Hello")


def test_compute_takes_its_argument_from_with(run):
    result = run(
        "Create the <a> with [2, 3, 5].\n"
        "Create the <b> with [1, 2, 3, 4].\n"
        "Compute the <common: intersect> from <a> with <b>.\n"
        'Create the <text> with "abcdef".\n'
        "Compute the <short: clip> from the <text> with 3."
    )
    assert result["common"] == [2, 3]
    assert result["short"] == "abc"


# -- Validate / Compare ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "value", "valid"),
    [
        ("email", '"a@b.c"', True),
        ("email", '"nope"', False),
        ("numeric", '"12.5"', True),
        ("numeric", '" 12"', False),
        ("required", '""', False),
        ("nonempty", "[]", False),
        ("whatever", '""', True),
    ],
)
def test_validate_rules(run, rule, value, valid):
    result = run(f"Create the <v> with {value}.\nValidate the <check: {rule}> for the <v>.")
    assert result["check"] == {"isValid": valid, "rule": rule}


def test_validate_defaults_to_required(run):
    result = run('Create the <v> with "x".\nValidate the <check> for the <v>.')
    assert result["check"] == {"isValid": True, "rule": "required"}


@pytest.mark.parametrize(
    ("left", "right", "outcome"),
    [("a", "b", "less"), (5, "5", "equal"), (3, 2.5, "greater"), (True, 1, "notEqual")],
)
def test_compare(last, left, right, outcome):
    value = last("Compare the <x> against the <y>.", bindings={"x": left, "y": right})
    assert value == {"matches": outcome == "equal", "result": outcome}


# -- Transform ---------------------------------------------------------------------------------


def test_transform_conversions(run):
    result = run(
        'Create the <text> with "42".\n'
        "Transform the <n: int> from the <text>.\n"
        "Create the <number> with 7.\n"
        "Transform the <s: string> from the <number>.\n"
        "Transform the <d: double> from the <number>."
    )
    assert (result["n"], result["s"], result["d"]) == (42, "7", 7.0)


def test_transform_bad_int_fails(run):
    with pytest.raises(StatementError):
        run('Create the <text> with "x".\nTransform the <n: int> from the <text>.')


def test_transform_template_asks_the_services_to_render(last, services):
    class Templates:
        async def render(self, path, frame, extra=None):
            return f"rendered {path}"

    fake = services()
    fake.templates = Templates()
    assert last("Transform the <html> from the <template: emails/welcome.tpl>.", fake) == (
        "rendered emails/welcome.tpl"
    )
    body = 'Create the <page> with "a/b.html".\nTransform the <html> from the <template: page>.'
    assert last(body, fake) == "rendered a/b.html"


# -- Update ------------------------------------------------------------------------------------


def test_update_field_and_merge(run):
    result = run(
        'Create the <profile> with { name: "Ada", role: "viewer" }.\n'
        'Update the <profile: role> with "editor".\n'
        'Update the <profile> with { active: true, role: "admin" }.'
    )
    assert result["profile"] == {"name": "Ada", "role": "admin", "active": True}


def test_update_unbound_entity_and_literal_object(run):
    result = run(
        "Configure the <settings: timeout> with 30.\n"
        'Create the <patch> with { level: "high" }.\n'
        "Update the <flags: level> from the <patch: level>.\n"
        "Update the <state: status> to the <active>."
    )
    assert result["settings"] == {"timeout": 30}
    assert result["flags"] == {"level": "high"}
    assert result["state"] == {"status": "active"}


def test_configure_repository(run):
    result = run(
        "Configure the <log-repository: maxSize> with 3.\n"
        "Configure the <cache-repository: ttl> with 1.5."
    )
    repositories = result.services.repositories
    assert repositories["log-repository"].options == {"maxSize": 3}
    assert repositories["cache-repository"].options == {"ttl": 1.5}


# -- Merge -------------------------------------------------------------------------------------


def test_merge_into_a_new_name(run):
    result = run(
        'Create the <fruits> with ["apple"].\n'
        'Create the <more> with ["pear"].\n'
        "Merge the <all: fruits> with <more>.\n"
        'Create the <person> with { name: "Ada", age: 3 }.\n'
        "Merge the <profile: person> with { age: 4 }.\n"
        'Create the <greeting> with "Hello, ".\n'
        'Merge the <message: greeting> with "World".'
    )
    assert result["all"] == ["apple", "pear"]
    assert result["fruits"] == ["apple"]
    assert result["profile"] == {"name": "Ada", "age": 4}
    assert result["message"] == "Hello, World"


def test_merge_into_the_existing_result(run):
    result = run("Create the <t> with { a: 1 }.\nMerge the <t> with { b: 2 }.")
    assert result["t"] == {"a": 1, "b": 2}


def test_merge_needs_a_base(run):
    with pytest.raises(StatementError):
        run("Merge the <t: nothing> with { b: 2 }.")
