"""The coach's login and caseload: CSRF, throttling, real logout, own employees only, audit."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from httpx import Response
from sqlalchemy import func, select, update
from starlette.testclient import TestClient

from bot import i18n
from bot.config import Settings
from bot.db import Database
from bot.models import AuditEntry, CoachSession
from bot.web.app import create_app
from tests.conftest import PASSWORD


@pytest.fixture
def client(settings: Settings, db: Database, people: dict[str, object]) -> Iterator[TestClient]:
    with TestClient(create_app(settings, db), base_url="http://127.0.0.1:8000", follow_redirects=False) as c:
        yield c


def page_of(settings: Settings, employee_id: object) -> str:
    """Returns the URL of an employee's page (ids in URLs carry a MAC)."""
    from bot.web.coach import employee_ref

    return f"/coach/employees/{employee_ref(settings.secret_key, int(str(employee_id)))}"


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def login(client: TestClient, email: str, password: str = PASSWORD) -> int:
    return login_response(client, email, password).status_code


def login_response(client: TestClient, email: str, password: str = PASSWORD) -> Response:
    token = csrf_of(client.get("/coach/login").text)
    return client.post("/coach/login", data={"email": email, "password": password, "csrf_token": token})


def test_login_form_has_the_contract_fields(client: TestClient) -> None:
    html = client.get("/coach/login").text
    for field in ('name="email"', 'name="password"', 'name="csrf_token"'):
        assert field in html


def test_login_without_csrf_is_refused(client: TestClient) -> None:
    client.get("/coach/login")
    response = client.post("/coach/login", data={"email": "anna@koers.test", "password": PASSWORD})
    assert response.status_code == 403


def test_caseload_shows_only_own_employees(client: TestClient) -> None:
    assert client.get("/coach/").status_code == 303
    assert login(client, "anna@koers.test") == 303
    page = client.get("/coach/")
    assert page.status_code == 200
    assert "Piet Jansen" in page.text and "Jane Smith" in page.text
    assert "Olga Nowak" not in page.text
    assert "week 43 van 104" in page.text


def test_other_coaches_employee_is_404_and_own_is_audited(
    client: TestClient, db: Database, people: dict[str, object], settings: Settings
) -> None:
    login(client, "anna@koers.test")
    foreign = client.get(page_of(settings, people["other"]))
    assert foreign.status_code == 404 and "Olga" not in foreign.text
    # a bare id, a guessed MAC or someone's ref with another id: all 404
    assert client.get(f"/coach/employees/{people['piet']}").status_code == 404
    assert client.get(f"/coach/employees/{people['piet']}-0000000000").status_code == 404
    piet_ref = page_of(settings, people["piet"]).rsplit("/", 1)[1]
    assert client.get(f"/coach/employees/{people['jane']}-{piet_ref.split('-')[1]}").status_code == 404
    assert client.get(page_of(settings, 999999)).status_code == 404
    own = client.get(page_of(settings, people["piet"]))
    assert own.status_code == 200 and "Piet Jansen" in own.text
    with db.session() as s:
        rows = s.scalars(select(AuditEntry)).all()
    assert [(r.employee_id, r.action) for r in rows] == [(people["piet"], "view")]


def test_wrong_password_then_throttle(client: TestClient) -> None:
    for _ in range(5):
        assert login(client, "anna@koers.test", "wrong password!") == 401
    # even the right password is refused while throttled
    refused = login_response(client, "anna@koers.test")
    assert refused.status_code == 429
    assert i18n.t("nl", "coach.login.throttled") in refused.text
    # another coach is not affected
    assert login(client, "bram@koers.test") == 303


def test_logout_really_ends_the_session(client: TestClient) -> None:
    login(client, "anna@koers.test")
    page = client.get("/coach/")
    old_cookie = client.cookies.get("koers_coach")
    response = client.post("/coach/logout", data={"csrf_token": csrf_of(page.text)})
    assert response.status_code == 303
    client.cookies.set("koers_coach", old_cookie or "", path="/coach")
    assert client.get("/coach/").status_code == 303


def test_idle_session_expires(client: TestClient, db: Database) -> None:
    login(client, "anna@koers.test")
    with db.session() as s, s.begin():
        s.execute(
            update(CoachSession).values(last_seen_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2))
        )
    assert client.get("/coach/").status_code == 303


def test_report_download_is_own_employees_only_and_audited(
    client: TestClient, db: Database, people: dict[str, object], settings: Settings
) -> None:
    login(client, "anna@koers.test")
    assert (
        client.get(f"{page_of(settings, people['other'])}/report?month=2026-10&format=pdf").status_code == 404
    )
    pdf = client.get(f"{page_of(settings, people['piet'])}/report?month=2026-10&format=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    html = client.get(f"{page_of(settings, people['piet'])}/report?month=2026-10")
    assert "Piet Jansen" in html.text
    assert client.get(f"{page_of(settings, people['piet'])}/report?month=oktober").status_code == 400
    with db.session() as s:
        actions = s.scalars(select(AuditEntry.target).where(AuditEntry.employee_id == people["piet"])).all()
    assert actions == ["employer report 2026-10 (pdf)", "employer report 2026-10 (html)"]


def test_applications_and_cv_downloads_are_own_employees_only_and_audited(
    client: TestClient, db: Database, people: dict[str, object], settings: Settings
) -> None:
    from bot.models import Application, CurriculumVitae

    piet = int(people["piet"])  # type: ignore[call-overload]
    with db.session() as s, s.begin():
        s.add(
            Application(
                employee_id=piet,
                idempotency_key="web:1",
                employer="PostNL",
                job_title="planner",
                applied_on=dt.date.today(),
                channel="agency",
                status="sent",
            )
        )
        s.add(
            CurriculumVitae(employee_id=piet, language="nl", sections={"personal": {"name": "Piet Jansen"}})
        )
    login(client, "anna@koers.test")
    base = page_of(settings, piet)
    page = client.get(base).text
    assert "PostNL" in page and f"{base}/cv.pdf" in page
    assert f"{base}/applications.csv" in page
    other = page_of(settings, people["other"])
    for path in ("applications.csv", "applications.pdf", "cv.pdf", "cv.docx"):
        assert client.get(f"{other}/{path}").status_code == 404
    csv_file = client.get(f"{base}/applications.csv")
    assert csv_file.status_code == 200 and "PostNL" in csv_file.content.decode("utf-8-sig")
    assert client.get(f"{base}/applications.pdf").content.startswith(b"%PDF")
    assert client.get(f"{base}/cv.pdf").content.startswith(b"%PDF")
    assert client.get(f"{base}/cv.docx").content.startswith(b"PK")
    assert client.get(f"{base}/cv.odt").status_code == 404
    with db.session() as s:
        targets = s.scalars(
            select(AuditEntry.target).where(AuditEntry.employee_id == piet, AuditEntry.action == "download")
        ).all()
    assert targets == ["applications (csv)", "applications (pdf)", "cv (pdf)", "cv (docx)"]


def add_signal(db: Database, employee_id: object, kind: str, key: str) -> int:
    from bot.signals import raise_signal

    with db.session() as s, s.begin():
        return raise_signal(s, int(str(employee_id)), kind, key).id


def test_caseload_puts_crisis_first_and_filters(
    client: TestClient, db: Database, people: dict[str, object]
) -> None:
    add_signal(db, people["jane"], "inactivity", "t:jane")
    add_signal(db, people["piet"], "crisis", "t:piet")
    login(client, "anna@koers.test")
    page = client.get("/coach/").text
    assert page.index("Piet Jansen") < page.index("Jane Smith")
    assert i18n.t("nl", "coach.signal.crisis") in page
    assert i18n.t("nl", "coach.caseload.count", count=2) in page
    # the next Poortwachter milestone is named for each employee
    assert i18n.t("nl", "coach.caseload.milestone") in page
    with db.session() as s, s.begin():
        from bot.models import Employee

        jane = s.get(Employee, people["jane"])
        assert jane is not None
        jane.trajectory = "intensive"
    assert "Piet Jansen" not in client.get("/coach/?show=intensive").text
    assert "Jane Smith" in client.get("/coach/?show=intensive").text
    assert "Piet Jansen" in client.get("/coach/?show=below_target").text
    # a search for "%" is a literal percent sign, not a wildcard
    assert i18n.t("nl", "coach.caseload.empty") in client.get("/coach/?q=%25").text
    assert "Jane Smith" in client.get("/coach/?q=jane").text


def test_resolve_note_message_and_settings_need_csrf_and_own_employee(
    client: TestClient, db: Database, people: dict[str, object], settings: Settings
) -> None:
    from bot.models import CoachMessage, CoachNote, Employee, Signal

    signal_id = add_signal(db, people["piet"], "crisis", "t:crisis")
    other_signal = add_signal(db, people["jane"], "low_mood", "t:jane-mood")
    login(client, "anna@koers.test")
    base = page_of(settings, people["piet"])
    csrf = csrf_of(client.get(base).text)
    # without the token nothing happens
    assert client.post(f"{base}/signals/{signal_id}/resolve", data={"note": "x"}).status_code == 403
    # a signal of another employee through this employee's page: 404
    assert client.post(f"{base}/signals/{other_signal}/resolve", data={"csrf_token": csrf}).status_code == 404
    done = client.post(
        f"{base}/signals/{signal_id}/resolve", data={"csrf_token": csrf, "note": "Gebeld, gaat beter <b>"}
    )
    assert done.status_code == 303 and done.headers["location"] == f"{base}#signals"
    client.post(f"{base}/notes", data={"csrf_token": csrf, "text": "Let op: wil parttime"})
    client.post(f"{base}/message", data={"csrf_token": csrf, "text": "Goed bezig deze week!"})
    client.post(f"{base}/settings", data={"csrf_token": csrf, "weekly_target": "3", "inactivity_days": "10"})
    assert (
        client.post(f"{base}/settings", data={"csrf_token": csrf, "weekly_target": "drie"}).status_code == 400
    )
    other = page_of(settings, people["other"])
    assert client.post(f"{other}/notes", data={"csrf_token": csrf, "text": "x"}).status_code == 404
    with db.session() as s:
        signal = s.get(Signal, signal_id)
        assert signal is not None and signal.resolved_at is not None
        assert signal.resolution_note == "Gebeld, gaat beter <b>"
        assert s.scalars(select(CoachNote.text)).all() == ["Let op: wil parttime"]
        assert s.scalars(select(CoachMessage.text)).all() == ["Goed bezig deze week!"]
        piet = s.get(Employee, people["piet"])
        assert piet is not None and (piet.weekly_target, piet.inactivity_days) == (3, 10)
        actions = s.scalars(
            select(AuditEntry.action).where(
                AuditEntry.employee_id == people["piet"], AuditEntry.action != "view"
            )
        ).all()
    assert actions == ["resolve", "note", "message", "settings"]
    page = client.get(base).text
    assert "Gebeld, gaat beter &lt;b&gt;" in page  # escaped, never markup
    assert "Goed bezig deze week!" in page and "Let op: wil parttime" in page


def test_coach_pages_send_a_strict_content_security_policy(client: TestClient) -> None:
    for response in (client.get("/coach/login"),):
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy


def test_caseload_pages_through_a_large_caseload(client: TestClient, db: Database) -> None:
    from bot.models import Coach, Employee

    with db.session() as s, s.begin():
        anna = s.scalar(select(Coach).where(Coach.email == "anna@koers.test"))
        assert anna is not None
        s.add_all(
            Employee(coach_id=anna.id, name=f"Medewerker {n:03d}", first_sick_day=dt.date(2026, 1, 5))
            for n in range(118)
        )
    login(client, "anna@koers.test")
    first = client.get("/coach/").text
    assert i18n.t("nl", "coach.caseload.count", count=120) in first
    assert first.count('<tr class="') == 50 and "page=2" in first
    last = client.get("/coach/?page=3").text
    assert last.count('<tr class="') == 20 and "page=4" not in last


ROUTES = [
    ("GET", ""),
    ("GET", "/report?month=2026-10&format=pdf"),
    ("GET", "/cv.pdf"),
    ("GET", "/cv.docx"),
    ("GET", "/applications.csv"),
    ("GET", "/applications.pdf"),
    ("POST", "/notes"),
    ("POST", "/message"),
    ("POST", "/settings"),
    ("POST", "/signals/1/resolve"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_employee_route_is_deny_by_default(
    client: TestClient, db: Database, people: dict[str, object], settings: Settings, method: str, path: str
) -> None:
    from bot.models import CoachMessage, CoachNote, CurriculumVitae

    other = people["other"]
    with db.session() as s, s.begin():
        s.add(
            CurriculumVitae(
                employee_id=int(str(other)), language="nl", sections={"personal": {"name": "Olga"}}
            )
        )
    url = page_of(settings, other) + path
    # not logged in: to the login page, nothing else
    anonymous = client.request(method, url, data={"text": "x"})
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/coach/login"
    # logged in as another coach (with a valid CSRF token of their own): 404, no bytes of Olga's data
    login(client, "anna@koers.test")
    csrf = csrf_of(client.get(page_of(settings, people["piet"])).text)
    refused = client.request(method, url, data={"csrf_token": csrf, "text": "x", "note": "x"})
    assert refused.status_code == 404
    assert b"Olga" not in refused.content and b"%PDF" not in refused.content
    with db.session() as s:
        assert s.scalar(select(func.count(CoachNote.id))) == 0
        assert s.scalar(select(func.count(CoachMessage.id))) == 0
        assert s.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.employee_id == other)) == 0
