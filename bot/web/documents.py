"""Documents to download: the employee's CV by signed link, and the coach's copies.

The employee gets ``/cv/<token>``: a link signed with the secret key that
names the employee and the format and expires after seven days. Nothing is
stored on disk; the current CV is rendered on each download. Coaches open the
CV and the application evidence of their own employees (audited).
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot import applications as apps
from bot import cv as cvs
from bot import i18n
from bot.web.coach import audit, own_employee

NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def attachment(content: bytes, media_type: str, name: str) -> Response:
    """Returns a file download that is never cached."""
    return Response(
        content,
        media_type=media_type,
        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'},
    )


def not_found(request: Request, key: str) -> Response:
    """Answers 404 with one sentence in the default language (and English)."""
    default = i18n.resolve(request.app.state.settings.default_language)
    lines = dict.fromkeys([i18n.t(default, key), i18n.t(i18n.LINGUA_FRANCA, key)])
    return Response("\n".join(lines), status_code=404, media_type="text/plain; charset=utf-8")


def render_cv(request: Request, employee_id: int, fmt: str) -> tuple[bytes, str] | None:
    """Renders the employee's current CV, or None when there is none."""
    with request.app.state.db.session() as session, session.begin():
        row = cvs.get_cv(session, employee_id)
        if row is None:
            return None
        return cvs.render(session, row, fmt)


async def cv_download(request: Request) -> Response:
    """Serves the CV a valid, unexpired link names; anything else is 404."""
    found = cvs.read_token(request.app.state.settings.secret_key, request.path_params["token"])
    if found is None:
        return not_found(request, "web.cv.link_invalid")
    rendered = await asyncio.to_thread(render_cv, request, found.employee_id, found.fmt)
    if rendered is None:
        return not_found(request, "web.cv.link_invalid")
    content, name = rendered
    return attachment(content, cvs.FORMATS[found.fmt], name)


def own_download(request: Request, what: str) -> int | Response:
    """Returns the id of this coach's employee in the path, with the download audited; else the refusal."""
    with request.app.state.db.session() as session, session.begin():
        found = own_employee(request, session)
        if isinstance(found, Response):
            return found
        coach, employee = found
        audit(session, coach, employee.id, "download", what)
        return employee.id


async def coach_cv(request: Request) -> Response:
    """Downloads the CV of one of this coach's employees (audited)."""
    fmt = request.path_params["fmt"]
    if fmt not in cvs.FORMATS:
        return Response("unknown format", status_code=404)
    employee_id = own_download(request, f"cv ({fmt})")
    if isinstance(employee_id, Response):
        return employee_id
    rendered = await asyncio.to_thread(render_cv, request, employee_id, fmt)
    if rendered is None:
        return not_found(request, "coach.employee.no_cv")
    content, name = rendered
    return attachment(content, cvs.FORMATS[fmt], name)


async def coach_applications(request: Request) -> Response:
    """Downloads the application evidence of one of this coach's employees as CSV or PDF (audited)."""
    fmt = request.path_params["fmt"]
    if fmt not in ("csv", "pdf"):
        return Response("unknown format", status_code=404)
    employee_id = own_download(request, f"applications ({fmt})")
    if isinstance(employee_id, Response):
        return employee_id

    def export() -> bytes:
        with request.app.state.db.session() as session:
            if fmt == "csv":
                return apps.export_csv(session, employee_id, i18n.FALLBACK_LANGUAGE).encode("utf-8-sig")
            return apps.export_pdf(session, employee_id, i18n.FALLBACK_LANGUAGE)

    content = await asyncio.to_thread(export)
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/pdf"
    return attachment(content, media, f"sollicitaties-{employee_id}.{fmt}")


def routes() -> list[Route]:
    """Returns the download routes."""
    return [
        Route("/cv/{token}", cv_download),
        Route("/coach/employees/{ref}/cv.{fmt}", coach_cv),
        Route("/coach/employees/{ref}/applications.{fmt}", coach_applications),
    ]
