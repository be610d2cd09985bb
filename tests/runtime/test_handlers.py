"""The handler table: every role a feature set can have, found once from names and activities."""

from __future__ import annotations

from aro.lang.bytecode import CodeObject, Program
from aro.runtime.handlers import (
    SOCKET_EVENTS,
    WEBSOCKET_EVENTS,
    HandlerTable,
    classify,
    connection_event,
)


def code(name: str, activity: str) -> CodeObject:
    return CodeObject(name, activity, "test.aro")


def table(*codes: CodeObject) -> HandlerTable:
    return classify(Program(list(codes)))


def names(codes: tuple[CodeObject, ...]) -> list[str]:
    return [c.name for c in codes]


def grouped(groups: dict[str, tuple[CodeObject, ...]]) -> dict[str, list[str]]:
    return {key: names(codes) for key, codes in groups.items()}


def test_entry_points_are_every_application_start_whatever_the_activity() -> None:
    found = table(
        code("Application-Start", "Demo"),
        code("Application-Start", "Other"),
        code("application-start", "Demo"),
    )
    assert [c.activity for c in found.entry_points] == ["Demo", "Other"]
    assert table(code("Main", "Application-Start")).entry_points == ()


def test_end_handlers_by_activity_first_of_each_wins() -> None:
    success, error = code("Application-End", "Success"), code("Application-End", "Error")
    found = table(success, code("Application-End", "Success"), error)
    assert found.end == {"Success": success, "Error": error}
    assert "Success" not in table(code("Shutdown", "Application-End Success")).end


def test_every_feature_set_is_found_by_name_the_last_of_a_name_wins() -> None:
    first, last = code("listUsers", "User API"), code("listUsers", "Other API")
    found = table(first, code("getUser", "User API"), last)
    assert found.by_name == {"listUsers": last, "getUser": found.by_name["getUser"]}


def test_user_actions_are_activities_starting_with_action() -> None:
    found = table(
        code("Greet", "Action"),
        code("Sum", "Action takes <a> <b>"),
        code("Actionable", "Actions Log"),
        code("Other", "My Action"),
    )
    assert list(found.user_actions) == ["Greet", "Sum", "Actionable"]


def test_domain_handlers_by_the_text_before_handler_and_what_is_not_one() -> None:
    found = table(
        code("A", "UserCreated Handler"),
        code("B", "UserCreated Handler<status:paid>"),
        code("C", "Order Placed Handler"),
        code("E", "log-repository Evicted Handler"),  # also an Evicted handler
        code("Socket", "Socket Event Handler"),
        code("Ws", "WebSocket Event Handler"),
        code("File", "File Event Handler"),
        code("Key", "KeyPress Handler"),
        code("State", "StateTransition Handler<toState:x>"),
        code("End", "Application-End Handler"),
        code("NoSpace", "UserCreatedHandler"),
    )
    assert grouped(found.domain) == {
        "UserCreated": ["A", "B"],
        "Order Placed": ["C"],
        "log-repository Evicted": ["E"],
        "KeyPress": ["Key"],
    }


def test_repository_observers_and_evicted_handlers_by_repository() -> None:
    found = table(
        code("Audit", "user-repository Observer"),
        code("Paid", "order-repository Observer<status:paid>"),
        code("NotRepo", "user Observer"),
        code("Evicted", "log-repository Evicted Handler"),
        code("NotSuffix", "log-repository Evicted Handler<x:y>"),
        code("NoRepo", "log Evicted Handler"),
    )
    assert grouped(found.observers) == {"user-repository": ["Audit"], "order-repository": ["Paid"]}
    assert grouped(found.evicted) == {"log-repository": ["Evicted"]}


def test_state_handlers_transition_before_observer() -> None:
    found = table(
        code("T", "StateTransition Handler<toState:paid>"),
        code("O", "status StateObserver<draft_to_placed>"),
        code("Both", "StateTransition Handler StateObserver"),
    )
    assert names(found.transition_handlers) == ["T", "Both"]
    assert names(found.state_observers) == ["O"]


def test_websocket_handlers_message_then_disconnect_then_connect_ignoring_case() -> None:
    found = table(
        code("Handle Connect", "WebSocket Event Handler"),
        code("Disconnect Message Relay", "WebSocket Event Handler"),
        code("reconnect DISCONNECT", "WebSocket Event Handler"),
        code("Greeter", "WebSocket Event Handler"),
        code("Client Connect", "Socket Event Handler"),
    )
    assert grouped(found.websocket) == {
        "connect": ["Handle Connect"],
        "message": ["Disconnect Message Relay"],
        "disconnect": ["reconnect DISCONNECT"],
    }


def test_socket_handlers_disconnect_then_connect_then_data_words_websockets_excluded() -> None:
    found = table(
        code("Client Disconnected", "Socket Event Handler"),
        code("connected", "Socket Event Handler"),
        code("Data In", "Socket Event Handler"),
        code("Message Arrived", "Socket Event Handler"),
        code("Bytes Received", "Socket Event Handler"),
        code("Something Else", "Socket Event Handler"),
        code("WS Connect", "WebSocket Event Handler"),
    )
    assert grouped(found.socket) == {
        "connect": ["connected"],
        "data": ["Data In", "Message Arrived", "Bytes Received"],
        "disconnect": ["Client Disconnected"],
    }


def test_connection_events_by_the_first_word_of_the_rule_table() -> None:
    assert connection_event("ON MESSAGE disconnect", WEBSOCKET_EVENTS) == "message"
    assert connection_event("ON MESSAGE disconnect", SOCKET_EVENTS) == "disconnect"
    assert connection_event("Reconnected", SOCKET_EVENTS) == "connect"
    assert connection_event("Greeter", WEBSOCKET_EVENTS) is None


def test_a_feature_set_may_have_several_roles() -> None:
    both = code("Application-Start", "Action")
    found = table(both)
    assert found.entry_points == (both,)
    assert found.user_actions == {"Application-Start": both}
    assert found.by_name == {"Application-Start": both}


def test_file_event_handlers_by_the_word_in_their_name() -> None:
    found = table(
        code("Handle File Created", "File Event Handler"),
        code("On modified files", "File Event Handler"),
        code("Audit Deleted", "Uploads File Event Handler"),
        code("Something else", "File Event Handler"),
    )
    assert grouped(found.files) == {
        "created": ["Handle File Created"],
        "modified": ["On modified files"],
        "deleted": ["Audit Deleted"],
    }
    assert found.domain == {}
