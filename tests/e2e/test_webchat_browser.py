"""Two Chromium tabs chat through WebChat, and survive a server restart.

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
