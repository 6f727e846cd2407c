"""The coach's side: login, caseload and employee pages (every read is audit-logged).

Sessions live in the database (``coach_sessions``): the cookie holds a random
token, so logout and the idle timeout really end a session. Forms carry a CSRF
token; before login it is bound to a signed cookie, after login to the session.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, Signer
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from bot import i18n
from bot.enrolment import coach_by_email, trajectory_week
from bot.i18n import N_
from bot.models import (
    AuditEntry,
    Coach,
    CoachSession,
    Employee,
    LoginAttempt,
    Reflection,
    Signal,
    Summary,
    utcnow,
)
from bot.passwords import verify_password

# message ids the templates build from data
N_("coach.trajectory.light"), N_("coach.trajectory.intensive"), N_("coach.login.csrf")
N_("coach.login.throttled"), N_("coach.login.failed"), N_("coach.status.done")
N_("coach.status.in_progress"), N_("coach.status.not_started")
for _kind in ("crisis", "low_mood", "coach_contact", "target_missed", "inactivity", "milestone"):
    N_(f"coach.signal.{_kind}")

COOKIE = "koers_coach"
PRELOGIN_COOKIE = "koers_csrf"
MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)
PAGE_SIZE = 50


@dataclass(frozen=True)
class CoachContext:
    """The logged-in coach of a request."""

    coach_id: int
    name: str
    language: str
    csrf: str
    session_id: int


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _cookie_kwargs(request: Request) -> dict[str, object]:
    return {
        "httponly": True,
        "samesite": "strict",
        "secure": request.url.scheme == "https",
        "path": "/coach",
    }


def current_coach(request: Request, session: Session) -> CoachContext | None:
    """Returns the coach of a live, not idle session, refreshing its last-seen time."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    row = session.scalar(
        select(CoachSession).where(CoachSession.token_hash == _hash(token), CoachSession.ended_at.is_(None))
    )
    if row is None:
        return None
    now = utcnow()
    idle = dt.timedelta(minutes=request.app.state.settings.session_idle_minutes)
    if now - row.last_seen_at > idle:
        row.ended_at = now
        return None
    row.last_seen_at = now
    coach = session.get(Coach, row.coach_id)
    if coach is None:
        return None
    return CoachContext(coach.id, coach.name, coach.language, row.csrf_token, row.id)


def audit(session: Session, coach: CoachContext, employee_id: int, action: str, target: str) -> None:
    """Writes one audit row for a coach's access to an employee's data."""
    session.add(
        AuditEntry(
            employee_id=employee_id,
            coach_id=coach.coach_id,
            actor=f"coach {coach.name}",
            action=action,
            target=target,
        )
    )


def own_employee(request: Request, session: Session) -> tuple[CoachContext, Employee] | Response:
    """Returns the logged-in coach and the employee in the path, or the response refusing it.

    Someone else's employee and a missing one look the same: 404.
    """
    try:
        employee_id = int(request.path_params["employee_id"])
    except ValueError:
        return Response("Not found", status_code=404)
    coach = current_coach(request, session)
    if coach is None:
        return RedirectResponse("/coach/login", status_code=303)
    employee = session.get(Employee, employee_id)
    if employee is None or employee.coach_id != coach.coach_id:
        return Response("Not found", status_code=404)
    return coach, employee


def _prelogin_token(request: Request) -> tuple[str, str]:
    """Returns (token, signed cookie value) for the login form's CSRF check."""
    signer = Signer(request.app.state.settings.secret_key, salt="koers.csrf")
    raw = request.cookies.get(PRELOGIN_COOKIE)
    if raw:
        try:
            token = signer.unsign(raw).decode()
            return token, raw
        except BadSignature:
            pass
    token = secrets.token_urlsafe(24)
    return token, signer.sign(token).decode()


def _lang(request: Request) -> str:
    from bot.web.chat import language_for

    return language_for(request, None)


async def login_form(request: Request) -> Response:
    """Shows the login form."""
    from bot.web.app import render

    token, cookie = _prelogin_token(request)
    response = render(request, "coach_login.html", _lang(request), csrf=token, error=None)
    response.set_cookie(PRELOGIN_COOKIE, cookie, **_cookie_kwargs(request))  # type: ignore[arg-type]
    return response


async def login(request: Request) -> Response:
    """Checks the CSRF token, the throttle and the password; opens a session."""
    from bot.web.app import render

    form = await request.form()
    token, cookie = _prelogin_token(request)
    lang = _lang(request)
    sent = str(form.get("csrf_token", ""))
    if not request.cookies.get(PRELOGIN_COOKIE) or not hmac.compare_digest(sent, token):
        return render(request, "coach_login.html", lang, status=403, csrf=token, error="coach.login.csrf")
    email = str(form.get("email", "")).strip().lower()[:255]
    password = str(form.get("password", ""))
    db = request.app.state.db
    with db.session() as session, session.begin():
        since = utcnow() - FAILURE_WINDOW
        failures = session.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(LoginAttempt.email == email, LoginAttempt.created_at >= since)
        )
        if (failures or 0) >= MAX_FAILURES:
            return render(
                request,
                "coach_login.html",
                lang,
                status=429,
                csrf=token,
                error="coach.login.throttled",
            )
        coach = coach_by_email(session, email)
        if coach is None or not verify_password(coach.password_hash, password):
            session.add(LoginAttempt(email=email))
            return render(
                request,
                "coach_login.html",
                lang,
                status=401,
                csrf=token,
                error="coach.login.failed",
            )
        session_token = secrets.token_urlsafe(32)
        session.add(
            CoachSession(
                token_hash=_hash(session_token),
                coach_id=coach.id,
                csrf_token=secrets.token_urlsafe(24),
            )
        )
    response = RedirectResponse("/coach/", status_code=303)
    response.set_cookie(COOKIE, session_token, **_cookie_kwargs(request))  # type: ignore[arg-type]
    response.delete_cookie(PRELOGIN_COOKIE, path="/coach")
    del cookie
    return response


async def logout(request: Request) -> Response:
    """Ends the session in the database and clears the cookie."""
    form = await request.form()
    with request.app.state.db.session() as session, session.begin():
        coach = current_coach(request, session)
        if coach is None or not hmac.compare_digest(str(form.get("csrf_token", "")), coach.csrf):
            return RedirectResponse("/coach/login", status_code=303)
        session.execute(
            update(CoachSession).where(CoachSession.id == coach.session_id).values(ended_at=utcnow())
        )
    response = RedirectResponse("/coach/login", status_code=303)
    response.delete_cookie(COOKIE, path="/coach")
    return response


async def caseload(request: Request) -> Response:
    """Lists this coach's employees only, those with urgent signals first."""
    from bot.web.app import render

    with request.app.state.db.session() as session, session.begin():
        coach = current_coach(request, session)
        if coach is None:
            return RedirectResponse("/coach/login", status_code=303)
        urgency = (
            select(Signal.employee_id, func.max(Signal.urgency).label("top"), func.count().label("n"))
            .where(Signal.resolved_at.is_(None))
            .group_by(Signal.employee_id)
            .subquery()
        )
        query = request.query_params.get("q", "").strip()
        stmt = (
            select(Employee, urgency.c.top, urgency.c.n)
            .outerjoin(urgency, urgency.c.employee_id == Employee.id)
            .where(Employee.coach_id == coach.coach_id)
        )
        if query:
            stmt = stmt.where(Employee.name.ilike(f"%{query}%"))
        try:
            page_no = max(1, int(request.query_params.get("page", "1")))
        except ValueError:
            page_no = 1
        rows = session.execute(
            stmt.order_by(func.coalesce(urgency.c.top, 0).desc(), Employee.name)
            .limit(PAGE_SIZE)
            .offset((page_no - 1) * PAGE_SIZE)
        ).all()
        people = [
            {
                "id": e.id,
                "name": e.name,
                "trajectory": e.trajectory,
                "week": trajectory_week(e.first_sick_day),
                "last_activity": e.last_activity_at,
                "signals": n or 0,
                "urgent": (top or 0) >= 100,
            }
            for e, top, n in rows
        ]
    return render(
        request,
        "coach_caseload.html",
        coach.language,
        coach=coach,
        people=people,
        q=query,
        page=page_no,
        has_next=len(people) == PAGE_SIZE,
    )


async def employee_page(request: Request) -> Response:
    """Shows one employee of this coach; anyone else's is a plain 404."""
    from bot.web.app import render

    with request.app.state.db.session() as session, session.begin():
        found = own_employee(request, session)
        if isinstance(found, Response):
            return found
        coach, employee = found
        audit(session, coach, employee.id, "view", "employee page")
        signals = list(
            session.scalars(
                select(Signal)
                .where(Signal.employee_id == employee.id)
                .order_by(Signal.resolved_at.is_not(None), Signal.urgency.desc(), Signal.id.desc())
            )
        )
        context: dict[str, Any] = {
            "employee": employee,
            "week": trajectory_week(employee.first_sick_day),
            "signals": signals,
            "channels": [i.channel for i in employee.identities],
            "this_month": utcnow().strftime("%Y-%m"),
            **employee_records(session, employee.id, coach.language),
        }
    return render(request, "coach_employee.html", coach.language, coach=coach, **context)


def employee_records(session: Session, employee_id: int, lang: str) -> dict[str, object]:
    """Returns the profile, assessment, reflections and summaries shown to the coach."""
    from bot import applications as apps
    from bot.cv import get_cv
    from bot.profile import assessment, profile, rows
    from bot.report import CHANNELS, STATUSES

    parts = profile(session, employee_id, lang)
    reflections = list(
        session.scalars(
            select(Reflection)
            .where(Reflection.employee_id == employee_id, Reflection.completed_at.is_not(None))
            .order_by(Reflection.completed_at)
        )
    )
    summaries = list(
        session.scalars(
            select(Summary).where(Summary.employee_id == employee_id).order_by(Summary.id.desc()).limit(50)
        )
    )
    employee = session.get(Employee, employee_id)
    assert employee is not None
    week = apps.week_progress(session, employee, apps.today())
    applications = [
        {
            "applied_on": i18n.format_date(lang, a.applied_on, "medium"),
            "employer": a.employer,
            "job_title": a.job_title,
            "channel": apps.label(CHANNELS, lang, a.channel),
            "status": apps.label(STATUSES, lang, a.status),
            "history": apps.history_text(a, lang),
        }
        for a in reversed(apps.rows_for(session, employee_id))
    ]
    return {
        "applications": applications[:100],
        "applications_total": len(applications),
        "week_count": week.count,
        "agencies": week.agencies,
        "agencies_expected": apps.AGENCIES_EXPECTED,
        "has_cv": get_cv(session, employee_id) is not None,
        "profile": parts,
        "done": sum(1 for p in parts if p["status"] == "done"),
        "assessment": assessment(rows(session, employee_id)),
        "reflections": reflections,
        "mood_chart": mood_chart([r.mood for r in reflections if r.mood is not None]),
        "summaries": summaries,
    }


def mood_chart(moods: list[int]) -> str:
    """Returns a small server-rendered SVG line of mood scores (1–5)."""
    if not moods:
        return ""
    width, height, step = 320, 100, 320 / max(1, len(moods) - 1 if len(moods) > 1 else 1)
    points = " ".join(f"{i * step:.0f},{height - (m - 1) * 22 - 6:.0f}" for i, m in enumerate(moods))
    dots = "".join(
        f'<circle cx="{i * step:.0f}" cy="{height - (m - 1) * 22 - 6:.0f}" r="4"/>'
        for i, m in enumerate(moods)
    )
    return (
        f'<svg class="mood" viewBox="-8 -4 {width + 16} {height + 8}" width="{width}" height="{height}" '
        f'role="img"><polyline fill="none" stroke="#1d4e89" stroke-width="2" points="{points}"/>{dots}</svg>'
    )


async def employee_report(request: Request) -> Response:
    """Downloads the employer's monthly report of one of this coach's employees (audited)."""
    from bot.enrolment import KoersError
    from bot.report import build, render_html, render_pdf

    month = request.query_params.get("month") or utcnow().strftime("%Y-%m")
    fmt = "pdf" if request.query_params.get("format") == "pdf" else "html"
    with request.app.state.db.session() as session, session.begin():
        found = own_employee(request, session)
        if isinstance(found, Response):
            return found
        coach, employee = found
        employee_id = employee.id
        try:
            data = build(session, employee_id, month)
        except KoersError as exc:
            return Response(str(exc), status_code=400)
        audit(session, coach, employee_id, "download", f"employer report {month} ({fmt})")
    html = render_html(data, "nl")
    if fmt == "pdf":
        return Response(
            render_pdf(html),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="rapportage-{employee_id}-{month}.pdf"'},
        )
    return HTMLResponse(html)


def routes() -> list[Route]:
    """Returns the coach dashboard's routes."""
    return [
        Route("/coach/login", login_form, methods=["GET"]),
        Route("/coach/login", login, methods=["POST"]),
        Route("/coach/logout", logout, methods=["POST"]),
        Route("/coach/", caseload),
        Route("/coach/employees/{employee_id}", employee_page),
        Route("/coach/employees/{employee_id}/report", employee_report),
    ]
