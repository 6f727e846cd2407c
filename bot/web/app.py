"""Builds the Starlette app that serves the web chat and the coach dashboard."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot import i18n
from bot.config import Settings, load_settings
from bot.db import Database
from bot.rasa_client import RasaClient
from bot.summaries import summarise_idle_sessions
from bot.web import chat, coach, documents

logger = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors *; base-uri 'none'; form-action 'self'"
    ),
}

# the dashboard is never framed (the chat page may be embedded by the widget)
COACH_HEADERS = {
    **SECURITY_HEADERS,
    "Content-Security-Policy": SECURITY_HEADERS["Content-Security-Policy"].replace(
        "frame-ancestors *", "frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def make_templates() -> Environment:
    """Returns the Jinja2 environment (autoescaping on: employee text is never markup)."""
    return Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(request: Request, template: str, lang: str, *, status: int = 200, **context: Any) -> Response:
    """Renders a page in ``lang`` with the security headers."""
    env: Environment = request.app.state.templates
    language = i18n.languages().get(lang) or i18n.languages()[i18n.resolve(lang)]

    def translate(key: str, **params: object) -> str:
        return i18n.t(lang, key, **params)

    html = env.get_template(template).render(
        _=translate,
        lang=language.code,
        dir=language.direction,
        languages=i18n.languages(),
        **context,
    )
    headers = COACH_HEADERS if template.startswith("coach") else SECURITY_HEADERS
    return HTMLResponse(html, status_code=status, headers=headers)


async def home(request: Request) -> Response:
    """Sends visitors to the chat."""
    return RedirectResponse("/chat", status_code=302)


async def health(request: Request) -> Response:
    """Answers liveness checks."""
    return PlainTextResponse("ok")


async def summarise_forever(database: Database, every: float = 300.0, signals_every: int = 12) -> None:
    """Summarises quiet conversations every few minutes, and runs the signal rules every hour."""
    rounds = 0
    while True:
        try:
            await asyncio.to_thread(summarise_idle_sessions, database)
            if rounds % signals_every == 0:
                await asyncio.to_thread(refresh_signals, database)
        except Exception:  # one failed round must not stop the loop; it is logged
            logger.exception("summarising or refreshing signals failed")
        rounds += 1
        await asyncio.sleep(every)


def refresh_signals(database: Database) -> None:
    """Runs the time rules of the signals for everyone."""
    from bot.signals import refresh_all

    with database.session() as session, session.begin():
        refresh_all(session)


def create_app(
    settings: Settings | None = None,
    database: Database | None = None,
    rasa: RasaClient | None = None,
    background: bool = True,
) -> Starlette:
    """Creates the web app; tests pass their own settings, database or Rasa client."""
    settings = settings or load_settings()
    database = database or Database(settings.database_url)
    rasa = rasa or RasaClient(settings.rasa_url, settings.rasa_token)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(summarise_forever(database)) if background else None
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await rasa.aclose()

    app = Starlette(
        routes=[
            Route("/", home),
            Route("/healthz", health),
            *chat.routes(),
            *coach.routes(),
            *documents.routes(),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = database
    app.state.rasa = rasa
    app.state.templates = make_templates()
    return app
