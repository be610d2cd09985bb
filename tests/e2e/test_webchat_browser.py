"""Two Chromium tabs chat through WebChat, and survive a server restart; two tabs on different
workers of ``aro serve`` chat too.

Needs Debian's chromium (installed by .ci/run) and Playwright for Python; Playwright drives the
system browser through ``executable_path``, it downloads nothing.
"""

from __future__ import annotations

import shutil
import socket

import pytest

from tests.support.live import ROOT, launch

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed")

WEBCHAT = ROOT / "examples" / "WebChat"
CHROMIUM_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
RECONNECT_WAIT_MS = 15_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def send(page, text: str) -> None:
    page.fill("#message-input", text)
    page.press("#message-input", "Enter")


def expect_message(page, text: str) -> None:
    playwright.expect(page.locator("#messages li", has_text=text)).to_have_count(1)


def expect_status(page, text: str, timeout: int = 5_000) -> None:
    playwright.expect(page.locator("#status")).to_have_text(text, timeout=timeout)


def test_two_tabs_chat_and_reconnect_after_a_restart() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/home"
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            with launch(WEBCHAT, "--port", str(port)) as app:
                app.port()
                pages = [browser.new_page(), browser.new_page()]
                for page in pages:
                    page.goto(url)
                    expect_status(page, "Connected")
                send(pages[0], "hello from the first tab")
                for page in pages:
                    expect_message(page, "hello from the first tab")
                app.terminate()
            for page in pages:
                expect_status(page, "Disconnected")
            with launch(WEBCHAT, "--port", str(port)) as app:
                app.port()
                for page in pages:
                    expect_status(page, "Connected", timeout=RECONNECT_WAIT_MS)
                send(pages[1], "still here after the restart")
                for page in pages:
                    expect_message(page, "still here after the restart")
                app.terminate()
        finally:
            browser.close()


def open_on_worker(browser, url: str) -> tuple[object, str]:
    """A connected page and the worker its WebSocket landed on (the 101's X-Aro-Worker, seen
    through the DevTools protocol: a page's script cannot read handshake headers)."""
    page = browser.new_page()
    devtools = page.context.new_cdp_session(page)
    devtools.send("Network.enable")
    workers: list[str] = []

    def on_handshake(event: dict) -> None:
        headers = {name.lower(): value for name, value in event["response"]["headers"].items()}
        workers.append(headers["x-aro-worker"])

    devtools.on("Network.webSocketHandshakeResponseReceived", on_handshake)
    page.goto(url)
    expect_status(page, "Connected")  # the handshake's event came before the open's
    return page, workers[0]


def test_two_tabs_on_different_workers_chat() -> None:
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            with launch(WEBCHAT, "--workers", "2", "--port", "0", command="serve") as app:
                url = f"http://127.0.0.1:{app.port()}/home"
                app.wait_for_all(r"HTTP Server started", 2)
                pages: dict[str, object] = {}
                for _ in range(20):  # SO_REUSEPORT spreads them; 20 on one worker: 2^-19
                    page, worker = open_on_worker(browser, url)
                    if worker in pages:
                        page.close()
                    else:
                        pages[worker] = page
                    if len(pages) == 2:
                        break
                assert set(pages) == {"0", "1"}
                send(pages["0"], "from worker 0 to worker 1")
                send(pages["1"], "and back")
                for page in pages.values():
                    expect_message(page, "from worker 0 to worker 1")
                    expect_message(page, "and back")
                app.terminate()
        finally:
            browser.close()
