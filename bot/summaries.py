"""Readable summaries of conversations for the coach, built from stored records.

Deterministic: the same records give the same text. Written in the coach's
language, whatever language the employee used. Summaries are for the coach
only; nothing here feeds an employer report.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from bot import i18n
from bot.db import Database
from bot.models import (
    Application,
    AssignmentProgress,
    ChannelIdentity,
    Coach,
    Employee,
    Reflection,
    Signal,
    Summary,
)


def coach_language(session: Session, employee_id: int) -> str:
    """Returns the language of the employee's coach."""
    language = session.scalar(
        select(Coach.language).join(Employee, Employee.coach_id == Coach.id).where(Employee.id == employee_id)
    )
    return i18n.resolve(language)


def session_summary(
    session: Session, employee_id: int, started: dt.datetime, ended: dt.datetime, intents: list[str]
) -> str | None:
    """Summarises what happened between two moments; None when nothing did."""
    lang = coach_language(session, employee_id)

    def between(model: Any, column: str) -> list[Any]:
        col = getattr(model, column)
        return list(
            session.scalars(
                select(model).where(model.employee_id == employee_id, col >= started, col <= ended)
            )
        )

    lines: list[str] = []
    assignments = between(AssignmentProgress, "updated_at")
    for row in assignments:
        status = i18n.t(lang, f"summary.status.{row.status}")
        title = i18n.t(lang, f"assignment.{row.assignment_key}.title")
        lines.append(i18n.t(lang, "summary.line.assignment", title=title, status=status))
    for reflection in between(Reflection, "started_at"):
        if reflection.completed_at is not None:
            lines.append(i18n.t(lang, "summary.line.reflection", mood=reflection.mood or "–"))
        else:
            lines.append(i18n.t(lang, "summary.line.reflection_open"))
    applications = between(Application, "created_at")
    if applications:
        lines.append(i18n.t(lang, "summary.line.applications", count=len(applications)))
    for signal in between(Signal, "created_at"):
        lines.append(i18n.t(lang, "summary.line.signal", signal=i18n.t(lang, f"coach.signal.{signal.kind}")))
    if not lines and not intents:
        return None
    if not lines:
        lines.append(i18n.t(lang, "summary.line.talked", count=len(intents)))
    header = i18n.t(
        lang,
        "summary.session_header",
        date=i18n.format_date(lang, started.date(), "medium"),
        start=started.strftime("%H:%M"),
        end=ended.strftime("%H:%M"),
    )
    return header + "\n" + "\n".join(f"• {line}" for line in lines)


def store_summary(session: Session, employee_id: int, key: str, text: str) -> None:
    """Stores a summary once per key (a retried message writes nothing new)."""
    if session.scalar(select(Summary.id).where(Summary.session_key == key)) is None:
        session.add(
            Summary(
                employee_id=employee_id,
                session_key=key,
                language=coach_language(session, employee_id),
                text=text,
            )
        )


def summarise_idle_sessions(db: Database, now: dt.datetime | None = None, idle_minutes: int = 30) -> int:
    """Writes the summary of every conversation quiet for ``idle_minutes``; returns how many.

    Reads Rasa's tracker table (same database). The key matches the one the
    session-start action uses, so a session is never summarised twice.
    """
    if not inspect(db.engine).has_table("events"):
        return 0
    now = now or dt.datetime.now(dt.timezone.utc)
    written = 0
    with db.session() as session, session.begin():
        identities = session.execute(select(ChannelIdentity.sender_id, ChannelIdentity.employee_id)).all()
        for sender, employee_id in identities:
            rows = session.execute(
                text(
                    "SELECT type_name, timestamp, intent_name FROM events WHERE sender_id = :s AND id > "
                    "(SELECT COALESCE(MAX(id), 0) FROM events WHERE sender_id = :s "
                    "AND type_name = 'session_started') ORDER BY id"
                ),
                {"s": sender},
            ).all()
            users = [r for r in rows if r.type_name == "user" and r.timestamp]
            if not users or now.timestamp() - float(users[-1].timestamp) < idle_minutes * 60:
                continue
            first = float(users[0].timestamp)
            key = f"session:{sender}:{first}"
            if session.scalar(select(Summary.id).where(Summary.session_key == key)) is not None:
                continue
            start = dt.datetime.fromtimestamp(first, dt.timezone.utc)
            end = dt.datetime.fromtimestamp(float(users[-1].timestamp), dt.timezone.utc) + dt.timedelta(
                seconds=5
            )
            summary = session_summary(
                session, employee_id, start, end, [str(u.intent_name or "") for u in users]
            )
            if summary:
                store_summary(session, employee_id, key, summary)
                written += 1
    return written
