"""The web chat in a real Chromium (Debian's package, driven by Playwright)."""

from __future__ import annotations

import functools
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from bot import i18n
from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.rasa, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: `make test` installs Debian's package")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


def bot_messages(page: Page) -> list[str]:
    return page.locator(".from-bot p").all_inner_texts()


def test_chat_enrols_answers_buttons_and_survives_a_reload(
    stack: Stack, browser: Browser, tmp_path: Path
) -> None:
    invite = stack.enrol("Fleur Mulder", "nl")
    # a phone-sized screen
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="nl-NL")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{stack.web}/chat?code={invite['invite_code']}")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    welcome = i18n.t("nl", "enrol.welcome", name="Fleur Mulder")
    expect(page.locator(".from-bot p").first).to_have_text(welcome, timeout=60_000)
    assert "code=" not in page.url  # the invite code is not kept in the address bar

    # keyboard only: type and press Enter
    page.locator("#message").focus()
    page.keyboard.type("hallo")
    page.keyboard.press("Enter")
    greeting = i18n.t("nl", "greet.hello", name="Fleur")
    expect(page.locator(".from-bot p", has_text=greeting)).to_have_count(1, timeout=60_000)

    # a button sends its payload; its title shows as the user's message
    page.get_by_role("button", name=i18n.t("nl", "menu.coach")).last.click()
    done = i18n.t("nl", "contact_coach.done", coach="Carla Coach")
    expect(page.locator(".from-bot p", has_text=done)).to_have_count(1, timeout=60_000)
    expect(page.locator(".from-user p").last).to_have_text(i18n.t("nl", "menu.coach"))
    page.screenshot(path=str(tmp_path / "chat.png"))

    before = bot_messages(page)
    page.reload()
    expect(page.locator(".from-bot p", has_text=done)).to_have_count(1, timeout=30_000)
    assert bot_messages(page) == before
    # no horizontal scrolling on a phone
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert errors == []
    context.close()


@pytest.fixture
def other_site(tmp_path: Path, stack: Stack) -> Iterator[str]:
    """Serves a page of another origin that embeds the widget with one script tag."""
    (tmp_path / "index.html").write_text(
        f"<!doctype html><html><body><h1>Werkgever</h1>"
        f'<script src="{stack.web}/widget.js" data-label="Koers"></script></body></html>'
    )
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    server.shutdown()


def test_widget_opens_the_chat_in_a_frame(stack: Stack, browser: Browser, other_site: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(other_site)
    launcher = page.get_by_role("button", name="Koers")
    expect(launcher).to_be_visible()
    launcher.click()
    frame = page.frame_locator("iframe[title='Koers']")
    expect(frame.locator("#message")).to_be_visible(timeout=30_000)
    expect(launcher).to_have_attribute("aria-expanded", "true")
    context.close()
