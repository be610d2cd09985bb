"""Request: HTTP as a client, against a local stub server (tests/support/http_stub.py)."""

from __future__ import annotations

import asyncio
import io
import re
import textwrap

import pytest

from aro.lang.compiler import compile_source
from aro.runtime.app import Application
from aro.runtime.http_client import REFUSED, TIMED_OUT, AiohttpClient, EventStreamParser
from aro.runtime.sources import EventSources
from aro.vm.errors import ActionError
from tests.support.http_stub import stub_server
from tests.support.inproc import run_program, start


@pytest.fixture(scope="module")
def stub():
    with stub_server() as server:
        yield server


def run_lines(body: str) -> list[str]:
    outcome = run_program(start(body))
    assert outcome.exit_code == 0, outcome.stdout + outcome.stderr
    return [line.removeprefix("[Application-Start] ") for line in outcome.lines]


def test_get_answers_body_status_and_headers(stub):
    lines = run_lines(f"""
        Request the <response> from "{stub.url}/json".
        Extract the <status> from the <response: status>.
        Extract the <temperature> from the <response: body.current.temperature>.
        Extract the <stub> from the <response: headers.X-Stub>.
        Log <status> to the <console>.
        Log <temperature> to the <console>.
        Log <stub> to the <console>.
    """)
    assert lines[:3] == ["200", "15", "yes"]


def test_extract_falls_through_to_the_body(stub):
    lines = run_lines(f"""
        Create the <url> with "{stub.url}/json".
        Request the <response> from the <url>.
        Extract the <latitude> from the <response: latitude>.
        Log <latitude> to the <console>.
    """)
    assert lines[0] == "52.52"


def test_a_body_that_is_not_json_stays_text(stub):
    lines = run_lines(f"""
        Request the <response> from "{stub.url}/text".
        Extract the <body> from the <response: body>.
        Log <body> to the <console>.
    """)
    assert lines[0] == "plain words"


def test_an_error_status_is_a_reply_to_branch_on(stub):
    lines = run_lines(f"""
        Request the <response> from "{stub.url}/down".
        Extract the <status> from the <response: status>.
        Log "down" to the <console> when <status> >= 500.
    """)
    assert lines[0] == "down"


def test_post_to_a_url_sends_json(stub):
    lines = run_lines(f"""
        Create the <order> with {{ item: "tea", count: 2 }}.
        Request the <response> to "{stub.url}/echo" with <order>.
        Extract the <method> from the <response: method>.
        Extract the <media> from the <response: contentType>.
        Extract the <sent> from the <response: body.body>.
        Log <method> to the <console>.
        Log <media> to the <console>.
        Log <sent> to the <console>.
    """)
    assert lines[:3] == ["POST", "application/json", '{"count":2,"item":"tea"}']


def test_a_config_map_sets_method_headers_and_body(stub):
    lines = run_lines(f"""
        Request the <response> from "{stub.url}/echo" with {{
            method: "put", headers: {{ X-Token: "abc" }}, body: "hello", timeout: 5
        }}.
        Extract the <echo> from the <response: body>.
        Extract the <method> from the <echo: method>.
        Extract the <token> from the <echo: headers.X-Token>.
        Extract the <sent> from the <echo: body>.
        Log <method> to the <console>.
        Log <token> to the <console>.
        Log <sent> to the <console>.
    """)
    assert lines[:3] == ["PUT", "abc", "hello"]


def test_via_takes_the_method_from_the_specifier(stub):
    lines = run_lines(f"""
        Create the <api> with "{stub.url}/echo".
        Request the <response> via the <api: DELETE>.
        Extract the <method> from the <response: method>.
        Log <method> to the <console>.
    """)
    assert lines[0] == "DELETE"


def test_requests_of_one_application_reuse_a_connection(stub):
    stub.peers.clear()
    run_lines(f"""
        Create the <urls> with ["{stub.url}/json", "{stub.url}/text", "{stub.url}/json"].
        For each <url> in <urls> {{
            Request the <response> from <url>.
        }}
    """)
    assert len(stub.peers) == 1


def test_a_failed_request_is_a_statement_error_without_a_traceback():
    outcome = run_program(start('Request the <response> from "http://127.0.0.1:1/x".'))
    assert outcome.exit_code == 1
    assert "Cannot request the response from the _expression_." in outcome.stdout
    assert "Traceback" not in outcome.stdout + outcome.stderr


# -- the client capability: the reference's error texts, and server-sent events ---------------


async def _request(url: str, timeout: float | None = None) -> None:
    client = AiohttpClient(events=None, sources=EventSources())
    try:
        await client.request("GET", url, {}, None, timeout)
    finally:
        await client.close()


def test_a_refused_connection_says_so():
    with pytest.raises(ActionError, match=re.escape(REFUSED)):
        asyncio.run(_request("http://127.0.0.1:1/"))


def test_a_timeout_says_so(stub):
    with pytest.raises(ActionError, match=re.escape(TIMED_OUT)):
        asyncio.run(_request(f"{stub.url}/slow?seconds=5", timeout=0.2))


def test_only_http_urls_are_requested():
    refusal = re.escape("Invalid URL 'ftp://example.org': must start with http:// or https://")
    with pytest.raises(ActionError, match=refusal):
        asyncio.run(_request("ftp://example.org"))


class RecordingEvents:
    def __init__(self, wanted: int) -> None:
        self.emitted: list[tuple[str, dict]] = []
        self.enough = asyncio.Event()
        self.wanted = wanted

    async def emit(self, event_type: str, payload: dict, wait: bool = True) -> None:
        self.emitted.append((event_type, payload))
        if len(self.emitted) >= self.wanted:
            self.enough.set()


def test_server_sent_events_become_domain_events_and_the_stream_reconnects(stub):
    """Two messages per connection; the server ends each, so four events mean a reconnect,
    after the server's ``retry`` delay and with the last event id."""

    async def follow() -> list[tuple[str, dict]]:
        events, sources = RecordingEvents(wanted=4), EventSources()
        client = AiohttpClient(events, sources)
        client.subscribe(f"{stub.url}/events", "update", {}, retry=None)
        try:
            await asyncio.wait_for(events.enough.wait(), 10)
        finally:
            await sources.close()
            await client.close()
        return events.emitted

    stub.event_requests.clear()
    emitted = asyncio.run(follow())
    assert emitted[:4] == [
        ("update", {"n": 1, "kind": "flight"}),
        ("update", {"data": "two\nlines"}),
        ("update", {"n": 2, "kind": "flight"}),
        ("update", {"data": "two\nlines"}),
    ]
    assert stub.event_requests[:2] == [None, "1"]


def test_the_event_stream_parser_follows_the_format():
    parser = EventStreamParser()
    fed = [parser.feed(line) for line in (b"event: a\n", b"data:x\n", b"id: 7\n", b"\n")]
    assert fed == [None, None, None, {"data": "x", "kind": "a"}]
    assert parser.last_id == "7"
    assert parser.feed(b"\n") is None  # no data: no message
    assert parser.feed(b"retry: 2500\n") is None
    assert parser.retry == 2.5


# -- Read and Write on <url: …>, Stream from a URL --------------------------------------------


def test_read_from_a_url_parses_json_by_its_content_type(stub):
    lines = run_lines(f"""
        Read the <data> from the <url: "{stub.url}/json">.
        Extract the <latitude> from the <data: latitude>.
        Read the <words> from the <url: "{stub.url}/text">.
        Read the <raw: raw> from the <url: "{stub.url}/json">.
        Log <latitude> to the <console>.
        Log <words> to the <console>.
        Log <raw> to the <console>.
    """)
    raw = '{"latitude": 52.52, "current": {"temperature": 15}}'
    assert lines[:3] == ["52.52", "plain words", raw]


def test_read_from_a_url_sends_the_headers_it_is_given(stub):
    lines = run_lines(f"""
        Read the <echo> from the <url: "{stub.url}/echo"> with {{
            headers: {{ X-Custom-Header: "ARO" }}, timeout: 5
        }}.
        Extract the <sent> from the <echo: headers.X-Custom-Header>.
        Log <sent> to the <console>.
    """)
    assert lines[0] == "ARO"


def test_write_to_a_url_posts_the_value(stub):
    lines = run_lines(f"""
        Create the <post> with {{ title: "Hello" }}.
        Write the <post> to the <url: "{stub.url}/echo">.
        Write "plain" to the <url: "{stub.url}/echo">.
        Log "posted" to the <console>.
    """)
    assert lines[0] == "posted"


def test_stream_from_a_url_returns_at_once_and_emits_an_event_per_message(stub):
    program = compile_source(
        textwrap.dedent(f"""
        (Application-Start: Flights) {{
            Stream the <flight-update> from "{stub.url}/events" with {{ retry: 0.05 }}.
            Log "streaming" to the <console>.
            Keepalive the <application> for the <events>.
            Return an <OK: status> for the <startup>.
        }}
        (Show Update: flight-update Handler) {{
            Extract the <kind> from the <event: kind>.
            Log "update ${{kind}}" to the <console> when <event: kind> exists.
            Return an <OK: status> for the <update>.
        }}
        """),
        "main.aro",
    )
    out = io.StringIO()
    app = Application(program, None, {}, {}, stdout=out, stderr=out)

    async def run_until_two_updates() -> int:
        running = asyncio.ensure_future(app.run())
        for _ in range(1000):
            if out.getvalue().count("update flight") >= 2:
                break
            await asyncio.sleep(0.01)
        app.request_shutdown()
        return await asyncio.wait_for(running, 10)

    assert asyncio.run(run_until_two_updates()) == 0
    lines = out.getvalue().splitlines()
    assert lines[0] == "[Application-Start] streaming"
    assert lines.count("[Show Update] update flight") >= 2
