"""The employer's monthly progress report: activities and progress, never health data.

Built from an allow-list: the employee's name, the trajectory week, the agreed
weekly target, applications (employer, function, date, channel, status), the
names of finished preparation assignments, and the reasons given for a low
week. Reflections, moods, functional limitations, summaries and conversation
text are never read here. Dutch by default; PDF via WeasyPrint.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import ROOT, i18n
from bot.catalogue import catalogue
from bot.enrolment import KoersError, trajectory_week
from bot.i18n import N_
from bot.models import Application, AssignmentProgress, Employee, WeekNote

TEMPLATES = ROOT / "bot" / "web" / "templates"
STATUSES = {
    code: N_(f"report.status.{code}")
    for code in (
        "sent",
        "interview",
        "second_interview",
        "offer",
        "hired",
        "rejected",
        "no_response",
        "withdrawn",
    )
}
CHANNELS = {
    code: N_(f"report.channel.{code}")
    for code in ("vacancy_site", "open_application", "network", "agency", "phone", "via_coach")
}
REASONS = {
    code: N_(f"report.reason.{code}")
    for code in ("training", "illness", "no_vacancies", "appointments", "other")
}
# the employer reads no health data: a health setback shows as personal circumstances
EMPLOYER_REASONS = {**REASONS, "illness": N_("report.reason.personal")}


@functools.cache
def environment() -> Environment:
    """Returns the jinja2 environment of the printable documents (autoescaped)."""
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """Returns the first and last day of ``YYYY-MM``; raises a one-line error otherwise."""
    try:
        first = dt.datetime.strptime(month, "%Y-%m").date()
    except ValueError:
        raise KoersError(f"not a month (YYYY-MM): {month!r}") from None
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def build(session: Session, employee_id: int, month: str) -> dict[str, Any]:
    """Collects the allow-listed facts of one month."""
    first, last = month_bounds(month)
    employee = session.get(Employee, employee_id)
    if employee is None:
        raise KoersError(f"unknown employee: {employee_id}")
    applications = list(
        session.scalars(
            select(Application)
            .where(Application.employee_id == employee_id, Application.applied_on.between(first, last))
            .order_by(Application.applied_on, Application.id)
        )
    )
    finished = session.execute(
        select(AssignmentProgress.assignment_key, AssignmentProgress.updated_at).where(
            AssignmentProgress.employee_id == employee_id, AssignmentProgress.status == "done"
        )
    ).all()
    open_keys = [a.key for a in catalogue().assignments if a.key not in {k for k, _ in finished}]
    notes = list(session.scalars(select(WeekNote).where(WeekNote.employee_id == employee_id)))
    weeks: dict[tuple[int, int], dict[str, Any]] = {}
    day = first
    while day <= last:
        year, week, _ = day.isocalendar()
        weeks.setdefault((year, week), {"year": year, "week": week, "from": day, "count": 0, "reason": None})
        day += dt.timedelta(days=1)
    for application in applications:
        year, week, _ = application.applied_on.isocalendar()
        if (year, week) in weeks:
            weeks[(year, week)]["count"] += 1
    for note in notes:
        if (note.iso_year, note.iso_week) in weeks:
            weeks[(note.iso_year, note.iso_week)]["reason"] = note.reason
    return {
        "name": employee.name,
        "coach": employee.coach.name,
        "month_first": first,
        "month_last": last,
        "week_start": trajectory_week(employee.first_sick_day, max(first, employee.first_sick_day)),
        "week_end": trajectory_week(employee.first_sick_day, last),
        "weekly_target": employee.weekly_target,
        "applications": [
            {
                "applied_on": a.applied_on,
                "employer": a.employer,
                "job_title": a.job_title,
                "channel": a.channel,
                "status": a.status,
            }
            for a in applications
        ],
        "weeks": list(weeks.values()),
        "finished": [key for key, _ in finished],
        "open": open_keys,
    }


def render_html(data: dict[str, Any], lang: str = i18n.FALLBACK_LANGUAGE) -> str:
    """Renders the report as a standalone HTML page."""
    language = i18n.languages()[i18n.resolve(lang)]

    def label(table: dict[str, str], code: str | None) -> str:
        return i18n.t(lang, table[code]) if code in table else (code or "–")

    return (
        environment()
        .get_template("report.html")
        .render(
            r=data,
            lang=language.code,
            dir=language.direction,
            _=lambda key, **params: i18n.t(lang, key, **params),
            date=lambda value: i18n.format_date(lang, value, "medium"),
            status=lambda code: label(STATUSES, code),
            channel=lambda code: label(CHANNELS, code),
            reason=lambda code: label(EMPLOYER_REASONS, code),
            title=lambda key: i18n.t(lang, f"assignment.{key}.title"),
        )
    )


def render_pdf(html: str) -> bytes:
    """Renders the HTML report as PDF with WeasyPrint."""
    from weasyprint import HTML

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
