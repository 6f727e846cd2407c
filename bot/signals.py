"""Signals for the coach: raised idempotently by rules, ordered by urgency (crisis first).

Event rules are raised where the event happens: crisis (the gate), a request
to contact the coach, low mood twice in a row (the reflection). Time rules are
computed here, by :func:`refresh` — as data arrives (the gate ends an
inactivity signal when the employee is back) and for everyone by
``koers signals refresh`` and the web process every hour:

- **inactivity**: no conversation for ``employees.inactivity_days`` days
  (default 7; the coach sets it per employee). Resolved by itself when the
  employee talks again.
- **target missed**: the last two whole ISO weeks both below the weekly target
  (weeks before enrolment do not count).
- **milestone**: a Poortwachter milestone (``catalogue.yml``) within two weeks.

Each signal has a dedupe key naming its cause, so a rule that runs again, or a
redelivered message, never raises it twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.catalogue import catalogue
from bot.models import Employee, Signal, utcnow

# higher is more urgent; the dashboard orders by this
URGENCY = {
    "crisis": 100,
    "low_mood": 60,
    "coach_contact": 50,
    "target_missed": 40,
    "inactivity": 30,
    "milestone": 20,
}
MILESTONE_NOTICE = dt.timedelta(days=14)
WEEKS = 104
AUTO_RESOLVED = "automatic: active again"


def raise_signal(
    session: Session, employee_id: int, kind: str, dedupe_key: str, detail: str | None = None
) -> Signal:
    """Adds a signal unless one with the same cause exists; returns the signal."""
    existing = session.scalar(select(Signal).where(Signal.dedupe_key == dedupe_key))
    if existing is not None:
        return existing
    signal = Signal(
        employee_id=employee_id,
        kind=kind,
        urgency=URGENCY.get(kind, 10),
        dedupe_key=dedupe_key,
        detail=detail,
    )
    session.add(signal)
    session.flush()
    return signal


def resolve(session: Session, signal: Signal, note: str | None) -> None:
    """Marks a signal as handled, with the coach's note."""
    if signal.resolved_at is None:
        signal.resolved_at = utcnow()
        signal.resolution_note = (note or "").strip()[:2000] or None


@dataclass(frozen=True)
class Milestone:
    """A Poortwachter milestone of one employee: its week, key and first day."""

    week: int
    key: str
    starts: dt.date


def week_start(first_sick_day: dt.date, week: int) -> dt.date:
    """Returns the first day of a trajectory week (week 1 holds the first sick day)."""
    return first_sick_day + dt.timedelta(days=7 * (week - 1))


def next_milestone(first_sick_day: dt.date, today: dt.date) -> Milestone | None:
    """Returns the first milestone whose week has not ended yet, or None after week 104."""
    for week, key in catalogue().milestones:
        starts = week_start(first_sick_day, week)
        if starts + dt.timedelta(days=6) >= today:
            return Milestone(week, key, starts)
    return None


def back_active(session: Session, employee_id: int) -> None:
    """Ends open inactivity signals: the employee is talking again."""
    session.execute(
        update(Signal)
        .where(Signal.employee_id == employee_id, Signal.kind == "inactivity", Signal.resolved_at.is_(None))
        .values(resolved_at=utcnow(), resolution_note=AUTO_RESOLVED)
    )


def refresh(session: Session, employee: Employee, now: dt.datetime | None = None) -> list[Signal]:
    """Runs the time rules for one employee; returns the signals raised (new or existing)."""
    from bot.applications import AMSTERDAM, week_progress

    now = now or utcnow()
    today = now.astimezone(AMSTERDAM).date()
    raised = []
    last = employee.last_activity_at or employee.created_at
    if last is not None and now - last >= dt.timedelta(days=employee.inactivity_days):
        raised.append(
            raise_signal(
                session,
                employee.id,
                "inactivity",
                f"inactivity:{employee.id}:{last.date().isoformat()}",
                detail=f"{(now - last).days}",
            )
        )
    enrolled = (employee.created_at or now).astimezone(AMSTERDAM).date()
    weeks = [week_progress(session, employee, today - dt.timedelta(days=7 * n)) for n in (1, 2)]
    if all(w.below and enrolled <= w.monday for w in weeks):
        raised.append(
            raise_signal(
                session,
                employee.id,
                "target_missed",
                f"target_missed:{employee.id}:{weeks[0].key}",
                detail=f"{weeks[1].count}/{weeks[1].target}, {weeks[0].count}/{weeks[0].target}",
            )
        )
    milestone = next_milestone(employee.first_sick_day, today)
    if milestone is not None and milestone.starts - today <= MILESTONE_NOTICE:
        raised.append(
            raise_signal(
                session,
                employee.id,
                "milestone",
                f"milestone:{employee.id}:{milestone.key}",
                detail=f"{milestone.week}:{milestone.key}",
            )
        )
    return raised


def refresh_all(session: Session, now: dt.datetime | None = None, batch: int = 500) -> int:
    """Runs the time rules for every employee still in the waiting period; returns the signals raised."""
    now = now or utcnow()
    oldest = now.date() - dt.timedelta(weeks=WEEKS + 1)
    count, last_id = 0, 0
    while True:
        employees = list(
            session.scalars(
                select(Employee)
                .where(Employee.id > last_id, Employee.first_sick_day >= oldest)
                .order_by(Employee.id)
                .limit(batch)
            )
        )
        if not employees:
            return count
        for employee in employees:
            count += len(refresh(session, employee, now))
        last_id = employees[-1].id
        session.flush()
