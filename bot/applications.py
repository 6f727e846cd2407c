"""Job applications: the evidence UWV weighs at the RIV-toets (stored exactly once).

Everything here works on a SQLAlchemy session and knows no channel or Rasa:

- :func:`save_draft` turns a confirmed draft into an application. The draft's
  token is the application's idempotency key and the draft is deleted in the
  same transaction, so a redelivered confirmation, a retry or a restart can
  never create a second row, and a confirmed application is never lost.
- :func:`matches` finds the application an update talks about ("PostNL heeft
  me afgewezen"): by the employer or function the NLU found, by an employer
  name that appears in the text, or by a close spelling.
- :func:`change_status` keeps a dated status history; the same status twice
  is one step (a redelivered message changes nothing).
- :func:`week_progress` compares an ISO week with the weekly target and
  :func:`record_reason` stores why a week stayed below it.
- :func:`export_csv` / :func:`export_pdf` give the evidence file
  (``koers applications ID``), safe against spreadsheet formula injection.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import functools
import io
import re
import unicodedata
import uuid
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import i18n
from bot.catalogue import Invalid
from bot.enrolment import KoersError, trajectory_week
from bot.models import (
    Application,
    ApplicationDraft,
    ApplicationStatusChange,
    ChannelIdentity,
    Employee,
    Reminder,
    WeekNote,
)
from bot.report import CHANNELS, REASONS, STATUSES

# the statuses after which nothing more is expected from an application
FINAL = frozenset({"hired", "rejected", "withdrawn"})
# registrations with employment agencies a light trajectory is expected to have
AGENCIES_EXPECTED = 2
# how far back an application date may lie (older evidence belongs with the coach)
MAX_AGE_DAYS = 366
FIELDS = ("employer", "job_title", "applied_on", "channel", "status", "vacancy_url", "contact_person", "note")
OPTIONAL = ("vacancy_url", "contact_person", "note")
LIMITS = {"employer": 200, "job_title": 200, "vacancy_url": 1000, "contact_person": 200, "note": 2000}
URL = re.compile(r"^(https?://)?[\w.-]+\.[a-z]{2,}(/\S*)?$", re.IGNORECASE)
LEGAL_FORMS = re.compile(r"\b(b ?v|n ?v|v ?o ?f|holding|group|groep|nederland|nl|the|de|het)\b")


AMSTERDAM = zoneinfo.ZoneInfo("Europe/Amsterdam")


def today() -> dt.date:
    """Returns today's date in the Netherlands (the calendar the weekly target counts in)."""
    return dt.datetime.now(AMSTERDAM).date()


# --- drafts ------------------------------------------------------------------------------------------


def get_draft(session: Session, employee_id: int) -> ApplicationDraft | None:
    """Returns the employee's unsaved application, if any."""
    return session.scalar(select(ApplicationDraft).where(ApplicationDraft.employee_id == employee_id))


def new_draft(session: Session, employee_id: int, values: dict[str, Any]) -> ApplicationDraft:
    """Starts a draft (replacing none: call :func:`get_draft` first)."""
    draft = ApplicationDraft(employee_id=employee_id, token=uuid.uuid4().hex, values=values, step=None)
    session.add(draft)
    session.flush()
    return draft


def missing(values: dict[str, Any]) -> list[str]:
    """Returns the required fields a draft still lacks, in asking order."""
    return [f for f in ("employer", "job_title", "applied_on", "channel") if not values.get(f)]


def save_draft(session: Session, draft: ApplicationDraft) -> Application:
    """Saves a confirmed draft as an application, exactly once, and deletes the draft."""
    key = f"draft:{draft.token}"
    existing = session.scalar(select(Application).where(Application.idempotency_key == key))
    if existing is not None:
        session.delete(draft)
        return existing
    values = draft.values
    applied_on = dt.date.fromisoformat(values["applied_on"])
    status = values.get("status") or "sent"
    application = Application(
        employee_id=draft.employee_id,
        idempotency_key=key,
        employer=values["employer"],
        job_title=values["job_title"],
        applied_on=applied_on,
        channel=values["channel"],
        status=status,
        vacancy_url=values.get("vacancy_url"),
        contact_person=values.get("contact_person"),
        note=values.get("note"),
    )
    application.history.append(ApplicationStatusChange(status="sent", changed_on=applied_on))
    if status != "sent":
        application.history.append(ApplicationStatusChange(status=status, changed_on=applied_on))
    session.add(application)
    session.delete(draft)
    session.flush()
    return application


# --- reading answers -----------------------------------------------------------------------------------


def clean_text(name: str, text: str) -> str:
    """Returns a trimmed free-text value or raises :class:`Invalid`."""
    value = " ".join(text.split()).strip(" .,;")
    if len(value) < 2:
        raise Invalid("application.invalid.text")
    if len(value) > LIMITS[name]:
        raise Invalid("application.invalid.too_long", max=LIMITS[name])
    return value


def clean_url(text: str) -> str:
    """Returns a vacancy link (https added when missing) or raises :class:`Invalid`."""
    value = text.strip().strip("<>")
    if not URL.match(value) or len(value) > LIMITS["vacancy_url"]:
        raise Invalid("application.invalid.url")
    return value if value.lower().startswith(("http://", "https://")) else f"https://{value}"


def check_date(value: dt.date | None, today: dt.date) -> dt.date:
    """Accepts an application date from the last year up to today, else raises :class:`Invalid`."""
    if value is None:
        raise Invalid("application.invalid.date")
    if value > today:
        raise Invalid("application.invalid.future")
    if (today - value).days > MAX_AGE_DAYS:
        raise Invalid("application.invalid.too_old")
    return value


def choice(table: dict[str, str], lang: str, text: str) -> str | None:
    """Returns the code whose localized label (or code) the text names, if exactly one does."""
    norm = normalise(text)
    if not norm:
        return None
    found = {
        code
        for code, key in table.items()
        if norm in (normalise(code), normalise(i18n.t(lang, key))) or normalise(i18n.t(lang, key)) in norm
    }
    return found.pop() if len(found) == 1 else None


# --- matching updates ----------------------------------------------------------------------------------


def normalise(text: str) -> str:
    """Lower-cases, strips accents and punctuation: "Café De Kroon B.V." → "cafe de kroon b v"."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def core_name(name: str) -> str:
    """Returns an employer name without legal forms and filler words, for comparing."""
    return " ".join(LEGAL_FORMS.sub(" ", normalise(name)).split()) or normalise(name)


def similar(a: str, b: str) -> bool:
    """Tells whether two names are the same employer or function, allowing for typos."""
    x, y = core_name(a), core_name(b)
    if not x or not y:
        return False
    if x == y or f" {x} " in f" {y} " or f" {y} " in f" {x} ":
        return True
    return difflib.SequenceMatcher(None, x, y).ratio() >= 0.8


def matches(
    session: Session, employee_id: int, text: str, employer: str | None = None, job_title: str | None = None
) -> list[Application]:
    """Returns the applications an update is about, open ones first.

    With an employer or function from the NLU, those decide; otherwise any
    stored employer or function named in the text counts. Without any name
    every open application is a candidate (the employee then picks one).
    """
    candidates = list(
        session.scalars(
            select(Application)
            .where(Application.employee_id == employee_id)
            .order_by(Application.applied_on.desc(), Application.id.desc())
        )
    )
    found: list[Application] = []
    if employer or job_title:
        found = [
            a
            for a in candidates
            if (not employer or similar(employer, a.employer))
            and (not job_title or similar(job_title, a.job_title))
        ]
        if not found and employer and job_title:
            found = [
                a for a in candidates if similar(employer, a.employer) or similar(job_title, a.job_title)
            ]
    if not found:
        words = f" {normalise(text)} "
        found = [
            a
            for a in candidates
            if f" {core_name(a.employer)} " in words or f" {normalise(a.job_title)} " in words
        ]
    if not found and not (employer or job_title):
        found = candidates
    return sorted(found, key=lambda a: a.status in FINAL)


@functools.cache
def status_words(code: str) -> dict[str, tuple[str, ...]]:
    """Returns ``locales/<code>/application_status.yml``: phrases that name each status."""
    path = i18n.LOCALES / code / "application_status.yml"
    if not path.is_file():
        return {}
    raw: dict[str, list[str]] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {
        status: tuple(normalise(p) for p in phrases) for status, phrases in raw.items() if status in STATUSES
    }


def detect_status(text: str, lang: str) -> str | None:
    """Returns the status a sentence names ("PostNL heeft me afgewezen" → rejected), longest phrase first."""
    words = f" {normalise(text)} "
    best: tuple[int, str] | None = None
    for code in dict.fromkeys([lang, *i18n.languages()]):
        for status, phrases in status_words(code).items():
            for phrase in phrases:
                if f" {phrase} " in words and (best is None or len(phrase) > best[0]):
                    best = (len(phrase), status)
        if best is not None:
            return best[1]
    return None


def change_status(session: Session, application: Application, status: str, on: dt.date) -> bool:
    """Moves an application to a status on a date; the same status again changes nothing."""
    if status not in STATUSES:
        raise KoersError(f"unknown status: {status}")
    if application.status == status:
        return False
    application.status = status
    application.history.append(ApplicationStatusChange(status=status, changed_on=on))
    session.flush()
    return True


# --- the week against the target ------------------------------------------------------------------------


@dataclass
class WeekProgress:
    """One ISO week of an employee compared with the weekly target."""

    iso_year: int
    iso_week: int
    monday: dt.date
    count: int
    target: int
    trajectory_week: int
    agencies: int
    open: list[Application] = field(default_factory=list)
    reason: str | None = None

    @property
    def below(self) -> bool:
        """Tells whether the week has fewer applications than the target."""
        return self.count < self.target

    @property
    def key(self) -> str:
        """Returns the week as ``YYYY-Www`` (used in buttons)."""
        return f"{self.iso_year}-W{self.iso_week:02d}"


def monday_of(day: dt.date) -> dt.date:
    """Returns the Monday of the ISO week that holds ``day``."""
    return day - dt.timedelta(days=day.weekday())


def week_progress(session: Session, employee: Employee, day: dt.date) -> WeekProgress:
    """Counts the applications of the week that holds ``day`` against the target."""
    monday = monday_of(day)
    sunday = monday + dt.timedelta(days=6)
    mine = Application.employee_id == employee.id
    count = session.scalar(
        select(func.count(Application.id)).where(mine, Application.applied_on.between(monday, sunday))
    )
    agencies = session.scalar(select(func.count(Application.id)).where(mine, Application.channel == "agency"))
    open_ = list(
        session.scalars(
            select(Application)
            .where(mine, Application.status.not_in(FINAL))
            .order_by(Application.applied_on.desc(), Application.id.desc())
        )
    )
    year, week, _ = monday.isocalendar()
    note = session.scalar(
        select(WeekNote).where(
            WeekNote.employee_id == employee.id, WeekNote.iso_year == year, WeekNote.iso_week == week
        )
    )
    return WeekProgress(
        iso_year=year,
        iso_week=week,
        monday=monday,
        count=int(count or 0),
        target=employee.weekly_target,
        trajectory_week=trajectory_week(employee.first_sick_day, day),
        agencies=int(agencies or 0),
        open=open_,
        reason=note.reason if note else None,
    )


def parse_week(key: str) -> tuple[int, int]:
    """Reads ``YYYY-Www``; raises :class:`KoersError` otherwise."""
    match = re.fullmatch(r"(\d{4})-W(\d{2})", key or "")
    if not match or not 1 <= int(match.group(2)) <= 53:
        raise KoersError(f"not an ISO week (YYYY-Www): {key!r}")
    return int(match.group(1)), int(match.group(2))


def record_reason(session: Session, employee_id: int, iso_year: int, iso_week: int, reason: str) -> None:
    """Stores (or replaces) why a week stayed below the target."""
    if reason not in REASONS:
        raise KoersError(f"unknown reason: {reason}")
    note = session.scalar(
        select(WeekNote).where(
            WeekNote.employee_id == employee_id, WeekNote.iso_year == iso_year, WeekNote.iso_week == iso_week
        )
    )
    if note is None:
        session.add(WeekNote(employee_id=employee_id, iso_year=iso_year, iso_week=iso_week, reason=reason))
    else:
        note.reason = reason
    session.flush()


# --- the weekly reminder -------------------------------------------------------------------------------

REMINDER_WEEKDAY, REMINDER_HOUR = 3, 10  # Thursday 10:00 Europe/Amsterdam


def reminder_key(employee_id: int, week: WeekProgress) -> str:
    """Returns the dedupe key of one employee's reminder for one ISO week."""
    return f"applications:{employee_id}:{week.key}"


def plan_reminders(session: Session, now: dt.datetime) -> int:
    """Plans this week's application reminder for employees below target who can get one; returns how many.

    The reminder is due on Thursday at 10:00 in Amsterdam, so there is time
    left in the week; after that moment nothing is planned for the week
    (no weekend nagging). Only employees with a Telegram identity are
    considered: the web chat cannot send a message by itself. At sending time
    the week is counted again, and a week that reached the target is skipped.
    """
    local = now.astimezone(AMSTERDAM)
    monday = monday_of(local.date())
    due_local = dt.datetime.combine(
        monday + dt.timedelta(days=REMINDER_WEEKDAY), dt.time(REMINDER_HOUR), tzinfo=AMSTERDAM
    )
    if local >= due_local:
        return 0
    employees = session.scalars(
        select(Employee).where(
            Employee.id.in_(select(ChannelIdentity.employee_id).where(ChannelIdentity.channel == "telegram"))
        )
    )
    planned = 0
    for employee in employees:
        week = week_progress(session, employee, local.date())
        key = reminder_key(employee.id, week)
        if (
            not week.below
            or session.scalar(select(Reminder.id).where(Reminder.dedupe_key == key)) is not None
        ):
            continue
        session.add(
            Reminder(
                employee_id=employee.id,
                kind="applications",
                dedupe_key=key,
                due_at=due_local.astimezone(dt.timezone.utc),
            )
        )
        planned += 1
    session.flush()
    return planned


# --- evidence export -------------------------------------------------------------------------------------


def rows_for(session: Session, employee_id: int) -> list[Application]:
    """Returns every application of an employee, oldest first."""
    return list(
        session.scalars(
            select(Application)
            .where(Application.employee_id == employee_id)
            .order_by(Application.applied_on, Application.id)
        )
    )


def safe_cell(value: str) -> str:
    """Neutralises spreadsheet formulas (=, +, -, @, tab, CR at the start) with a leading quote."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def label(table: dict[str, str], lang: str, code: str) -> str:
    """Returns the localized label of a status, channel or reason code."""
    return i18n.t(lang, table[code]) if code in table else code


def history_text(application: Application, lang: str) -> str:
    """Returns the status history as one line: "sent 3 nov 2026 → interview 10 nov 2026"."""
    return " → ".join(
        f"{label(STATUSES, lang, h.status)} {i18n.format_date(lang, h.changed_on, 'medium')}"
        for h in application.history
    )


CSV_COLUMNS = (
    "applied_on",
    "employer",
    "job_title",
    "channel",
    "status",
    "history",
    "vacancy_url",
    "contact_person",
    "note",
)


def export_csv(session: Session, employee_id: int, lang: str) -> str:
    """Returns every application with its status history as CSV (ISO dates, localized labels)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([i18n.t(lang, f"export.column.{c}") for c in CSV_COLUMNS])
    for a in rows_for(session, employee_id):
        history = "; ".join(
            f"{h.changed_on.isoformat()} {label(STATUSES, lang, h.status)}" for h in a.history
        )
        cells = [
            a.applied_on.isoformat(),
            a.employer,
            a.job_title,
            label(CHANNELS, lang, a.channel),
            label(STATUSES, lang, a.status),
            history,
            a.vacancy_url or "",
            a.contact_person or "",
            a.note or "",
        ]
        writer.writerow([safe_cell(c) for c in cells])
    return out.getvalue()


def export_html(session: Session, employee_id: int, lang: str, today: dt.date | None = None) -> str:
    """Renders the evidence list as a standalone HTML page (the PDF's source)."""
    from bot.report import environment

    employee = session.get(Employee, employee_id)
    if employee is None:
        raise KoersError(f"unknown employee: {employee_id}")
    language = i18n.languages()[i18n.resolve(lang)]
    applications = rows_for(session, employee_id)
    notes = list(
        session.scalars(
            select(WeekNote)
            .where(WeekNote.employee_id == employee_id)
            .order_by(WeekNote.iso_year, WeekNote.iso_week)
        )
    )
    return (
        environment()
        .get_template("applications.html")
        .render(
            name=employee.name,
            lang=language.code,
            dir=language.direction,
            today=today or dt.date.today(),
            applications=applications,
            notes=notes,
            agencies=sum(1 for a in applications if a.channel == "agency"),
            agencies_expected=AGENCIES_EXPECTED,
            _=lambda key, **params: i18n.t(lang, key, **params),
            date=lambda value: i18n.format_date(lang, value, "medium"),
            status=lambda code: label(STATUSES, lang, code),
            channel=lambda code: label(CHANNELS, lang, code),
            reason=lambda code: label(REASONS, lang, code),
            history=lambda a: history_text(a, lang),
        )
    )


def export_pdf(session: Session, employee_id: int, lang: str, today: dt.date | None = None) -> bytes:
    """Renders the evidence list as PDF with WeasyPrint."""
    from bot.report import render_pdf

    return render_pdf(export_html(session, employee_id, lang, today))
