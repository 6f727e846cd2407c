"""The employee's web chat: the page, the embeddable widget and its JSON API.

The server issues the chat identity: a random session id in a signed, HttpOnly
cookie. The Rasa sender id is ``web:<session id>``, so a browser can neither
choose nor guess another employee's conversation.
"""

from __future__ import annotations

import logging
import re
import secrets
import unicodedata
from typing import Any

from itsdangerous import BadSignature, Signer
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot import enrolment, i18n
from bot.models import Coach, CoachMessage
from bot.rasa_client import RasaUnavailable

logger = logging.getLogger(__name__)

COOKIE = "koers_chat"
MAX_MESSAGE = 4000
COOKIE_DAYS = 180
CODE_SHAPE = re.compile(r"^[A-Za-z0-9-]{4,32}$")


def _signer(request: Request) -> Signer:
    return Signer(request.app.state.settings.secret_key, salt="koers.chat")


def session_id(request: Request) -> str | None:
    """Returns the chat session id from a valid cookie, or None."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        return _signer(request).unsign(raw).decode()
    except BadSignature:
        return None


def sender_for(sid: str) -> str:
    """Returns the Rasa sender id of a web chat session."""
    return f"web:{sid}"


def _set_cookie(request: Request, response: Response, sid: str) -> None:
    response.set_cookie(
        COOKIE,
        _signer(request).sign(sid).decode(),
        max_age=COOKIE_DAYS * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def origin_allowed(request: Request) -> bool:
    """Tells whether a state-changing request comes from our own page (or a configured origin)."""
    origin = request.headers.get("origin")
    if origin is None:
        # browsers always send Origin on fetch POSTs; non-browser clients have no cookies to abuse
        return True
    own = f"{request.url.scheme}://{request.url.netloc}"
    return origin == own or origin in request.app.state.settings.allowed_origins


def language_for(request: Request, sid: str | None) -> str:
    """Returns the employee's language when bound, else the page's or the default."""
    if sid:
        with request.app.state.db.session() as session:
            binding = enrolment.binding_for(session, sender_for(sid))
        if binding:
            return i18n.resolve(binding.language)
    asked = request.query_params.get("lang")
    if i18n.is_supported(asked):
        return str(asked)
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().split("-")[0].lower()
        if i18n.is_supported(code):
            return code
    return i18n.resolve(request.app.state.settings.default_language)


def clean_text(text: str) -> str:
    """Removes control and format characters except line breaks and tabs."""
    return "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs", "Co")
    ).strip()


async def page(request: Request) -> Response:
    """Serves the full chat page (also inside the widget's frame)."""
    from bot.web.app import render

    sid = session_id(request)
    new = sid is None
    if sid is None:
        sid = secrets.token_urlsafe(24)
    code = request.query_params.get("code", "")
    lang = language_for(request, None if new else sid)
    response = render(
        request,
        "chat.html",
        lang,
        code=code if CODE_SHAPE.match(code) else "",
        embed=request.query_params.get("embed") == "1",
    )
    if new:
        _set_cookie(request, response, sid)
    return response


def _reply(lang: str, key: str, status: int = 200, **extra: Any) -> JSONResponse:
    body = {"messages": [{"text": i18n.t(lang, key), "buttons": [], "attachment": None}], **extra}
    return JSONResponse(body, status_code=status)


async def message(request: Request) -> Response:
    """Passes one message from the chat page to Rasa and returns the answers."""
    sid = session_id(request)
    lang = language_for(request, sid)
    if not origin_allowed(request):
        return _reply(lang, "web.error.origin", status=403, error="origin")
    if sid is None:
        return _reply(lang, "web.error.session", status=403, error="session")
    try:
        body = await request.json()
    except ValueError:
        return _reply(lang, "web.error.bad_request", status=400, error="bad_request")
    text = body.get("message") if isinstance(body, dict) else None
    if not isinstance(text, str):
        return _reply(lang, "web.error.bad_request", status=400, error="bad_request")
    if len(text) > MAX_MESSAGE:
        return _reply(lang, "web.error.too_long", error="too_long")
    text = clean_text(text)
    if not text:
        return _reply(lang, "web.error.empty", error="empty")
    try:
        answers = await request.app.state.rasa.send(sender_for(sid), text, language=lang)
        if not answers:
            # every turn of Koers answers; silence means the action server failed
            raise RasaUnavailable("no answer")
    except RasaUnavailable as exc:
        logger.warning("rasa unavailable for a web message: %s", exc)
        return _reply(lang, "web.error.unavailable", status=503, error="unavailable")
    return JSONResponse({"messages": [a.as_dict() for a in answers]})


async def history(request: Request) -> Response:
    """Returns the conversation so far, so a reload keeps it on screen."""
    sid = session_id(request)
    if sid is None:
        return JSONResponse({"messages": []})
    with request.app.state.db.session() as session:
        binding = enrolment.binding_for(session, sender_for(sid))
        from_coach = coach_messages(session, binding.employee_id, binding.language) if binding else []
    if binding is None:
        return JSONResponse({"messages": []})
    try:
        items = await request.app.state.rasa.history(sender_for(sid))
    except RasaUnavailable:
        return JSONResponse({"messages": from_coach, "error": "unavailable"})
    # the enrolment code is not worth showing again
    items = [i for i in items if not (i["from"] == "user" and i["text"].startswith("/start"))]
    # the coach's messages take their place in time
    return JSONResponse({"messages": sorted(items + from_coach, key=lambda i: float(i.get("at") or 0))})


def coach_messages(session: Session, employee_id: int, lang: str) -> list[dict[str, Any]]:
    """Returns the coach's messages to this employee as chat messages."""
    rows = session.execute(
        select(CoachMessage.text, CoachMessage.created_at, Coach.name)
        .join(Coach, Coach.id == CoachMessage.coach_id)
        .where(CoachMessage.employee_id == employee_id)
        .order_by(CoachMessage.id)
    ).all()
    return [
        {
            "from": "bot",
            "coach": True,
            "text": i18n.t(lang, "coach_message.from_coach", coach=name, text=text),
            "buttons": [],
            "attachment": None,
            "at": created.timestamp(),
        }
        for text, created, name in rows
    ]


async def widget(request: Request) -> Response:
    """Serves the embeddable widget: one script tag adds a chat button to any page."""
    from bot.web.app import HERE

    script = (HERE / "static" / "widget.js").read_text(encoding="utf-8")
    return Response(
        script,
        media_type="application/javascript",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


def routes() -> list[Route]:
    """Returns the chat's routes."""
    return [
        Route("/chat", page),
        Route("/widget.js", widget),
        Route("/api/message", message, methods=["POST"]),
        Route("/api/history", history),
    ]
