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
import time
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, Signer
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from bot import i18n, totp
from bot.enrolment import coach_by_email, trajectory_week
from bot.i18n import N_
from bot.models import (
    Application,
    AuditEntry,
    Coach,
    CoachMessage,
    CoachNote,
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
N_("coach.status.in_progress"), N_("coach.status.not_started"), N_("coach.login.code")
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


def employee_ref(secret: str, employee_id: int) -> str:
    """Returns the employee's reference in URLs: the id with a MAC, so ids cannot be enumerated."""
    mac = hmac.new(secret.encode(), f"koers.employee:{employee_id}".encode(), hashlib.sha256).hexdigest()
    return f"{employee_id}-{mac[:20]}"


def employee_id_of(secret: str, ref: str) -> int | None:
    """Returns the id inside a valid reference, or None for a guessed or altered one."""
    number, _, _mac = ref.partition("-")
    if not number.isdigit() or len(number) > 12:
        return None
    return int(number) if hmac.compare_digest(ref, employee_ref(secret, int(number))) else None


def employee_base(request: Request, employee_id: int) -> str:
    """Returns the URL of an employee's page."""
    return f"/coach/employees/{employee_ref(request.app.state.settings.secret_key, employee_id)}"


def own_employee(request: Request, session: Session) -> tuple[CoachContext, Employee] | Response:
    """Returns the logged-in coach and the employee in the path, or the response refusing it.

    Deny by default: a guessed reference, someone else's employee and a
    missing one all look the same: 404.
    """
    coach = current_coach(request, session)
    if coach is None:
        return RedirectResponse("/coach/login", status_code=303)
    ref = str(request.path_params.get("ref", ""))
    employee_id = employee_id_of(request.app.state.settings.secret_key, ref)
    employee = session.get(Employee, employee_id) if employee_id is not None else None
    if employee is None or employee.coach_id != coach.coach_id:
        return Response("Not found", status_code=404)
    return coach, employee


async def own_form(request: Request, session: Session) -> tuple[CoachContext, Employee, Any] | Response:
    """Like :func:`own_employee` for a POSTed form, which must carry the session's CSRF token."""
    form = await request.form()
    found = own_employee(request, session)
    if isinstance(found, Response):
        return found
    coach, employee = found
    if not hmac.compare_digest(str(form.get("csrf_token", "")), coach.csrf):
        return Response("CSRF token missing or wrong", status_code=403)
    return coach, employee, form


def back_to(request: Request, employee_id: int, anchor: str) -> Response:
    """Redirects to the employee page after a form (post/redirect/get)."""
    return RedirectResponse(f"{employee_base(request, employee_id)}#{anchor}", status_code=303)


async def resolve_signal(request: Request) -> Response:
    """Resolves one of this employee's signals with the coach's note (audited)."""
    from bot.signals import resolve

    with request.app.state.db.session() as session, session.begin():
        found = await own_form(request, session)
        if isinstance(found, Response):
            return found
        coach, employee, form = found
        try:
            signal = session.get(Signal, int(request.path_params["signal_id"]))
        except ValueError:
            signal = None
        if signal is None or signal.employee_id != employee.id:
            return Response("Not found", status_code=404)
        resolve(session, signal, str(form.get("note", "")))
        audit(session, coach, employee.id, "resolve", f"signal #{signal.id} ({signal.kind})")
        employee_id = employee.id
    return back_to(request, employee_id, "signals")


async def store_text(
    request: Request,
    model: type[CoachNote] | type[CoachMessage],
    limit: int,
    action: str,
    target: str,
    anchor: str,
) -> Response:
    """Stores a coach's text about (or to) the employee from a form, audited; then back to the page."""
    with request.app.state.db.session() as session, session.begin():
        found = await own_form(request, session)
        if isinstance(found, Response):
            return found
        coach, employee, form = found
        text = str(form.get("text", "")).strip()[:limit]
        if text:
            session.add(model(employee_id=employee.id, coach_id=coach.coach_id, text=text))
            audit(session, coach, employee.id, action, target)
        employee_id = employee.id
    return back_to(request, employee_id, anchor)


async def add_note(request: Request) -> Response:
    """Adds the coach's own note on the employee (never shown to the employer)."""
    return await store_text(request, CoachNote, 5000, "note", "coach note added", "notes")


async def send_message(request: Request) -> Response:
    """Queues a message to the employee through the assistant (Telegram and the web chat)."""
    return await store_text(request, CoachMessage, 2000, "message", "message to the employee", "message")


async def save_settings(request: Request) -> Response:
    """Sets the agreed weekly target and the inactivity threshold of the employee."""
    with request.app.state.db.session() as session, session.begin():
        found = await own_form(request, session)
        if isinstance(found, Response):
            return found
        coach, employee, form = found
        try:
            target = int(str(form.get("weekly_target", employee.weekly_target)))
            days = int(str(form.get("inactivity_days", employee.inactivity_days)))
        except ValueError:
            return Response("weekly_target and inactivity_days must be whole numbers", status_code=400)
        if not (0 <= target <= 20 and 1 <= days <= 60):
            return Response("weekly_target 0-20, inactivity_days 1-60", status_code=400)
        employee.weekly_target, employee.inactivity_days = target, days
        audit(session, coach, employee.id, "settings", f"weekly target {target}, inactivity {days} days")
        employee_id = employee.id
    return back_to(request, employee_id, "settings")


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


def _second_factor(session: Session, coach: Coach, code: str) -> bool:
    """Verifies the TOTP code of a coach who set up two-step login and uses up its step.

    The step is claimed with a conditional UPDATE, so two logins racing with the
    same code cannot both succeed. A secret that is not valid base32 refuses.
    """
    if not coach.totp_secret:
        return True
    try:
        step = totp.verify(coach.totp_secret, code, time.time(), coach.totp_last_step)
    except ValueError:
        return False
    if step is None:
        return False
    result = session.execute(
        update(Coach)
        .where(Coach.id == coach.id, Coach.totp_last_step.is_(None) | (Coach.totp_last_step < step))
        .values(totp_last_step=step)
    )
    return bool(getattr(result, "rowcount", 0))


async def login(request: Request) -> Response:
    """Checks the CSRF token, the throttle, the password and the TOTP code; opens a session.

    The code is only asked of coaches with a ``totp_secret``; for the others the
    ``code`` field is ignored. A missing or wrong code counts as a failed attempt
    for the throttle, exactly like a wrong password. Decision: the code is only
    checked once the password is right, so ``coach.login.code`` is shown only
    then (a wrong password always gets ``coach.login.failed``). That tells
    someone who already has the password that it is right, but they still need
    the code and stay throttled; in return a coach who forgot the code gets a
    clear message instead of a misleading "wrong password".
    """
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
        if not _second_factor(session, coach, str(form.get("code", ""))):
            session.add(LoginAttempt(email=email))
            return render(
                request,
                "coach_login.html",
                lang,
                status=401,
                csrf=token,
                error="coach.login.code",
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


FILTERS = ("signals", "below_target", "light", "intensive")


async def caseload(request: Request) -> Response:
    """Lists this coach's employees only: urgent signals first, with filters, search and pages.

    Two grouped subqueries (open signals, this week's applications) keep it
    two statements per page (count and rows), also with thousands of employees.
    """
    from bot.web.app import render

    with request.app.state.db.session() as session, session.begin():
        coach = current_coach(request, session)
        if coach is None:
            return RedirectResponse("/coach/login", status_code=303)
        query = request.query_params.get("q", "").strip()[:100]
        shown = request.query_params.get("show", "")
        shown = shown if shown in FILTERS else ""
        try:
            page_no = max(1, int(request.query_params.get("page", "1")))
        except ValueError:
            page_no = 1
        secret = request.app.state.settings.secret_key
        people, total = caseload_rows(session, coach.coach_id, query, shown, page_no, coach.language, secret)
    return render(
        request,
        "coach_caseload.html",
        coach.language,
        coach=coach,
        people=people,
        q=query,
        show=shown,
        filters=FILTERS,
        page=page_no,
        total=total,
        has_next=page_no * PAGE_SIZE < total,
    )


def caseload_rows(
    session: Session, coach_id: int | None, query: str, shown: str, page_no: int, lang: str, secret: str
) -> tuple[list[dict[str, Any]], int]:
    """Returns one page of the caseload and the number of employees that match.

    Two statements whatever the page holds: the count and the page, each one
    query with the grouped subqueries. ``coach_id=None`` reads every coach's
    employees at once: the product has no admin role, so nothing in the web
    app asks for that; ``bench/coach_scale.py`` uses it as the admin-style
    query over the whole database.
    """
    from bot import applications as apps
    from bot.signals import URGENCY, next_milestone

    today = apps.today()
    monday = apps.monday_of(today)
    signals = (
        select(Signal.employee_id, func.max(Signal.urgency).label("top"), func.count().label("n"))
        .where(Signal.resolved_at.is_(None))
        .group_by(Signal.employee_id)
        .subquery()
    )
    week = (
        select(Application.employee_id, func.count().label("count"))
        .where(Application.applied_on.between(monday, monday + dt.timedelta(days=6)))
        .group_by(Application.employee_id)
        .subquery()
    )
    stmt = (
        select(Employee, signals.c.top, signals.c.n, func.coalesce(week.c.count, 0))
        .outerjoin(signals, signals.c.employee_id == Employee.id)
        .outerjoin(week, week.c.employee_id == Employee.id)
    )
    if coach_id is not None:
        stmt = stmt.where(Employee.coach_id == coach_id)
    if query:
        escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(Employee.name.ilike(f"%{escaped}%", escape="\\"))
    if shown == "signals":
        stmt = stmt.where(signals.c.n > 0)
    elif shown == "below_target":
        stmt = stmt.where(func.coalesce(week.c.count, 0) < Employee.weekly_target)
    elif shown in ("light", "intensive"):
        stmt = stmt.where(Employee.trajectory == shown)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.execute(
        stmt.order_by(func.coalesce(signals.c.top, 0).desc(), Employee.name, Employee.id)
        .limit(PAGE_SIZE)
        .offset((page_no - 1) * PAGE_SIZE)
    ).all()
    kind_of = {urgency: kind for kind, urgency in URGENCY.items()}
    people = []
    for e, top, n, count in rows:
        milestone = next_milestone(e.first_sick_day, today)
        people.append(
            {
                "id": e.id,
                "ref": employee_ref(secret, e.id),
                "name": e.name,
                "trajectory": e.trajectory,
                "week": min(trajectory_week(e.first_sick_day, today), 104),
                "milestone": milestone,
                "milestone_date": i18n.format_date(lang, milestone.starts, "medium") if milestone else "",
                "last_activity": e.last_activity_at,
                "applications": count,
                "target": e.weekly_target,
                "signals": n or 0,
                "top_signal": kind_of.get(top) if top else None,
                "urgent": (top or 0) >= URGENCY["crisis"],
            }
        )
    return people, total


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
        notes = list(
            session.scalars(
                select(CoachNote).where(CoachNote.employee_id == employee.id).order_by(CoachNote.id.desc())
            )
        )
        messages = list(
            session.scalars(
                select(CoachMessage)
                .where(CoachMessage.employee_id == employee.id)
                .order_by(CoachMessage.id.desc())
                .limit(20)
            )
        )
        context: dict[str, Any] = {
            "employee": employee,
            "base": employee_base(request, employee.id),
            "week": trajectory_week(employee.first_sick_day),
            "signals": signals,
            "notes": notes,
            "messages": messages,
            "channels": [i.channel for i in employee.identities],
            "this_month": utcnow().strftime("%Y-%m"),
            **employee_records(session, employee.id, coach.language),
        }
    return render(request, "coach_employee.html", coach.language, coach=coach, **context)


SHOWN_APPLICATIONS = 100


def employee_records(session: Session, employee_id: int, lang: str) -> dict[str, object]:
    """Returns the profile, assessment, reflections, summaries and applications shown to the coach.

    A fixed number of statements however long the history: the newest 100
    applications come with their status histories in one more query
    (``selectinload``), and the counts are one aggregate.
    """
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
    monday = apps.monday_of(apps.today())
    this_week = Application.applied_on.between(monday, monday + dt.timedelta(days=6))
    total, week_count, agencies = session.execute(
        select(
            func.count(Application.id),
            func.count(Application.id).filter(this_week),
            func.count(Application.id).filter(Application.channel == "agency"),
        ).where(Application.employee_id == employee_id)
    ).one()
    newest = session.scalars(
        select(Application)
        .where(Application.employee_id == employee_id)
        .order_by(Application.applied_on.desc(), Application.id.desc())
        .limit(SHOWN_APPLICATIONS)
        .options(selectinload(Application.history))
    )
    applications = [
        {
            "applied_on": i18n.format_date(lang, a.applied_on, "medium"),
            "employer": a.employer,
            "job_title": a.job_title,
            "channel": apps.label(CHANNELS, lang, a.channel),
            "status": apps.label(STATUSES, lang, a.status),
            "history": apps.history_text(a, lang),
        }
        for a in newest
    ]
    return {
        "applications": applications,
        "applications_total": int(total or 0),
        "week_count": int(week_count or 0),
        "agencies": int(agencies or 0),
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
    html = render_html(data, i18n.FALLBACK_LANGUAGE)
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
        Route("/coach/employees/{ref}", employee_page),
        Route("/coach/employees/{ref}/report", employee_report),
        Route("/coach/employees/{ref}/signals/{signal_id}/resolve", resolve_signal, methods=["POST"]),
        Route("/coach/employees/{ref}/notes", add_note, methods=["POST"]),
        Route("/coach/employees/{ref}/message", send_message, methods=["POST"]),
        Route("/coach/employees/{ref}/settings", save_settings, methods=["POST"]),
    ]
