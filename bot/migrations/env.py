"""Alembic environment: runs the migrations against the configured URL."""

from __future__ import annotations

from alembic import context

from bot.db import make_engine
from bot.models import Base

target_metadata = Base.metadata


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Leaves Rasa's tracker table alone."""
    return not (type_ == "table" and name == "events")


def run_migrations_online() -> None:
    """Runs the migrations in one transaction."""
    url = context.config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_object=include_object,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
