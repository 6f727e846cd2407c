"""Signals for the coach: raised idempotently, ordered by urgency (crisis first)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import Signal

# higher is more urgent; the dashboard orders by this
URGENCY = {
    "crisis": 100,
    "low_mood": 60,
    "coach_contact": 50,
    "target_missed": 40,
    "inactivity": 30,
    "milestone": 20,
}


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
