"""Readable summaries of conversations for the coach, built from stored records.

Deterministic: the same records give the same text. Written in the coach's
language, whatever language the employee used. Summaries are for the coach
only; nothing here feeds an employer report.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import i18n
from bot.models import (
    Application,
    AssignmentProgress,
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
