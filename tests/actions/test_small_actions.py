"""Receive, Listen and Parse: the small verbs of the reference's event and header handling."""

import pytest

from aro.actions.parse import parse_link_header
from aro.vm import registry
from aro.vm.errors import StatementError
from tests.support.inproc import run_program, start


def test_receive_reads_the_object_value(run):
    result = run("Receive the <payload> from the <event>.", bindings={"event": {"a": 1}})
    assert result["payload"] == {"a": 1}


def test_receive_of_an_unbound_object_fails(run):
    with pytest.raises(StatementError, match="Cannot receive the payload via the event") as error:
        run("Receive the <payload> via the <event>.")
    assert str(error.value.cause) == "Undefined variable: event"


@pytest.mark.parametrize(
    ("statement", "listener"),
    [
        ("Listen the <l> for the <port: port-number>.", {"type": "port", "target": "8080"}),
        ("Listen the <l> on the <port>.", {"type": "port", "target": "8080"}),
        ("Listen the <l> for the <events: created>.", {"type": "events", "target": "created"}),
        ("Await the <l> for the <event>.", {"type": "events", "target": "*"}),
        ("Listen the <l> to the <directory: watched>.", {"type": "file", "target": "./in"}),
        ("Listen the <l> to the <stdin>.", {"type": "keyboard", "target": "stdin"}),
        ("Listen the <l> for the <queue>.", {"type": "generic", "target": "queue"}),
    ],
)  # fmt: skip
def test_listen_describes_what_it_listens_to(run, statement, listener):
    bindings = {"port-number": 8080, "watched": "./in"}
    assert run(statement, bindings=bindings)["l"] == listener


def test_listen_to_the_keyboard_starts_it_and_stop_stops_it(run, services):
    fakes = services()
    run("Listen the <keyboard> to the <stdin>.", services=fakes)
    assert (fakes.keyboard.listens, fakes.keyboard.stops) == (1, 0)
    run("Stop the <keyboard> with <application>.", services=fakes)
    assert (fakes.keyboard.listens, fakes.keyboard.stops) == (1, 1)


def test_listen_rejects_other_prepositions(run):
    with pytest.raises(StatementError) as error:
        run("Listen the <l> from the <port>.")
    assert str(error.value.cause) == "Invalid preposition 'from' for Listen"


def test_parse_link_header_keys_urls_by_rel(run):
    header = (
        '<https://x.test/items?page=2&a=1,2>; rel="next", <https://x.test/items?page=1>; rel=prev,'
        ' <https://x.test/items?page=9>; title="no rel", garbage; rel="last"'
    )
    result = run("Parse the <links: link-header> from the <header>.", bindings={"header": header})
    assert result["links"] == {
        "next": "https://x.test/items?page=2&a=1,2",
        "prev": "https://x.test/items?page=1",
    }


def test_parse_link_header_of_empty_text_is_empty():
    assert parse_link_header("") == {}


def test_parse_names_the_kinds_it_knows(run):
    with pytest.raises(StatementError) as error:
        run('Parse the <doc: yaml> from "a: 1".')
    cause = "Invalid value 'yaml' for parse type. Valid values: link-header"
    assert str(error.value.cause) == cause


def test_notify_runs_the_handler_once_per_recipient_whose_fields_pass_its_guard():
    outcome = run_program(
        start(
            'Create the <alice> with { name: "Alice", age: 30 }.\n'
            'Notify the <alice> with "Welcome".\n'
            'Create the <group> with [{ name: "Bob", age: 14 }, { name: "Eve", age: 20 }].\n'
            "Alert the <group> with the <greeting>.\n"
            'Log "done" to the <console>.'
        )
        + "(Greet: NotificationSent Handler) when <age> >= 16 {\n"
        "    Extract the <user> from the <event: user>.\n"
        "    Extract the <text> from the <event: message>.\n"
        "    Extract the <target> from the <event: target>.\n"
        '    Log <target> ++ " " ++ <user: name> ++ ": " ++ <text> to the <console>.\n'
        "}\n"
    )
    assert outcome.lines == [
        "[Greet] alice Alice: Welcome",
        "[Greet] group Eve: greeting",
        "[Application-Start] done",
        "[OK] success",
    ]


@pytest.mark.parametrize(
    ("alias", "action"),
    [
        ("remove", "delete"), ("destroy", "delete"),
        ("await", "listen"), ("alert", "notify"), ("signal", "notify"),
        ("receive", "receive"), ("parse", "parse"),
    ],
)  # fmt: skip
def test_the_reference_synonyms_run_the_same_action(alias, action):
    assert registry.lookup(alias).name == action
