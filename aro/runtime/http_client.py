"""Outbound HTTP for Request, Read/Write on ``<url: …>`` and Stream from a URL.

Built on aiohttp's client: one ``ClientSession`` per application, made on first use (it must
be made inside the running loop) and closed when the application ends, so that requests to the
same host reuse their keep-alive connections.  Every status is a reply; only a request that
gets no reply at all fails, with the reference's wording.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import aiohttp

from aro import __version__
from aro.runtime.sources import EventSources
from aro.vm import values
from aro.vm.errors import ActionError
from aro.vm.services import Events, HttpReply

DEFAULT_TIMEOUT_S = 30.0
USER_AGENT = f"aro-py/{__version__}"
#: Server-sent events: first reconnection delay when neither the program nor the server sets
#: one, and the ceiling the doubling delay stops at.
SSE_RETRY_S = 3.0
SSE_MAX_RETRY_S = 30.0
TIMED_OUT = "Connection failed: The request timed out."
REFUSED = "Connection failed: Could not connect to the server."


def invalid_url(url: str) -> ActionError:
    return ActionError(f"Invalid URL '{url}': must start with http:// or https://")


def check_url(url: Any) -> str:
    """``url`` when it is an http(s) URL; the reference's error otherwise."""
    text = url if isinstance(url, str) else values.describe(url)
    if not text.startswith(("http://", "https://")):
        raise invalid_url(text)
    return text


class AiohttpClient:
    """The application's ``http`` capability."""

    def __init__(self, events: Events, sources: EventSources) -> None:
        self._events = events
        self._sources = sources
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(headers={"User-Agent": USER_AGENT})
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: float | None,
    ) -> HttpReply:
        if asyncio.current_task() is None:
            # A handler's first step runs before it has a task (aro/net/aio.py), and aiohttp's
            # timeout needs one: the first suspension makes it.
            await asyncio.sleep(0)
        limit = aiohttp.ClientTimeout(total=timeout or DEFAULT_TIMEOUT_S)
        try:
            async with self._client().request(
                method, check_url(url), headers=dict(headers), data=body, timeout=limit
            ) as response:
                content = await response.read()
                return HttpReply(response.status, _joined(response.headers), content)
        except TimeoutError:
            raise ActionError(TIMED_OUT) from None
        except aiohttp.InvalidURL:
            raise invalid_url(url) from None
        except aiohttp.ClientConnectorError:
            raise ActionError(REFUSED) from None
        except aiohttp.ClientError as error:
            raise ActionError(f"Connection failed: {error}") from None

    def subscribe(
        self, url: str, event_name: str, headers: Mapping[str, str], retry: float | None
    ) -> None:
        check_url(url)
        self._sources.spawn(self._follow(url, event_name, dict(headers), retry or SSE_RETRY_S))

    async def _follow(self, url: str, event_name: str, headers: dict, retry: float) -> None:
        """Read the stream, and after each drop or failure wait and open it again; the delay
        doubles up to a ceiling and starts over once a connection delivered events."""
        request_headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache", **headers}
        no_limit = aiohttp.ClientTimeout(total=None, sock_connect=DEFAULT_TIMEOUT_S)
        parser = EventStreamParser()
        delay = retry
        while True:
            if parser.last_id:
                request_headers["Last-Event-ID"] = parser.last_id
            try:
                async with self._client().get(
                    url, headers=request_headers, timeout=no_limit
                ) as response:
                    if response.status == 200:
                        async for line in response.content:
                            message = parser.feed(line)
                            if message is not None:
                                delay = parser.retry or retry
                                await self._events.emit(event_name, message, wait=False)
            except (aiohttp.ClientError, TimeoutError, ValueError):  # ValueError: line too long
                pass
            parser.reset_message()
            await asyncio.sleep(delay)
            delay = min(delay * 2, SSE_MAX_RETRY_S)


class EventStreamParser:
    """The ``text/event-stream`` format (HTML Living Standard, server-sent events), a line at a
    time.  A message's payload is its ``data`` parsed as a JSON object, else ``{data}``; an
    ``event:`` field is kept as ``kind``."""

    __slots__ = ("_data", "_kind", "last_id", "retry")

    def __init__(self) -> None:
        self._data: list[str] = []
        self._kind = ""
        self.last_id = ""
        self.retry: float | None = None

    def reset_message(self) -> None:
        self._data, self._kind = [], ""

    def feed(self, raw: bytes) -> dict[str, Any] | None:
        """Take one line; answer the payload when the line ends a message."""
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "data":
            self._data.append(value)
        elif field == "event":
            self._kind = value
        elif field == "id" and "\0" not in value:
            self.last_id = value
        elif field == "retry" and value.isdigit():
            self.retry = int(value) / 1000
        return None

    def _dispatch(self) -> dict[str, Any] | None:
        if not self._data:
            self._kind = ""
            return None
        text = "\n".join(self._data)
        payload = _json_object(text)
        if self._kind:
            payload["kind"] = self._kind
        self.reset_message()
        return payload


def _json_object(text: str) -> dict[str, Any]:
    try:
        parsed = values.from_json(text)
    except ValueError:
        parsed = None
    return parsed if type(parsed) is dict else {"data": text}


def _joined(headers: Mapping[str, str]) -> dict[str, str]:
    """Response headers as one value per name, repeated ones joined with ", " (RFC 9110 §5.3)."""
    joined: dict[str, str] = {}
    for name, value in headers.items():
        joined[name] = f"{joined[name]}, {value}" if name in joined else value
    return joined
