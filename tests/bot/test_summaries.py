"""Coach summaries of quiet conversations, written once, in the coach's language."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select, text, update

from bot import i18n
from bot.db import Database
from bot.enrolment import redeem
from bot.models import AssignmentProgress, Coach, Summary
from bot.summaries import summarise_idle_sessions
from tests.conftest import create_rasa_events_table


def rasa_events(db: Database, sender: str, stamps: list[float]) -> None:
    create_rasa_events_table(db)
    with db.engine.begin() as conn:
        conn.execute(
            text("INSERT INTO events (sender_id, type_name, timestamp) VALUES (:s, 'session_started', :t)"),
            {"s": sender, "t": stamps[0] - 1},
        )
        for stamp in stamps:
            conn.execute(
                text(
                    "INSERT INTO events (sender_id, type_name, timestamp, intent_name, data) "
                    "VALUES (:s, 'user', :t, 'start_assignments', :d)"
                ),
                {"s": sender, "t": stamp, "d": json.dumps({"event": "user"})},
            )


def test_quiet_sessions_are_summarised_once_in_the_coach_language(
    db: Database, people: dict[str, object]
) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    with db.session() as s, s.begin():
        redeem(s, "web:quiet", str(people["piet_code"]))
        redeem(s, "web:busy", str(people["jane_code"]))
        s.execute(update(Coach).values(language="en"))
        s.add(
            AssignmentProgress(
                employee_id=people["piet"],
                assignment_key="wishes",
                status="in_progress",
                current_step="hours_per_week",
                answers={"values": {}},
            )
        )
    quiet = (now - dt.timedelta(minutes=50)).timestamp()
    with db.session() as s, s.begin():
        s.execute(
            update(AssignmentProgress).values(
                updated_at=now - dt.timedelta(minutes=50) + dt.timedelta(seconds=10)
            )
        )
    rasa_events(db, "web:quiet", [quiet, quiet + 30])
    rasa_events(db, "web:busy", [(now - dt.timedelta(minutes=5)).timestamp()])
    assert summarise_idle_sessions(db, now) == 1
    assert summarise_idle_sessions(db, now) == 0  # written once
    with db.session() as s:
        summary = s.scalar(select(Summary))
    assert summary is not None and summary.employee_id == people["piet"] and summary.language == "en"
    title = i18n.t("en", "assignment.wishes.title")
    status = i18n.t("en", "summary.status.in_progress")
    assert i18n.t("en", "summary.line.assignment", title=title, status=status) in summary.text
    # the busy conversation is summarised once it has been quiet long enough
    assert summarise_idle_sessions(db, now + dt.timedelta(minutes=40)) == 1
