"""Owns the database: engine and session factories, migrations, and tracker clean-up.

Engines are built by :func:`make_engine`, never at import. Each unit of work opens
its own session with ``with db.session() as s, s.begin():``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def normalise_url(url: str) -> str:
    """Returns the URL with the psycopg 3 driver for PostgreSQL (the app's driver)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets Rasa, the action server and the web app share one file safely
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Creates an engine for ``url``; SQLite files get their folder and pragmas."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 15})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


class Database:
    """An engine with its session factory: the one way code reaches the data."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url)
        self._factory = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Yields a session; the caller opens the transaction with ``s.begin()``."""
        with self._factory() as session:
            yield session

    def upgrade(self) -> None:
        """Creates or migrates the schema to the newest Alembic revision."""
        command.upgrade(alembic_config(self.url), "head")

    def dispose(self) -> None:
        """Closes every pooled connection."""
        self.engine.dispose()

    def delete_tracker_events(self, sender_ids: list[str]) -> int:
        """Deletes Rasa's stored events of these senders; returns how many rows went."""
        if not sender_ids or not inspect(self.engine).has_table("events"):
            return 0
        deleted = 0
        with self.engine.begin() as conn:
            for sender in sender_ids:
                result = conn.execute(text("DELETE FROM events WHERE sender_id = :s"), {"s": sender})
                deleted += result.rowcount or 0
        return deleted

    def tracker_event_count(self, sender_id: str) -> int:
        """Counts Rasa's stored events for one sender (0 when Rasa never stored any)."""
        if not inspect(self.engine).has_table("events"):
            return 0
        with self.engine.connect() as conn:
            value = conn.execute(
                text("SELECT COUNT(*) FROM events WHERE sender_id = :s"), {"s": sender_id}
            ).scalar_one()
        return int(value)


def alembic_config(url: str) -> Config:
    """Returns an Alembic config pointing at our migrations and ``url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config
