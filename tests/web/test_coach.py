"""The coach's login and caseload: CSRF, throttling, real logout, own employees only, audit."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from httpx import Response
from sqlalchemy import select, update
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
    client: TestClient, db: Database, people: dict[str, object]
) -> None:
    login(client, "anna@koers.test")
    foreign = client.get(f"/coach/employees/{people['other']}")
    assert foreign.status_code == 404 and "Olga" not in foreign.text
    assert client.get("/coach/employees/999999").status_code == 404
    own = client.get(f"/coach/employees/{people['piet']}")
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
    client: TestClient, db: Database, people: dict[str, object]
) -> None:
    login(client, "anna@koers.test")
    assert (
        client.get(f"/coach/employees/{people['other']}/report?month=2026-10&format=pdf").status_code == 404
    )
    pdf = client.get(f"/coach/employees/{people['piet']}/report?month=2026-10&format=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    html = client.get(f"/coach/employees/{people['piet']}/report?month=2026-10")
    assert "Piet Jansen" in html.text
    assert client.get(f"/coach/employees/{people['piet']}/report?month=oktober").status_code == 400
    with db.session() as s:
        actions = s.scalars(select(AuditEntry.target).where(AuditEntry.employee_id == people["piet"])).all()
    assert actions == ["employer report 2026-10 (pdf)", "employer report 2026-10 (html)"]


def test_applications_and_cv_downloads_are_own_employees_only_and_audited(
    client: TestClient, db: Database, people: dict[str, object]
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
    page = client.get(f"/coach/employees/{piet}").text
    assert "PostNL" in page and f"/coach/employees/{piet}/cv.pdf" in page
    assert f"/coach/employees/{piet}/applications.csv" in page
    other = people["other"]
    for path in ("applications.csv", "applications.pdf", "cv.pdf", "cv.docx"):
        assert client.get(f"/coach/employees/{other}/{path}").status_code == 404
    csv_file = client.get(f"/coach/employees/{piet}/applications.csv")
    assert csv_file.status_code == 200 and "PostNL" in csv_file.content.decode("utf-8-sig")
    assert client.get(f"/coach/employees/{piet}/applications.pdf").content.startswith(b"%PDF")
    assert client.get(f"/coach/employees/{piet}/cv.pdf").content.startswith(b"%PDF")
    assert client.get(f"/coach/employees/{piet}/cv.docx").content.startswith(b"PK")
    assert client.get(f"/coach/employees/{piet}/cv.odt").status_code == 404
    with db.session() as s:
        targets = s.scalars(
            select(AuditEntry.target).where(AuditEntry.employee_id == piet, AuditEntry.action == "download")
        ).all()
    assert targets == ["applications (csv)", "applications (pdf)", "cv (pdf)", "cv (docx)"]
