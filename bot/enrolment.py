"""Coaches, employees and the one-time invite codes that bind a channel to an employee."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import i18n
from bot.models import ChannelIdentity, Coach, Employee, utcnow
from bot.passwords import MIN_LENGTH, hash_password

# no 0/O, 1/I/L: codes are read aloud and typed on phones
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
TRAJECTORIES = ("light", "intensive")


class KoersError(ValueError):
    """A user or operator error with a one-line explanation."""


class Redeemed(enum.Enum):
    """The outcome of ``/start CODE``."""

    BOUND = "bound"
    ALREADY_BOUND = "already_bound"
    INVALID = "invalid"
    USED = "used"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Binding:
    """An employee as seen from one conversation identity."""

    employee_id: int
    name: str
    language: str
    last_activity_at: dt.datetime | None = None


def normalise_code(code: str) -> str:
    """Returns the code upper-cased without spaces or dashes."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def hash_code(code: str) -> str:
    """Returns the stored form of an invite code (codes are never stored in clear)."""
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def new_code() -> str:
    """Returns a fresh random invite code."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def channel_of(sender_id: str) -> str:
    """Returns the channel a sender id belongs to, from its prefix."""
    prefix, sep, _ = sender_id.partition(":")
    return prefix if sep and prefix in ("web", "telegram") else "rest"


def add_coach(session: Session, email: str, name: str, password: str) -> Coach:
    """Creates a coach account; refuses duplicates and short passwords."""
    email = email.strip().lower()
    if "@" not in email:
        raise KoersError(f"not an email address: {email!r}")
    if len(password) < MIN_LENGTH:
        raise KoersError(f"password too short: at least {MIN_LENGTH} characters")
    if session.scalar(select(Coach).where(Coach.email == email)) is not None:
        raise KoersError(f"a coach with email {email} already exists")
    coach = Coach(email=email, name=name.strip(), password_hash=hash_password(password))
    session.add(coach)
    session.flush()
    return coach


def coach_by_email(session: Session, email: str) -> Coach | None:
    """Returns the coach with this email, if any."""
    return session.scalar(select(Coach).where(Coach.email == email.strip().lower()))


def issue_invite(employee: Employee, days: int) -> str:
    """Gives the employee a new one-time code, valid ``days`` days; returns it in clear."""
    code = new_code()
    employee.invite_code_hash = hash_code(code)
    employee.invite_expires_at = utcnow() + dt.timedelta(days=days)
    employee.invite_used_at = None
    return code


def add_employee(
    session: Session,
    *,
    coach_email: str,
    name: str,
    language: str,
    first_sick_day: dt.date,
    trajectory: str = "light",
    weekly_target: int = 2,
    invite_days: int = 14,
) -> tuple[Employee, str]:
    """Creates an employee for a coach; returns it with its invite code in clear."""
    coach = coach_by_email(session, coach_email)
    if coach is None:
        raise KoersError(f"unknown coach: {coach_email}")
    if not i18n.is_supported(language):
        supported = ", ".join(sorted(i18n.languages()))
        raise KoersError(f"unsupported language {language!r} (supported: {supported})")
    if trajectory not in TRAJECTORIES:
        raise KoersError(f"trajectory must be one of {', '.join(TRAJECTORIES)}")
    if not 0 <= weekly_target <= 50:
        raise KoersError("weekly target must be between 0 and 50")
    if first_sick_day > dt.date.today():
        raise KoersError("the first sick day lies in the future")
    if not name.strip():
        raise KoersError("the name is empty")
    employee = Employee(
        coach=coach,
        name=name.strip(),
        language=language,
        first_sick_day=first_sick_day,
        trajectory=trajectory,
        weekly_target=weekly_target,
    )
    code = issue_invite(employee, invite_days)
    session.add(employee)
    session.flush()
    return employee, code


def binding_for(session: Session, sender_id: str) -> Binding | None:
    """Returns the employee bound to this sender id, or None for a stranger."""
    row = session.execute(
        select(Employee.id, Employee.name, Employee.language, Employee.last_activity_at)
        .join(ChannelIdentity, ChannelIdentity.employee_id == Employee.id)
        .where(ChannelIdentity.sender_id == sender_id)
    ).first()
    if row is None:
        return None
    return Binding(
        employee_id=row.id, name=row.name, language=row.language, last_activity_at=row.last_activity_at
    )


def redeem(
    session: Session, sender_id: str, code: str, now: dt.datetime | None = None
) -> tuple[Redeemed, Binding | None]:
    """Binds ``sender_id`` to the employee whose invite ``code`` this is.

    Redelivery of the same ``/start CODE`` by the sender it already bound is
    answered as a success, so a retried message changes nothing.
    """
    now = now or utcnow()
    current = binding_for(session, sender_id)
    employee = session.scalar(select(Employee).where(Employee.invite_code_hash == hash_code(code)))
    if current is not None:
        if employee is not None and employee.id == current.employee_id:
            return Redeemed.BOUND, current
        return Redeemed.ALREADY_BOUND, current
    if employee is None:
        return Redeemed.INVALID, None
    if employee.invite_used_at is not None:
        return Redeemed.USED, None
    if employee.invite_expires_at is None or employee.invite_expires_at < now:
        return Redeemed.EXPIRED, None
    employee.invite_used_at = now
    employee.last_activity_at = now
    session.add(ChannelIdentity(employee=employee, sender_id=sender_id, channel=channel_of(sender_id)))
    session.flush()
    return Redeemed.BOUND, Binding(employee.id, employee.name, employee.language)


def trajectory_week(first_sick_day: dt.date, today: dt.date | None = None) -> int:
    """Returns the week of the waiting period: week 1 holds the first sick day."""
    today = today or dt.date.today()
    return max(1, (today - first_sick_day).days // 7 + 1)
