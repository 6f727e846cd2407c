"""Shared fixtures: a real database (SQLite always, PostgreSQL when started), settings, helpers."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from actions import runtime
from bot import ROOT
from bot.config import Settings, load_settings
from bot.db import Database
from bot.enrolment import add_coach, add_employee

POSTGRES_URL = os.environ.get("KOERS_TEST_POSTGRES_URL")
PASSWORD = "correct horse battery"
# the sections CONTRACT.md promises in `koers employee export`
EXPORT_KEYS = frozenset(
    {"profile", "assignments", "reflections", "cv", "applications", "summaries", "signals", "audit"}
)


def create_rasa_events_table(db: Database) -> None:
    """Creates Rasa's tracker table as its SQL tracker store does (for tests without Rasa)."""
    key = "SERIAL PRIMARY KEY" if db.engine.dialect.name == "postgresql" else "INTEGER PRIMARY KEY"
    with db.engine.begin() as conn:
        conn.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS events (id {key}, sender_id VARCHAR(255) NOT NULL, "
                "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
                "action_name VARCHAR(255), data TEXT)"
            )
        )


def koers(
    var_dir: Path, *args: str, stdin: str = "", database_url: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Runs the real `koers` command line in a fresh process (SQLite in ``var_dir`` by default)."""
    env = {
        "PATH": "/usr/bin:/bin",
        "KOERS_VAR_DIR": str(var_dir),
        "KOERS_DATABASE_URL": database_url or f"sqlite:///{var_dir / 'koers.db'}",
    }
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=timeout,
    )


def _reset_postgres(url: str) -> None:
    db = Database(url)
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    db.dispose()


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Yields an empty database URL: a SQLite file, or the test PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'koers.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("KOERS_TEST_POSTGRES_URL is not set (make test starts PostgreSQL)")
    _reset_postgres(POSTGRES_URL)
    yield POSTGRES_URL
    _reset_postgres(POSTGRES_URL)


@pytest.fixture
def settings(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Points every process-level setting at a fresh folder and database."""
    var = tmp_path / "var"
    monkeypatch.setenv("KOERS_VAR_DIR", str(var))
    monkeypatch.setenv("KOERS_DATABASE_URL", database_url)
    monkeypatch.setenv("KOERS_RASA_URL", "http://127.0.0.1:9")  # nothing listens: no test here needs Rasa
    runtime.settings.cache_clear()
    runtime.database.cache_clear()
    yield load_settings()
    if runtime.database.cache_info().currsize:
        runtime.database().dispose()
    runtime.settings.cache_clear()
    runtime.database.cache_clear()


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    """Yields the migrated database of the test."""
    database = Database(settings.database_url)
    database.upgrade()
    yield database
    database.dispose()


@pytest.fixture
def people(db: Database) -> dict[str, object]:
    """Creates two coaches, each with employees; returns ids and invite codes."""
    with db.session() as s, s.begin():
        add_coach(s, "anna@koers.test", "Anna de Vries", PASSWORD)
        add_coach(s, "bram@koers.test", "Bram Bakker", PASSWORD)
        piet, piet_code = add_employee(
            s,
            coach_email="anna@koers.test",
            name="Piet Jansen",
            language="nl",
            first_sick_day=dt.date.today() - dt.timedelta(days=300),
        )
        jane, jane_code = add_employee(
            s,
            coach_email="anna@koers.test",
            name="Jane Smith",
            language="en",
            first_sick_day=dt.date.today() - dt.timedelta(days=100),
            weekly_target=3,
        )
        other, other_code = add_employee(
            s,
            coach_email="bram@koers.test",
            name="Olga Nowak",
            language="nl",
            first_sick_day=dt.date.today() - dt.timedelta(days=50),
        )
        return {
            "piet": piet.id,
            "piet_code": piet_code,
            "jane": jane.id,
            "jane_code": jane_code,
            "other": other.id,
            "other_code": other_code,
        }
