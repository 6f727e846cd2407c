"""Talks to the Rasa server over its REST channel and HTTP API (one client per process)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

logger = logging.getLogger(__name__)


class RasaUnavailable(RuntimeError):
    """The Rasa server (or its action server) could not answer."""


@dataclass
class BotMessage:
    """One message of the assistant, as any channel shows it."""

    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)
    attachment: str | None = None
    filename: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Returns the JSON form the web chat uses."""
        return {
            "text": self.text,
            "buttons": self.buttons,
            "attachment": self.attachment,
            "filename": self.filename,
        }


def _message(raw: dict[str, Any]) -> BotMessage:
    buttons = [
        {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
        for b in raw.get("buttons") or []
    ]
    found = raw.get("custom")
    custom: dict[str, Any] = found if isinstance(found, dict) else {}
    attachment, filename = custom.get("attachment"), custom.get("filename")
    return BotMessage(
        text=str(raw.get("text") or ""),
        buttons=buttons,
        attachment=str(attachment) if attachment else None,
        filename=str(filename) if filename else None,
    )


class RasaClient:
    """An async client for one Rasa server."""

    def __init__(self, base_url: str, token: str, timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._http = httpx.AsyncClient(timeout=timeout)

    async def send(self, sender: str, text: str, language: str | None = None) -> list[BotMessage]:
        """Sends one user message and returns the assistant's answers.

        ``language`` is the channel's guess (browser or Telegram setting); the
        assistant uses it only for people who are not enrolled yet.
        """
        body: dict[str, Any] = {"sender": sender, "message": text}
        if language:
            body["metadata"] = {"language": language}
        try:
            response = await self._http.post(f"{self.base_url}/webhooks/rest/webhook", json=body)
            response.raise_for_status()
            payload = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise RasaUnavailable(str(exc)) from exc
        if not isinstance(payload, list):
            raise RasaUnavailable("unexpected answer from Rasa")
        return [_message(item) for item in payload if isinstance(item, dict)]

    async def history(self, sender: str, limit: int = 100) -> list[dict[str, Any]]:
        """Returns the last ``limit`` user and bot messages of a conversation."""
        try:
            response = await self._http.get(
                f"{self.base_url}/conversations/{quote(sender, safe=':')}/tracker",
                params={"include_events": "ALL", "token": self.token},
            )
            response.raise_for_status()
            tracker = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise RasaUnavailable(str(exc)) from exc
        items: list[dict[str, Any]] = []
        for event in tracker.get("events") or []:
            kind = event.get("event")
            at = float(event.get("timestamp") or 0)
            if kind == "user":
                items.append({"from": "user", "text": event.get("text") or "", "at": at})
            elif kind == "bot":
                data = event.get("data") or {}
                message = _message({"text": event.get("text"), **data}).as_dict()
                items.append({"from": "bot", **message, "at": at})
        return items[-limit:]

    async def status(self) -> bool:
        """Tells whether the server is up with a model loaded."""
        try:
            response = await self._http.get(
                f"{self.base_url}/status", params={"token": self.token}, timeout=5
            )
            return response.status_code == 200 and bool(response.json().get("model_file"))
        except (httpx.HTTPError, ValueError):
            return False

    async def aclose(self) -> None:
        """Closes the connection pool."""
        await self._http.aclose()
