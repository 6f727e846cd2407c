"""The signal rules: inactivity with a per-employee threshold, two low weeks, milestones; idempotent."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from bot import i18n
from bot.applications import AMSTERDAM
from bot.catalogue import catalogue
from bot.config import Settings
from bot.db import Database
from bot.models import Application, Employee, Signal
from bot.signals import back_active, next_milestone, refresh, refresh_all
from tests.conftest import koers

NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.timezone.utc)  # a Thursday


def employee(db: Database, employee_id: int, **values: object) -> None:
    with db.session() as s, s.begin():
        row = s.get(Employee, employee_id)
        assert row is not None
        for key, value in values.items():
            setattr(row, key, value)


def kinds(db: Database, employee_id: int) -> list[str]:
    with db.session() as s:
        return sorted(
            s.scalars(
                select(Signal.kind).where(Signal.employee_id == employee_id, Signal.resolved_at.is_(None))
            )
        )


def run(db: Database, employee_id: int, now: dt.datetime = NOW) -> None:
    with db.session() as s, s.begin():
        row = s.get(Employee, employee_id)
        assert row is not None
        refresh(s, row, now)


def test_inactivity_uses_the_employees_threshold_and_ends_when_they_talk(
    db: Database, people: dict[str, object]
) -> None:
    piet = int(people["piet"])  # type: ignore[call-overload]
    # enrolled long ago, first sick day far from any milestone, two good weeks: only inactivity can fire
    employee(
        db,
        piet,
        created_at=NOW - dt.timedelta(days=60),
        last_activity_at=NOW - dt.timedelta(days=8),
        weekly_target=0,
        first_sick_day=dt.date(2026, 5, 1),
    )
    run(db, piet)
    assert kinds(db, piet) == ["inactivity"]
    run(db, piet)  # the rule runs again: still one signal
    with db.session() as s:
        assert s.scalar(select(func.count(Signal.id)).where(Signal.employee_id == piet)) == 1
    with db.session() as s, s.begin():
        back_active(s, piet)
    assert kinds(db, piet) == []
    # a coach who allows ten quiet days gets no signal after eight
    employee(db, piet, inactivity_days=10, last_activity_at=NOW - dt.timedelta(days=8, hours=1))
    run(db, piet)
    assert kinds(db, piet) == []


def test_target_missed_two_weeks_running(db: Database, people: dict[str, object]) -> None:
    jane = int(people["jane"])  # type: ignore[call-overload]
    employee(
        db,
        jane,
        created_at=NOW - dt.timedelta(days=60),
        last_activity_at=NOW,
        first_sick_day=dt.date(2026, 5, 1),
        weekly_target=2,
    )
    with db.session() as s, s.begin():
        # two in the week before last, none last week: only one low week
        for n in range(2):
            s.add(
                Application(
                    employee_id=jane,
                    idempotency_key=f"sig:{n}",
                    employer="X",
                    job_title="y",
                    applied_on=dt.date(2026, 11, 10),
                    channel="phone",
                    status="sent",
                )
            )
    run(db, jane)
    assert kinds(db, jane) == []
    # a week later both whole weeks were low
    run(db, jane, NOW + dt.timedelta(days=7))
    assert "target_missed" in kinds(db, jane)


def test_no_target_signal_for_weeks_before_enrolment(db: Database, people: dict[str, object]) -> None:
    olga = int(people["other"])  # type: ignore[call-overload]
    employee(
        db,
        olga,
        created_at=NOW - dt.timedelta(days=3),
        last_activity_at=NOW,
        first_sick_day=dt.date(2026, 5, 1),
    )
    run(db, olga)
    assert kinds(db, olga) == []


def test_milestone_two_weeks_ahead(db: Database, people: dict[str, object]) -> None:
    piet = int(people["piet"])  # type: ignore[call-overload]
    today = NOW.astimezone(AMSTERDAM).date()
    # week 46 (first-year evaluation) starts in 10 days
    first_sick_day = today + dt.timedelta(days=10) - dt.timedelta(days=7 * 45)
    employee(db, piet, first_sick_day=first_sick_day, last_activity_at=NOW, created_at=NOW)
    milestone = next_milestone(first_sick_day, today)
    assert milestone is not None and (milestone.week, milestone.key) == (46, "first_year_evaluation")
    run(db, piet)
    with db.session() as s:
        detail = s.scalar(select(Signal.detail).where(Signal.kind == "milestone"))
    assert detail == "46:first_year_evaluation"
    # after week 104 there is no next milestone
    assert next_milestone(today - dt.timedelta(weeks=110), today) is None


def test_every_milestone_has_a_name_in_every_language() -> None:
    for lang in i18n.languages():
        for _, key in catalogue().milestones:
            assert f"milestone.{key}" in i18n.catalog_ids(lang)


def test_refresh_all_and_the_cli(
    db: Database, people: dict[str, object], settings: Settings, tmp_path: object
) -> None:
    with db.session() as s, s.begin():
        for row in s.scalars(select(Employee)):
            row.last_activity_at = NOW - dt.timedelta(days=30)
        assert refresh_all(s, NOW) >= 3
    done = koers(tmp_path / "var", "signals", "refresh", "--json", database_url=settings.database_url)  # type: ignore[operator]
    assert done.returncode == 0, done.stderr
    assert '"signals"' in done.stdout
