"""Enrolment: coaches, employees and one-time invite codes, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text

from bot.db import Database
from bot.enrolment import (
    KoersError,
    Redeemed,
    add_coach,
    add_employee,
    binding_for,
    hash_code,
    redeem,
    trajectory_week,
)
from bot.models import Coach, Employee, utcnow
from bot.passwords import verify_password


def test_migrations_are_idempotent_and_match_the_models(db: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from bot.db import alembic_config
    from bot.models import Base

    db.upgrade()
    head = ScriptDirectory.from_config(alembic_config(db.url)).get_current_head()
    with db.engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        # what autogenerate would still add: nothing, so the migrations build exactly the models
        drift = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert version == head
    assert drift == []


def test_coach_password_is_hashed(db: Database) -> None:
    with db.session() as s, s.begin():
        add_coach(s, "Coach@Example.nl", "C", "a long password")
    with db.session() as s:
        coach = s.scalar(select(Coach))
        assert coach is not None
        assert coach.email == "coach@example.nl"
        assert "a long password" not in coach.password_hash
        assert verify_password(coach.password_hash, "a long password")
        assert not verify_password(coach.password_hash, "wrong password")


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [("no-at-sign", "a long password", "email"), ("x@y.nl", "short", "too short")],
)
def test_coach_rejects_bad_input(db: Database, email: str, password: str, message: str) -> None:
    with db.session() as s, s.begin(), pytest.raises(KoersError, match=message):
        add_coach(s, email, "C", password)


def test_duplicate_coach_is_refused(db: Database, people: dict[str, object]) -> None:
    with db.session() as s, s.begin(), pytest.raises(KoersError, match="already exists"):
        add_coach(s, "anna@koers.test", "Anna", "another long password")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"coach_email": "nobody@koers.test"}, "unknown coach"),
        ({"language": "xx"}, "unsupported language"),
        ({"trajectory": "medium"}, "trajectory"),
        ({"weekly_target": -1}, "weekly target"),
        ({"first_sick_day": dt.date.today() + dt.timedelta(days=3)}, "future"),
        ({"name": "  "}, "name"),
    ],
)
def test_employee_rejects_bad_input(
    db: Database, people: dict[str, object], kwargs: dict[str, object], message: str
) -> None:
    base: dict[str, object] = {
        "coach_email": "anna@koers.test",
        "name": "Kees",
        "language": "nl",
        "first_sick_day": dt.date(2026, 1, 5),
    }
    with db.session() as s, s.begin(), pytest.raises(KoersError, match=message):
        add_employee(s, **{**base, **kwargs})  # type: ignore[arg-type]


def test_invite_code_is_stored_hashed_and_expires_in_14_days(db: Database, people: dict[str, object]) -> None:
    code = str(people["piet_code"])
    with db.session() as s:
        employee = s.get(Employee, people["piet"])
        assert employee is not None
        assert employee.invite_code_hash == hash_code(code)
        assert code not in str(employee.invite_code_hash)
        assert employee.invite_expires_at is not None
        left = employee.invite_expires_at - utcnow()
        assert dt.timedelta(days=13, hours=23) < left <= dt.timedelta(days=14)


def test_redeem_binds_once_and_refuses_replay(db: Database, people: dict[str, object]) -> None:
    code = str(people["piet_code"])
    with db.session() as s, s.begin():
        outcome, binding = redeem(s, "web:abc", code.lower())
        assert outcome is Redeemed.BOUND and binding is not None
        assert binding.employee_id == people["piet"]
    with db.session() as s, s.begin():
        # the same message delivered twice changes nothing and still succeeds
        assert redeem(s, "web:abc", code)[0] is Redeemed.BOUND
        # another channel identity may not reuse it
        assert redeem(s, "telegram:42", code) == (Redeemed.USED, None)
        assert binding_for(s, "telegram:42") is None
        found = binding_for(s, "web:abc")
        assert found is not None and found.language == "nl"


def test_redeem_refuses_unknown_expired_and_second_employee(db: Database, people: dict[str, object]) -> None:
    with db.session() as s, s.begin():
        assert redeem(s, "rest:1", "NOSUCHCODE") == (Redeemed.INVALID, None)
        later = utcnow() + dt.timedelta(days=15)
        assert redeem(s, "rest:1", str(people["jane_code"]), now=later) == (Redeemed.EXPIRED, None)
        assert redeem(s, "rest:1", str(people["jane_code"]))[0] is Redeemed.BOUND
        outcome, binding = redeem(s, "rest:1", str(people["other_code"]))
        assert outcome is Redeemed.ALREADY_BOUND
        assert binding is not None and binding.employee_id == people["jane"]


@pytest.mark.parametrize(("days", "week"), [(0, 1), (6, 1), (7, 2), (364, 53), (721, 104), (800, 115)])
def test_trajectory_week_counts_from_the_first_sick_day(days: int, week: int) -> None:
    first = dt.date(2025, 3, 3)
    assert trajectory_week(first, first + dt.timedelta(days=days)) == week
