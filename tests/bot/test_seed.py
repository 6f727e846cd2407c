"""``koers seed``: a deterministic demo caseload, refused on a database with employees unless forced."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from bot.config import Settings
from bot.db import Database
from bot.enrolment import KoersError, add_employee, trajectory_week
from bot.models import (
    Application,
    ApplicationStatusChange,
    AuditEntry,
    Coach,
    Employee,
    Reflection,
    Signal,
    Summary,
    WeekNote,
)
from bot.passwords import verify_password
from bot.seed import SEED_PASSWORD, TABLES, seed
from bot.web.app import create_app
from tests.conftest import koers
from tests.web.test_coach import login, page_of

NOW = dt.datetime(2026, 11, 25, 15, 0, tzinfo=dt.timezone.utc)


def dump(db: Database) -> dict[str, list[tuple[object, ...]]]:
    """Returns the rows of the main seeded tables, for comparing two runs."""
    with db.session() as s:
        return {
            model.__tablename__: [tuple(r) for r in s.execute(select(model.__table__).order_by(model.id))]
            for model in (Employee, Application, ApplicationStatusChange, Reflection, Signal, WeekNote)
        }


def test_seed_writes_a_caseload_with_history(db: Database) -> None:
    result = seed(db, coaches=2, employees=8, weeks=30, seed=7, now=NOW)
    assert result.rows["coaches"] == 2 and result.rows["employees"] == 8
    assert set(result.rows) == set(TABLES)
    with db.session() as s:
        coaches = list(s.scalars(select(Coach).order_by(Coach.email)))
        assert [c.email for c in coaches] == ["coach01@koers.test", "coach02@koers.test"]
        # one hash, computed once, and it is the documented password
        assert coaches[0].password_hash == coaches[1].password_hash
        assert verify_password(coaches[0].password_hash, SEED_PASSWORD)
        per_coach = dict(s.execute(select(Employee.coach_id, func.count()).group_by(Employee.coach_id)).all())
        assert sorted(per_coach.values()) == [4, 4]
        full = s.get(Employee, result.full_history_employee)
        assert full is not None and trajectory_week(full.first_sick_day, NOW.date()) == 30
        weeks = [trajectory_week(e.first_sick_day, NOW.date()) for e in s.scalars(select(Employee))]
        assert all(1 <= w <= 30 for w in weeks)
        # about three applications a week for the one with the full history, each with a history
        count = s.scalar(select(func.count()).where(Application.employee_id == full.id)) or 0
        assert 30 * 1.5 <= count <= 30 * 5
        assert s.scalar(select(func.count(Application.id)).where(~Application.history.any())) == 0
        assert s.scalar(select(func.count()).select_from(Signal).where(Signal.resolved_at.is_not(None)))
        assert s.scalar(select(func.count()).select_from(Signal).where(Signal.resolved_at.is_(None)))
        assert s.scalar(select(func.count()).select_from(Reflection).where(Reflection.mood.is_not(None)))
        assert s.scalar(select(func.count()).select_from(Summary))
        actions = set(s.scalars(select(AuditEntry.action)))
        assert {"view", "resolve", "download"} <= actions
        # nothing lies in the future
        assert max(s.scalars(select(Application.applied_on))) <= NOW.date()
        assert max(s.scalars(select(AuditEntry.created_at))) <= NOW


def test_seed_is_deterministic(tmp_path: Path) -> None:
    runs = []
    for name in ("a", "b"):
        db = Database(f"sqlite:///{tmp_path / name}.db")
        db.upgrade()
        seed(db, coaches=1, employees=4, weeks=20, seed=3, now=NOW)
        runs.append(dump(db))
        db.dispose()
    assert runs[0] == runs[1]


def test_seed_refuses_a_database_with_employees_unless_forced(db: Database) -> None:
    seed(db, coaches=1, employees=3, weeks=10, now=NOW)
    with pytest.raises(KoersError, match="already has 3 employees"):
        seed(db, coaches=1, employees=3, weeks=10, now=NOW)
    again = seed(db, coaches=2, employees=4, weeks=10, now=NOW, force=True)
    with db.session() as s:
        assert s.scalar(select(func.count(Employee.id))) == 7
        assert s.scalar(select(func.count(Coach.id))) == 2  # coach01 reused, coach02 added
    assert again.rows["coaches"] == 1
    # ids continue where the data was (PostgreSQL's sequences too): a real insert still works
    with db.session() as s, s.begin():
        employee, _ = add_employee(
            s,
            coach_email="coach01@koers.test",
            name="Na Seed",
            language="nl",
            first_sick_day=dt.date(2026, 1, 5),
        )
        assert employee.id == 8


@pytest.mark.parametrize(
    ("args", "message"), [(["--weeks", "105"], "--weeks"), (["--coaches", "0"], "--coaches")]
)
def test_seed_command_checks_its_sizes(tmp_path: Path, args: list[str], message: str) -> None:
    result = koers(tmp_path, "seed", *args)
    assert result.returncode == 1 and message in result.stderr and result.stderr.count("\n") == 1


def test_seed_command_prints_json_and_refuses_a_second_run(tmp_path: Path) -> None:
    first = koers(tmp_path, "seed", "--coaches", "1", "--employees", "3", "--weeks", "12", "--json")
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)
    assert data["employees"] == 3 and data["rows"]["employees"] == 3
    assert data["coach_emails"] == ["coach01@koers.test"] and data["password"] == SEED_PASSWORD
    second = koers(tmp_path, "seed", "--coaches", "1", "--employees", "3", "--weeks", "12")
    assert second.returncode == 1 and "--force" in second.stderr
    forced = koers(tmp_path, "seed", "--coaches", "1", "--employees", "2", "--weeks", "12", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "seeded 1 coaches and 2 employees" in forced.stdout


def test_seeded_coach_sees_the_caseload_and_every_employee_page(db: Database, settings: Settings) -> None:
    seed(db, coaches=1, employees=12, weeks=104, seed=5)
    with db.session() as s:
        ids = list(s.scalars(select(Employee.id)))
    with TestClient(create_app(settings, db), base_url="http://127.0.0.1:8000", follow_redirects=False) as c:
        assert login(c, "coach01@koers.test", SEED_PASSWORD) == 303
        assert c.get("/coach/").status_code == 200
        for employee_id in ids:
            response = c.get(page_of(settings, employee_id))
            assert response.status_code == 200, employee_id
        month = (dt.date.today().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
        report = c.get(f"{page_of(settings, ids[0])}/report?month={month}&format=pdf")
        assert report.status_code == 200 and report.content.startswith(b"%PDF")
        assert c.get(f"{page_of(settings, ids[0])}/applications.csv").status_code == 200
