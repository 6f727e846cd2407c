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


def add_coach(stack: Stack, name: str) -> tuple[str, str]:
    """Creates a coach with the CLI; returns (email, password)."""
    first = name.split()[0].lower()
    email, password = f"{first}@koers.test", f"{first}'s long password"
    args = ("coach", "add", "--email", email, "--name", name, "--password-stdin")
    created = stack.koers(*args, stdin=password)
    assert created.returncode == 0, created.stderr
    return email, password


def log_in(page: Page, stack: Stack, email: str, password: str) -> None:
    """Logs a coach in through the login form, as a person would."""
    page.goto(f"{stack.web}/coach/login")
    page.get_by_label(i18n.t("nl", "coach.login.email")).fill(email)
    page.get_by_label(i18n.t("nl", "coach.login.password")).fill(password)
    page.get_by_role("button", name=i18n.t("nl", "coach.login.submit")).click()


def test_coach_dashboard_crisis_first_resolve_report_and_no_xss(
    stack: Stack, browser: Browser, tmp_path: Path
) -> None:
    import datetime as dt
    import io
    import uuid

    import pypdf

    from bot.models import Application, Reflection

    email, password = add_coach(stack, "Dora Dekker")
    # Anna comes first by name, Xander is in crisis
    anna = stack.enrol("Anna Aalders", "nl", coach=email)
    xander = stack.enrol("Xander de Vries", "nl", coach=email)
    anna_who, xander_who = f"rest-{uuid.uuid4().hex[:8]}", f"rest-{uuid.uuid4().hex[:8]}"
    stack.say(anna_who, f"/start {anna['invite_code']}")
    stack.say(xander_who, f"/start {xander['invite_code']}")
    # an XSS attempt typed into the chat ends up in Anna's profile
    payload = '<img src=x onerror="window.__xss=1">Bakkerij'
    stack.say(anna_who, '/start_assignments{"assignment":"work_history"}')
    for answer in (
        payload,
        "verkoper",
        "2010 - 2020",
        "<script>window.__xss=2</script> klanten helpen",
        "nee",
    ):
        stack.say(anna_who, answer)
    stack.say(xander_who, "ik wil er niet meer zijn")
    canary = "KANARIE-REFLECTIE-5521"
    db = stack.database()
    with db.session() as s, s.begin():
        s.add(
            Application(
                employee_id=xander["id"],
                idempotency_key=f"browser:{xander['id']}",
                employer="Rijkswaterstaat",
                job_title="inspecteur",
                applied_on=dt.date.today(),
                channel="vacancy_site",
                status="sent",
            )
        )
        s.add(
            Reflection(
                employee_id=xander["id"],
                week_number=40,
                mood=2,
                small_step=canary,
                answers={"miss": canary},
                completed_at=dt.datetime.now(dt.timezone.utc),
            )
        )
    db.dispose()

    context = browser.new_context(locale="nl-NL", accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: errors.append(f"dialog: {dialog.message}"))
    log_in(page, stack, email, password)
    rows = page.locator("table.caseload tbody tr")
    expect(rows).to_have_count(2, timeout=30_000)
    expect(rows.first).to_contain_text("Xander de Vries")
    expect(rows.first).to_contain_text(i18n.t("nl", "coach.signal.crisis"))

    # Anna's page shows the payload as text; nothing ran
    page.get_by_role("link", name="Anna Aalders").click()
    expect(page.locator(".profile")).to_contain_text(payload)
    assert page.evaluate("window.__xss === undefined")
    assert page.locator(".profile img").count() == 0

    page.goto(f"{stack.web}/coach/")
    page.get_by_role("link", name="Xander de Vries").click()
    crisis = page.locator("li.signal.crisis")
    crisis.get_by_label(i18n.t("nl", "coach.signal.note")).fill("Gebeld met Xander, huisarts ingelicht")
    crisis.get_by_role("button", name=i18n.t("nl", "coach.signal.resolve")).click()
    expect(page.locator("li.signal.crisis.resolved")).to_contain_text("huisarts ingelicht")

    with page.expect_download() as download_info:
        page.get_by_role("button", name=i18n.t("nl", "coach.employee.report_pdf")).click()
    pdf = Path(download_info.value.path()).read_bytes()
    text = " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages).split())
    assert "Rijkswaterstaat" in text and "inspecteur" in text
    assert canary not in text
    page.goto(f"{stack.web}/coach/")
    expect(page.locator("table.caseload tbody tr").first).not_to_contain_text(
        i18n.t("nl", "coach.signal.crisis")
    )
    assert errors == []
    context.close()


def test_arabic_chat_reads_right_to_left(stack: Stack, browser: Browser, tmp_path: Path) -> None:
    invite = stack.enrol("سارة", "ar")
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="ar")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{stack.web}/chat?code={invite['invite_code']}")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    welcome = i18n.t("ar", "enrol.welcome", name="سارة")
    first = page.locator(".from-bot p").first
    expect(first).to_have_text(welcome, timeout=60_000)
    # each bubble takes its direction from its own text: Arabic right-to-left, a Latin answer left-to-right
    assert first.evaluate("el => getComputedStyle(el).direction") == "rtl"
    page.locator("#message").fill("PostNL 2026")
    page.keyboard.press("Enter")
    mine = page.locator(".from-user p").last
    expect(mine).to_have_text("PostNL 2026", timeout=30_000)
    assert mine.evaluate("el => getComputedStyle(el).direction") == "ltr"
    # the text box and buttons follow the page: right-to-left
    assert page.locator("#message").evaluate("el => getComputedStyle(el).direction") == "rtl"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(tmp_path / "chat-ar.png"))
    assert (tmp_path / "chat-ar.png").stat().st_size > 5000
    assert errors == []
    context.close()


def xss_payloads(count: int = 200) -> list[str]:
    """``count`` distinct XSS attempts: tags, handlers, attribute breaks, URLs, templates, encodings.

    Each one, should it ever run, appends its number to ``window.__xss``.
    """

    def run(n: int) -> str:
        return f"(window.__xss=window.__xss||[]).push({n})"

    shapes = [
        lambda n: f"<script>{run(n)}</script>",
        lambda n: f'<img src=x onerror="{run(n)}">',
        lambda n: f"<svg onload={run(n)}>",
        lambda n: f'"><img src=x onerror={run(n)}>',
        lambda n: f"'><svg/onload={run(n)}>",
        lambda n: f'<a href="javascript:{run(n)}">klik</a>',
        lambda n: f'<iframe srcdoc="<script>parent.{run(n)}</script>"></iframe>',
        lambda n: f'<body onload="{run(n)}">',
        lambda n: f'<details open ontoggle="{run(n)}">',
        lambda n: f"</textarea><script>{run(n)}</script>",
        lambda n: f"</title><img src=x onerror={run(n)}>",
        lambda n: f'<input autofocus onfocus="{run(n)}">',
        lambda n: f"<math><mtext><img src=x onerror={run(n)}></mtext></math>",
        # AngularJS-style template injection; `{{constructor.constructor(...)}}` is the same
        # attack, but the model reads that sentence as a request for help, which (rightly)
        # interrupts the questionnaire instead of storing it
        lambda n: f"{{{{$on.constructor('{run(n)}')()}}}}",
        lambda n: f'<object data="javascript:{run(n)}"></object>',
        lambda n: f"<style>@import 'javascript:{run(n)}';</style>",
        lambda n: f"&lt;script&gt;{run(n)}&lt;/script&gt;",
        lambda n: f'<div style="background:url(javascript:{run(n)})">x</div>',
        lambda n: f"<ScRiPt>{run(n)}</sCrIpT>",
        lambda n: f'<video><source onerror="{run(n)}"></video>',
    ]
    return [f"Bakkerij {n} {shapes[n % len(shapes)](n)}" for n in range(count)]


def test_two_hundred_xss_payloads_typed_into_chat_render_as_text_for_the_coach(
    stack: Stack, browser: Browser
) -> None:
    """Every payload is stored from the chat and shown to the coach as text; none runs."""
    import uuid

    from sqlalchemy import select

    from bot.models import AssignmentProgress

    email, password = add_coach(stack, "Xavier Xie")
    invite = stack.enrol("Yara Yilmaz", "nl", coach=email)
    who = f"xss-{uuid.uuid4().hex[:8]}"
    stack.say(who, f"/start {invite['invite_code']}")
    payloads = xss_payloads()
    stack.say(who, '/start_assignments{"assignment":"work_history"}')
    for k in range(0, len(payloads), 3):
        employer, role, tasks = [*payloads[k : k + 3], "schoonmaken", "schoonmaken"][:3]
        for answer in (employer, role, "2010 - 2020", tasks, "ja" if k + 3 < len(payloads) else "nee"):
            assert stack.say(who, answer)
    db = stack.database()
    with db.session() as s:
        answers = s.scalars(
            select(AssignmentProgress.answers).where(
                AssignmentProgress.employee_id == invite["id"],
                AssignmentProgress.assignment_key == "work_history",
            )
        ).one()
    db.dispose()
    stored = str(answers)
    assert [p for p in payloads if p not in stored] == [], "every payload reached the profile"

    context = browser.new_context(locale="nl-NL")
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("dialog", lambda dialog: problems.append(f"dialog: {dialog.message}"))
    log_in(page, stack, email, password)
    page.get_by_role("link", name="Yara Yilmaz").click()
    profile = page.locator(".profile")
    expect(profile).to_contain_text(payloads[-1], timeout=30_000)
    shown = profile.inner_text()
    assert [p for p in payloads if p not in shown] == [], "every payload is shown as text"
    assert page.evaluate("window.__xss === undefined")
    injected = page.locator(
        ".profile script, .profile img, .profile svg, .profile iframe, .profile a[href^=java]"
    )
    assert injected.count() == 0
    assert problems == []
    context.close()
