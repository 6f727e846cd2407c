"""No N+1 on the coach's pages: the number of SQL statements does not grow with what a page shows.

Statements are counted with SQLAlchemy's ``before_cursor_execute`` event on the
app's engine (an ``executemany`` counts once). Runs on SQLite and, when
``KOERS_TEST_POSTGRES_URL`` is set, on PostgreSQL (the ``database_url`` fixture).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from starlette.testclient import TestClient

from bot import i18n
from bot.config import Settings
from bot.db import Database
from bot.models import (
    Application,
    ApplicationStatusChange,
    Coach,
    CoachNote,
    Employee,
    Reflection,
    Signal,
    Summary,
    WeekNote,
    utcnow,
)
from bot.web.app import create_app
from tests.web.test_coach import login, page_of

# generous ceilings that still catch a loop of queries: today 5 and 17
CASELOAD_MAX = 10
EMPLOYEE_PAGE_MAX = 25


@pytest.fixture
def client(settings: Settings, db: Database, people: dict[str, object]) -> Iterator[TestClient]:
    with TestClient(create_app(settings, db), base_url="http://127.0.0.1:8000", follow_redirects=False) as c:
        yield c


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    """Collects every SQL statement sent on ``engine`` inside the block."""
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def statements_for(client: TestClient, db: Database, path: str) -> list[str]:
    """Requests a page (it must render) and returns the statements it sent."""
    with counting(db.engine) as statements:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return statements


def add_employees(db: Database, count: int) -> None:
    """Gives Anna ``count`` more employees, each with this week's applications, signals and history."""
    today = dt.date.today()
    with db.session() as s, s.begin():
        anna = s.scalar(select(Coach).where(Coach.email == "anna@koers.test"))
        assert anna is not None
        start = s.scalar(select(Employee.id).order_by(Employee.id.desc())) or 0
        for n in range(count):
            employee = Employee(
                coach_id=anna.id,
                name=f"Medewerker {start + n:03d}",
                first_sick_day=today - dt.timedelta(days=7 * (n % 90) + 3),
                trajectory="intensive" if n % 3 else "light",
                last_activity_at=utcnow() - dt.timedelta(days=n % 12),
            )
            s.add(employee)
            s.flush()
            for k in range(n % 4):
                s.add(
                    Application(
                        employee_id=employee.id,
                        idempotency_key=f"count:{employee.id}:{k}",
                        employer=f"Werkgever {k}",
                        job_title="planner",
                        applied_on=today,
                        channel="agency" if k == 0 else "vacancy_site",
                        status="sent",
                    )
                )
            s.add(
                Signal(
                    employee_id=employee.id,
                    kind="inactivity" if n % 2 else "crisis",
                    urgency=30 if n % 2 else 100,
                    dedupe_key=f"count:{employee.id}:open",
                )
            )
            s.add(
                Signal(
                    employee_id=employee.id,
                    kind="milestone",
                    urgency=20,
                    dedupe_key=f"count:{employee.id}:done",
                    resolved_at=utcnow(),
                )
            )


def add_applications(db: Database, employee_id: int, count: int) -> None:
    """Adds ``count`` applications with a two-step status history, and more of everything else."""
    today = dt.date.today()
    with db.session() as s, s.begin():
        coach_id = s.scalar(select(Employee.coach_id).where(Employee.id == employee_id))
        assert coach_id is not None
        first = s.scalar(select(Application.id).order_by(Application.id.desc())) or 0
        for n in range(count):
            day = today - dt.timedelta(days=n)
            application = Application(
                employee_id=employee_id,
                idempotency_key=f"page:{first + n}",
                employer=f"Werkgever {first + n}",
                job_title="chauffeur",
                applied_on=day,
                channel="agency" if n % 5 == 0 else "vacancy_site",
                status="interview",
            )
            application.history.append(ApplicationStatusChange(status="sent", changed_on=day))
            application.history.append(ApplicationStatusChange(status="interview", changed_on=today))
            s.add(application)
            s.add(
                Reflection(
                    employee_id=employee_id,
                    week_number=n + 1,
                    mood=1 + n % 5,
                    small_step="Bellen",
                    answers={"_steps": ["mood"]},
                    completed_at=utcnow(),
                )
            )
            s.add(Summary(employee_id=employee_id, session_key=f"page:{first + n}", language="nl", text="•"))
            s.add(
                Signal(
                    employee_id=employee_id,
                    kind="target_missed",
                    urgency=40,
                    dedupe_key=f"page:{first + n}",
                    resolved_at=utcnow() if n % 2 else None,
                )
            )
            s.add(CoachNote(employee_id=employee_id, coach_id=coach_id, text=f"notitie {n}"))
            year, week, _ = (today - dt.timedelta(days=7 * (first + n))).isocalendar()
            s.add(WeekNote(employee_id=employee_id, iso_year=year, iso_week=week, reason="training"))


def test_caseload_statements_do_not_grow_with_the_employees(client: TestClient, db: Database) -> None:
    add_employees(db, 8)  # with Piet and Jane: 10
    assert login(client, "anna@koers.test") == 303
    client.get("/coach/")
    ten = statements_for(client, db, "/coach/")
    add_employees(db, 40)  # 50: one full page
    fifty = statements_for(client, db, "/coach/")
    assert len(fifty) == len(ten) <= CASELOAD_MAX, "\n".join(fifty)
    # every view keeps the same shape
    for path in ("/coach/?show=signals", "/coach/?show=below_target", "/coach/?show=light", "/coach/?q=mede"):
        assert len(statements_for(client, db, path)) == len(ten), path
    page = client.get("/coach/").text
    assert page.count('<tr class="') == 50


def test_employee_page_statements_do_not_grow_with_the_applications(
    client: TestClient, db: Database, people: dict[str, object], settings: Settings
) -> None:
    piet = int(str(people["piet"]))
    add_applications(db, piet, 5)
    assert login(client, "anna@koers.test") == 303
    page = page_of(settings, piet)
    client.get(page)
    five = statements_for(client, db, page)
    add_applications(db, piet, 45)
    fifty = statements_for(client, db, page)
    assert len(fifty) == len(five) <= EMPLOYEE_PAGE_MAX, "\n".join(fifty)
    html = client.get(page).text
    # the applications with their histories are really on the page
    assert i18n.t("nl", "coach.employee.applications", count=50) in html
    rows = html.split('<table class="applications">', 1)[1].split("</table>", 1)[0]
    assert rows.count("Werkgever ") == 50 and rows.count("→") == 50


def test_employee_page_shows_the_newest_hundred_applications_with_their_history(
    client: TestClient, db: Database, people: dict[str, object], settings: Settings
) -> None:
    piet = int(str(people["piet"]))
    add_applications(db, piet, 120)
    assert login(client, "anna@koers.test") == 303
    page = page_of(settings, piet)
    client.get(page)
    statements = statements_for(client, db, page)
    assert len(statements) <= EMPLOYEE_PAGE_MAX
    html = client.get(page).text
    rows = html.split('<table class="applications">', 1)[1].split("</table>", 1)[0]
    assert rows.count("<tr>") == 1 + 100  # the header and the newest 100
    assert "Werkgever 0<" in rows and "Werkgever 119<" not in rows
    assert rows.count("→") == 100  # each with its status history
