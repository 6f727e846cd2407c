"""A SQL tracker store that keeps nothing of senders who are not enrolled.

Rasa saves every tracker after each message. An unbound sender must leave no
trace (CONTRACT.md, Enrolment), so a tracker whose ``employee_id`` slot is empty
is never written. The store shares Koers' database, given as one SQLAlchemy URL.
"""

from __future__ import annotations

from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

EMPLOYEE_SLOT = "employee_id"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class KoersTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store, configured by URL, skipping unbound senders."""

    def __init__(
        self,
        domain: Domain | None = None,
        host: str | None = None,
        event_broker: EventBroker | None = None,
        url: str | None = None,
        **kwargs: Any,
    ) -> None:
        parsed = make_url(url or host or "sqlite:///var/koers.db")
        dialect = parsed.get_backend_name()
        if dialect == "sqlite":
            super().__init__(domain, dialect="sqlite", db=parsed.database, event_broker=event_broker)
            event.listen(self.engine, "connect", _sqlite_pragmas)
            self.engine.dispose()
        else:
            super().__init__(
                domain,
                dialect=dialect,
                host=parsed.host,
                port=parsed.port,
                db=parsed.database,
                username=parsed.username,
                password=parsed.password,
                event_broker=event_broker,
                query=dict(parsed.query) or None,
            )
            # check pooled connections before use: after a database restart the
            # first turn works instead of failing on a dead connection
            self.engine.dispose()
            self.engine = create_engine(self.engine.url, pool_pre_ping=True)
            self.sessionmaker = sessionmaker(bind=self.engine)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Stores the tracker, unless the sender is not bound to an employee."""
        if tracker.get_slot(EMPLOYEE_SLOT) is None:
            return
        await super().save(tracker)
