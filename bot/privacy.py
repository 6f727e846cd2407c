"""What an employee can see and erase: the full export and the right to be forgotten."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot import profile as profiles
from bot.db import Database
from bot.enrolment import KoersError, trajectory_week
from bot.models import (
    Application,
    ApplicationDraft,
    ApplicationStatusChange,
    AssignmentProgress,
    AuditEntry,
    ChannelIdentity,
    CoachMessage,
    CoachNote,
    CurriculumVitae,
    Employee,
    Reflection,
    Reminder,
    Signal,
    Summary,
    WeekNote,
)


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def get_employee(session: Session, employee_id: int) -> Employee:
    """Returns the employee or raises a one-line error."""
    employee = session.get(Employee, employee_id)
    if employee is None:
        raise KoersError(f"unknown employee: {employee_id}")
    return employee


def export(session: Session, employee_id: int) -> dict[str, Any]:
    """Returns everything stored about one employee, as JSON-ready data."""
    e = get_employee(session, employee_id)

    def rows(model: Any, order: Any) -> list[Any]:
        return list(session.scalars(select(model).where(model.employee_id == e.id).order_by(order)))

    return {
        "profile": {
            "id": e.id,
            "name": e.name,
            "language": e.language,
            "first_sick_day": _iso(e.first_sick_day),
            "trajectory_week": trajectory_week(e.first_sick_day),
            "trajectory": e.trajectory,
            "weekly_target": e.weekly_target,
            "coach": {"name": e.coach.name, "email": e.coach.email},
            "created_at": _iso(e.created_at),
            "last_activity_at": _iso(e.last_activity_at),
            "channels": [{"channel": i.channel, "connected_at": _iso(i.created_at)} for i in e.identities],
        },
        "assignments": [
            {
                "assignment": a.assignment_key,
                "catalogue_version": a.catalogue_version,
                "status": a.status,
                "current_step": a.current_step,
                "answers": a.answers,
                "updated_at": _iso(a.updated_at),
            }
            for a in rows(AssignmentProgress, AssignmentProgress.assignment_key)
        ],
        "self_assessment": profiles.assessment(profiles.rows(session, e.id)),
        "reflections": [
            {
                "week": r.week_number,
                "question_set": r.question_set,
                "answers": r.answers,
                "mood": r.mood,
                "small_step": r.small_step,
                "started_at": _iso(r.started_at),
                "completed_at": _iso(r.completed_at),
            }
            for r in rows(Reflection, Reflection.id)
        ],
        "cv": next(
            (
                {"language": c.language, "sections": c.sections, "updated_at": _iso(c.updated_at)}
                for c in rows(CurriculumVitae, CurriculumVitae.id)
            ),
            None,
        ),
        "applications": [
            {
                "employer": a.employer,
                "job_title": a.job_title,
                "applied_on": _iso(a.applied_on),
                "channel": a.channel,
                "status": a.status,
                "vacancy_url": a.vacancy_url,
                "contact_person": a.contact_person,
                "note": a.note,
                "history": [{"status": h.status, "changed_on": _iso(h.changed_on)} for h in a.history],
            }
            for a in rows(Application, Application.applied_on)
        ],
        "application_draft": next(
            (
                {"values": d.values, "step": d.step, "updated_at": _iso(d.updated_at)}
                for d in rows(ApplicationDraft, ApplicationDraft.id)
            ),
            None,
        ),
        "week_notes": [
            {"iso_year": w.iso_year, "iso_week": w.iso_week, "reason": w.reason}
            for w in rows(WeekNote, WeekNote.id)
        ],
        "summaries": [
            {"created_at": _iso(s.created_at), "language": s.language, "text": s.text}
            for s in rows(Summary, Summary.id)
        ],
        "signals": [
            {
                "kind": s.kind,
                "urgency": s.urgency,
                "detail": s.detail,
                "created_at": _iso(s.created_at),
                "resolved_at": _iso(s.resolved_at),
                "resolution_note": s.resolution_note,
            }
            for s in rows(Signal, Signal.id)
        ],
        "coach_notes": [
            {"created_at": _iso(n.created_at), "text": n.text} for n in rows(CoachNote, CoachNote.id)
        ],
        "coach_messages": [
            {"created_at": _iso(m.created_at), "text": m.text} for m in rows(CoachMessage, CoachMessage.id)
        ],
        "audit": [
            {"when": _iso(a.created_at), "who": a.actor, "action": a.action, "what": a.target}
            for a in rows(AuditEntry, AuditEntry.id)
        ],
    }


def forget(db: Database, employee_id: int) -> int:
    """Erases the employee, all their records and their Rasa conversations.

    Returns how many tracker events were deleted. Audit rows stay: they hold
    ids and actions only, never content, and prove who looked at what.
    """
    with db.session() as session, session.begin():
        employee = get_employee(session, employee_id)
        senders = [i.sender_id for i in employee.identities]
        app_ids = select(Application.id).where(Application.employee_id == employee_id)
        session.execute(
            delete(ApplicationStatusChange).where(ApplicationStatusChange.application_id.in_(app_ids))
        )
        for model in (
            ChannelIdentity,
            AssignmentProgress,
            Reflection,
            CurriculumVitae,
            ApplicationDraft,
            Application,
            WeekNote,
            Summary,
            Signal,
            CoachNote,
            CoachMessage,
            Reminder,
        ):
            session.execute(delete(model).where(model.employee_id == employee_id))
        session.expunge(employee)
        session.execute(delete(Employee).where(Employee.id == employee_id))
        session.add(
            AuditEntry(
                employee_id=None,
                coach_id=None,
                actor="system",
                action="erase",
                target=f"employee #{employee_id}",
            )
        )
    return db.delete_tracker_events(senders)


WAITING_PERIOD = dt.timedelta(weeks=104)
RETENTION_DAYS = 730  # two years after the waiting period ended


def expired(db: Database, older_than_days: int = RETENTION_DAYS, today: dt.date | None = None) -> list[int]:
    """Returns the employees whose waiting period ended more than ``older_than_days`` ago."""
    today = today or dt.date.today()
    last_sick_day = today - dt.timedelta(days=older_than_days) - WAITING_PERIOD
    with db.session() as session:
        return list(
            session.scalars(
                select(Employee.id).where(Employee.first_sick_day < last_sick_day).order_by(Employee.id)
            )
        )


def purge(
    db: Database, older_than_days: int = RETENTION_DAYS, dry_run: bool = False, today: dt.date | None = None
) -> list[int]:
    """Erases (see :func:`forget`) every employee past the retention period; returns their ids."""
    ids = expired(db, older_than_days, today)
    if not dry_run:
        for employee_id in ids:
            forget(db, employee_id)
    return ids
