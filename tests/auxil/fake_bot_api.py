"""A local fake of the Telegram Bot API: records what the bot sends, serves what tests queue.

Runs on 127.0.0.1 in a thread (uvicorn + Starlette). python-telegram-bot is pointed
at it through ``base_url``; nothing leaves the machine.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

BOT_ID = 999000


@dataclass
class FakeBotApi:
    """The recorded calls and the canned failures of one fake server."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    fail_next: dict[str, int] = field(default_factory=dict)  # method -> retry_after seconds
    port: int = 0
    _server: uvicorn.Server | None = None
    message_id: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]

    def texts(self) -> list[str]:
        return [str(p.get("text", "")) for p in self.sent()]

    async def handle(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        raw = await request.body()
        params: dict[str, Any]
        try:
            params = json.loads(raw) if raw else {}
        except ValueError:
            form = await request.form()
            params = {}
            for k, v in form.items():
                if isinstance(v, str):
                    params[k] = json.loads(v) if v[:1] in "[{" else v
                else:  # an uploaded file (sendDocument): keep its name and bytes
                    params[k] = {"filename": v.filename, "content": await v.read()}
        if method in self.fail_next:
            retry_after = self.fail_next.pop(method)
            return JSONResponse(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests",
                    "parameters": {"retry_after": retry_after},
                },
                status_code=429,
            )
        self.calls.append((method, params))
        return JSONResponse({"ok": True, "result": self.result(method, params)})

    def result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Koers",
                "username": "koers_test_bot",
                "can_join_groups": False,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if method in ("sendMessage", "sendDocument"):
            self.message_id += 1
            return {
                "message_id": self.message_id,
                "date": int(time.time()),
                "chat": {"id": int(params.get("chat_id", 0)), "type": "private"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Koers"},
                "text": params.get("text", ""),
            }
        if method == "getUpdates":
            return []
        return True

    def start(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        app = Starlette(routes=[Route("/bot{token}/{method}", self.handle, methods=["GET", "POST"])])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", ws="none")
        self._server = uvicorn.Server(config)
        threading.Thread(target=self._server.run, daemon=True).start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake Bot API did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True


_update_ids = iter(range(1, 10**9))


def user(user_id: int, language_code: str = "nl") -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "Piet", "language_code": language_code}


def message_update(
    user_id: int,
    text: str | None = None,
    chat_type: str = "private",
    update_id: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Builds an update carrying a message, like Telegram sends it."""
    message: dict[str, Any] = {
        "message_id": 1,
        "date": int(time.time()),
        "from": user(user_id),
        "chat": {"id": user_id if chat_type == "private" else -100123, "type": chat_type},
        **extra,
    }
    if text is not None:
        message["text"] = text
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": update_id or next(_update_ids), "message": message}


def callback_update(user_id: int, data: str, update_id: int | None = None) -> dict[str, Any]:
    """Builds an update for a press on an inline keyboard button."""
    return {
        "update_id": update_id or next(_update_ids),
        "callback_query": {
            "id": f"cb{time.time_ns()}",
            "from": user(user_id),
            "chat_instance": "1",
            "data": data,
            "message": {
                "message_id": 5,
                "date": int(time.time()),
                "chat": {"id": user_id, "type": "private"},
                "text": "…",
            },
        },
    }
