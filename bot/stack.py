"""A whole Koers started as `make run` starts it (`koers run` with the trained model).

Used by the end-to-end tests and the benchmarks: each gets its own var folder,
database and ports, talks to Rasa over REST and reads the database directly.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bot import ROOT, i18n
from bot.db import Database

MODEL = ROOT / "models" / "koers.tar.gz"
READY = 420


@dataclass
class Stack:
    """A running Koers: its settings, processes and helpers to talk to it."""

    var: Path
    env: dict[str, str]
    rasa_port: int
    web_port: int
    proc: subprocess.Popen[str] | None = None
    output: list[str] = field(default_factory=list)
    ready_seconds: float = 0.0

    @property
    def rasa(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def web(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def token(self) -> str:
        return (self.var / "rasa_token").read_text().strip()

    @property
    def database_url(self) -> str:
        return self.env["KOERS_DATABASE_URL"]

    def start(self) -> None:
        self.output.clear()
        started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        ready = threading.Event()

        def pump() -> None:
            assert self.proc is not None and self.proc.stdout is not None
            for line in self.proc.stdout:
                self.output.append(line)
                if "ready after" in line:
                    ready.set()

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + READY
        while not ready.wait(1):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("koers run did not become ready:\n" + "".join(self.output))
        self.ready_seconds = time.monotonic() - started

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def koers(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", *args],
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=400,
        )

    def enrol(
        self, name: str, language: str = i18n.FALLBACK_LANGUAGE, coach: str = "coach@koers.test"
    ) -> dict[str, Any]:
        result = self.koers(
            "employee",
            "add",
            "--coach",
            coach,
            "--name",
            name,
            "--language",
            language,
            "--first-sick-day",
            "2026-01-05",
            "--json",
        )
        assert result.returncode == 0, result.stderr
        data: dict[str, Any] = json.loads(result.stdout)
        return data

    def enrol_many(
        self, names: list[str], language: str = i18n.FALLBACK_LANGUAGE, coach: str = "coach@koers.test"
    ) -> list[dict[str, Any]]:
        """Creates employees in one transaction, straight in the database (many at once,
        where the command line's start-up per employee would dominate); returns their
        ids and invite codes as ``enrol`` does."""
        from bot.enrolment import add_employee

        db = self.database()
        created = []
        with db.session() as session, session.begin():
            for name in names:
                employee, code = add_employee(
                    session,
                    coach_email=coach,
                    name=name,
                    language=language,
                    first_sick_day=dt.date(2026, 1, 5),
                )
                session.flush()
                created.append({"id": employee.id, "invite_code": code})
        db.dispose()
        return created

    def say(self, sender: str, message: str) -> list[dict[str, Any]]:
        response = httpx.post(
            f"{self.rasa}/webhooks/rest/webhook",
            json={"sender": sender, "message": message},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        answers: list[dict[str, Any]] = response.json()
        return answers

    def tracker(self, sender: str) -> dict[str, Any]:
        response = httpx.get(
            f"{self.rasa}/conversations/{sender}/tracker", params={"token": self.token}, timeout=30
        )
        response.raise_for_status()
        tracker: dict[str, Any] = response.json()
        return tracker

    def database(self) -> Database:
        return Database(self.database_url)


def make_stack(tmp: Path, database_url: str, base_port: int) -> Stack:
    """Creates a coach and starts Koers with its own var folder, database and ports."""
    if not MODEL.is_file():
        raise RuntimeError("no trained model: run `make model` first")
    var = tmp / "var"
    env = {
        **os.environ,
        "KOERS_VAR_DIR": str(var),
        "KOERS_DATABASE_URL": database_url,
        "KOERS_RASA_URL": f"http://127.0.0.1:{base_port + 5}",
        "KOERS_ACTION_PORT": str(base_port + 55),
        "KOERS_WEB_PORT": str(base_port + 800),
    }
    env.pop("KOERS_TELEGRAM_TOKEN", None)
    stack = Stack(var=var, env=env, rasa_port=base_port + 5, web_port=base_port + 800)
    result = stack.koers(
        "coach",
        "add",
        "--email",
        "coach@koers.test",
        "--name",
        "Carla Coach",
        "--password-stdin",
        stdin="a long coach password\n",
    )
    assert result.returncode == 0, result.stderr
    stack.start()
    return stack
