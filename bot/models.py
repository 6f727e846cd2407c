"""The SQLAlchemy 2 typed models: everything Koers keeps about coaches and employees.

Rasa's own tracker table (``events``) lives in the same database but belongs to
Rasa; these models never map it. Alembic migrations in ``bot/migrations`` create
and change these tables; code never calls ``create_all`` outside tests.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from bot.i18n import FALLBACK_LANGUAGE


def utcnow() -> dt.datetime:
    """Returns the current time in UTC, timezone-aware."""
    return dt.datetime.now(dt.timezone.utc)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores UTC and always returns timezone-aware datetimes (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


class Base(DeclarativeBase):
    """Declarative base of every Koers table."""

    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, dt.datetime: UTCDateTime}


class Coach(Base):
    """A re-integration coach who monitors a caseload of employees."""

    __tablename__ = "coaches"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    language: Mapped[str] = mapped_column(String(8), default=FALLBACK_LANGUAGE)
    totp_secret: Mapped[str | None] = mapped_column(String(64), default=None)
    # the last TOTP time step used to log in: a code works once
    totp_last_step: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    employees: Mapped[list[Employee]] = relationship(back_populates="coach")


class Employee(Base):
    """An employee in a spoor 2 trajectory, enrolled through a one-time invite code."""

    __tablename__ = "employees"

    id: Mapped[int] = mapped_column(primary_key=True)
    coach_id: Mapped[int] = mapped_column(ForeignKey("coaches.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8), default=FALLBACK_LANGUAGE)
    first_sick_day: Mapped[dt.date] = mapped_column(Date)
    trajectory: Mapped[str] = mapped_column(String(16), default="light")
    weekly_target: Mapped[int] = mapped_column(Integer, default=2)
    invite_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    invite_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    invite_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_activity_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # the coach's threshold for the inactivity signal
    inactivity_days: Mapped[int] = mapped_column(Integer, default=7, server_default="7")

    coach: Mapped[Coach] = relationship(back_populates="employees")
    identities: Mapped[list[ChannelIdentity]] = relationship(
        back_populates="employee", cascade="all, delete-orphan"
    )


class ChannelIdentity(Base):
    """Binds one conversation identity (Rasa sender id) to an employee."""

    __tablename__ = "channel_identities"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    sender_id: Mapped[str] = mapped_column(String(255), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    employee: Mapped[Employee] = relationship(back_populates="identities")


class AssignmentProgress(Base):
    """Where an employee is in one preparation assignment, and the answers so far."""

    __tablename__ = "assignment_progress"
    __table_args__ = (UniqueConstraint("employee_id", "assignment_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    assignment_key: Mapped[str] = mapped_column(String(64))
    catalogue_version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="in_progress")
    current_step: Mapped[str | None] = mapped_column(String(64))
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Reflection(Base):
    """One guided acceptance reflection: the answers, the mood and the small step."""

    __tablename__ = "reflections"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    week_number: Mapped[int] = mapped_column(Integer)
    question_set: Mapped[int] = mapped_column(Integer, default=0)
    current_step: Mapped[str | None] = mapped_column(String(64))
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    mood: Mapped[int | None] = mapped_column(Integer)
    small_step: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class CurriculumVitae(Base):
    """The employee's CV draft: structured sections and the chosen CV language."""

    __tablename__ = "cvs"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), unique=True)
    language: Mapped[str] = mapped_column(String(8), default=FALLBACK_LANGUAGE)
    sections: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Application(Base):
    """A job application: the evidence UWV weighs at the RIV-toets."""

    __tablename__ = "applications"
    __table_args__ = (
        # one employee's applications of a week or month (employee page, report, signals)
        Index("ix_applications_employee_applied", "employee_id", "applied_on"),
        # everyone's applications of this week, per employee (the caseload), from the index alone
        Index("ix_applications_week", "applied_on", "employee_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    # the message that created it; makes a redelivered message a no-op
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    employer: Mapped[str] = mapped_column(String(200))
    job_title: Mapped[str] = mapped_column(String(200))
    applied_on: Mapped[dt.date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32), default="sent")
    vacancy_url: Mapped[str | None] = mapped_column(String(1000))
    contact_person: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    history: Mapped[list[ApplicationStatusChange]] = relationship(
        back_populates="application",
        cascade="all, delete-orphan",
        order_by="ApplicationStatusChange.id",
    )


class ApplicationStatusChange(Base):
    """One dated step in an application's status history."""

    __tablename__ = "application_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(32))
    changed_on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    application: Mapped[Application] = relationship(back_populates="history")


class ApplicationDraft(Base):
    """An application being logged, kept until the employee saves or discards it.

    One per employee. Its ``token`` becomes the saved application's idempotency
    key, so saving the same draft twice (a redelivered "yes", a retry after a
    timeout, a restart between confirming and saving) can only create one row.
    """

    __tablename__ = "application_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), unique=True)
    token: Mapped[str] = mapped_column(String(64))
    values: Mapped[dict[str, Any]] = mapped_column(default=dict)
    step: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class WeekNote(Base):
    """Why an employee applied less than the target in one ISO week."""

    __tablename__ = "week_notes"
    __table_args__ = (UniqueConstraint("employee_id", "iso_year", "iso_week"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    iso_year: Mapped[int] = mapped_column(Integer)
    iso_week: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Summary(Base):
    """A readable summary of one conversation session, for the coach."""

    __tablename__ = "summaries"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    session_key: Mapped[str] = mapped_column(String(128), unique=True)
    language: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Signal(Base):
    """Something the coach should look at: crisis, inactivity, low mood, a request."""

    __tablename__ = "signals"
    # the caseload reads open signals (resolved_at IS NULL) per employee from this index alone
    __table_args__ = (Index("ix_signals_open", "resolved_at", "employee_id", "urgency"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    urgency: Mapped[int] = mapped_column(Integer, default=1)
    # one signal per cause, so a retried message never raises it twice
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    resolution_note: Mapped[str | None] = mapped_column(Text)


class CoachMessage(Base):
    """A message the coach sends the employee through the assistant.

    Delivered on Telegram by the Telegram process (claimed before sending, so at
    most once) and shown in the web chat's history.
    """

    __tablename__ = "coach_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    coach_id: Mapped[int] = mapped_column(ForeignKey("coaches.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    telegram_sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class CoachNote(Base):
    """A coach's own note on an employee."""

    __tablename__ = "coach_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    coach_id: Mapped[int] = mapped_column(ForeignKey("coaches.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Reminder(Base):
    """A proactive message a channel delivers once, at a sensible hour."""

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """Who looked at or changed whose data, and when (NEN 7513 style)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    # kept as plain ids, not foreign keys: the log outlives what it describes
    employee_id: Mapped[int | None] = mapped_column(Integer, index=True)
    coach_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CoachSession(Base):
    """A logged-in coach's session; the cookie holds only its random token."""

    __tablename__ = "coach_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    coach_id: Mapped[int] = mapped_column(ForeignKey("coaches.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class LoginAttempt(Base):
    """A failed coach login, counted for throttling."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class ButtonPayload(Base):
    """A button payload too long for Telegram's 64-byte callback data, kept by its hash."""

    __tablename__ = "button_payloads"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ProcessedUpdate(Base):
    """A channel update already handled (Telegram update_id), so redelivery is a no-op."""

    __tablename__ = "processed_updates"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
