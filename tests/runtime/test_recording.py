"""``--record FILE`` writes the events a run publishes; ``--replay FILE`` publishes them again."""

import asyncio
import io
import json

import pytest

from aro.config import Config
from aro.lang.compiler import compile_source
from aro.runtime.app import Application
from aro.runtime.errors import StartupError

PROGRAM = """\
(Application-Start: Recorder) {
    Emit a <Greeted: event> with { name: "Ada", times: 2 }.
    Log "started" to the <console>.
}
(Say Hello: Greeted Handler) {
    Log "hello " ++ <event: name> to the <console>.
}
"""


def run(config: Config) -> list[str]:
    stdout = io.StringIO()
    program = compile_source(PROGRAM, "main.aro")
    app = Application(program, None, {}, {}, stdout, io.StringIO(), config)
    assert asyncio.run(app.run()) == 0
    return stdout.getvalue().splitlines()


def test_record_writes_each_published_event_in_the_reference_shape(tmp_path):
    path = tmp_path / "events.json"
    run(Config(record=str(path)))
    recording = json.loads(path.read_text())
    assert recording["version"] == "1.0"
    assert recording["application"] == "ARO Application"
    assert recording["recorded"].endswith("Z")
    [event] = recording["events"]
    assert event["eventType"] == "Greeted"
    assert json.loads(event["payload"]) == {"name": "Ada", "times": 2}
    assert path.read_text().startswith('{\n  "application"')  # pretty, keys sorted


def test_replay_publishes_the_recorded_events_before_the_program_starts(tmp_path):
    path = tmp_path / "events.json"
    run(Config(record=str(path)))
    assert run(Config(replay=str(path))) == [
        "[Say Hello] hello Ada",
        "[Say Hello] hello Ada",
        "[Application-Start] started",
        "[OK] success",
    ]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "No such file or directory"),
        ("not json", "not a recording (Expecting value"),
        ('{"events": [{"eventType": "X"}]}', "not a recording (missing 'payload')"),
        ('{"events": [{"eventType": "X", "payload": "[1]"}]}', "not a recording (an event payload"),
    ],
)
def test_an_unreadable_recording_stops_the_start_with_its_reason(tmp_path, content, reason):
    path = tmp_path / "events.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(StartupError, match=f"Cannot replay events from {path}: ") as error:
        run(Config(replay=str(path)))
    assert reason in str(error.value)
