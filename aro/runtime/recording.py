"""Recording a run's events to a file (``--record FILE``) and replaying them (``--replay FILE``).

The file is one JSON document, pretty-printed with sorted keys, in the reference's shape:
``{version, application, recorded, events: [{timestamp, eventType, payload}]}`` with ISO-8601
times and each payload a JSON text.  Recording covers the events the program publishes (Emit,
Notify, Accept's transitions); replay publishes them again, in order and without the original
delays, before Application-Start runs.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aro.runtime.errors import StartupError
from aro.vm import values

FORMAT_VERSION = "1.0"

Publish = Callable[[str, dict], Awaitable[None]]


def _timestamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class EventRecorder:
    """Keeps each published event with its time until ``save``."""

    def __init__(self, application: str) -> None:
        self.application = application
        self.events: list[dict[str, str]] = []

    def record(self, event_type: str, payload: dict) -> None:
        text = values.to_json(payload).decode()
        self.events.append({"timestamp": _timestamp(), "eventType": event_type, "payload": text})

    def save(self, path: Path) -> None:
        recording = {
            "version": FORMAT_VERSION,
            "application": self.application,
            "recorded": _timestamp(),
            "events": self.events,
        }
        path.write_text(json.dumps(recording, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def load_recording(path: Path) -> list[tuple[str, dict]]:
    """The (event type, payload) pairs of a recording; StartupError when it cannot be read."""
    try:
        text = path.read_text()
    except OSError as error:
        raise StartupError(f"Cannot replay events from {path}: {error.strerror}") from None
    try:
        recording = json.loads(text)
        return [(event["eventType"], _payload(event["payload"])) for event in recording["events"]]
    except (ValueError, KeyError, TypeError) as error:
        reason = f"missing {error}" if isinstance(error, KeyError) else str(error)
        message = f"Cannot replay events from {path}: not a recording ({reason})"
        raise StartupError(message) from None


def _payload(text: Any) -> dict:
    payload = values.from_json(text) if isinstance(text, str) else text
    if type(payload) is not dict:
        raise ValueError("an event payload is not a JSON object")
    return payload


async def replay(path: Path, publish: Publish) -> None:
    """Publish every recorded event again, each once its handlers have finished."""
    for event_type, payload in load_recording(path):
        await publish(event_type, payload)
