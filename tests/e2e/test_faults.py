"""Faults during forms: the action server killed with SIGKILL at random moments.

Rasa and the action server are started here one by one, with the same command
lines `koers run` uses (`koers run` itself stops the whole group when one
process dies; in production each process is restarted by its own service
manager). The employee logs an application while the action server is killed
before a message, and while a message is in flight; each time the user is told
in their language, the form resumes once the server is back, and the stored
application exists exactly once with what the user said.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot import ROOT, i18n
from bot.config import Settings, load_settings
from bot.db import Database
from bot.enrolment import add_coach, add_employee, coach_by_email
from bot.models import Application, ApplicationDraft
from bot.stack import MODEL
from bot.supervisor import commands

pytestmark = pytest.mark.rasa

RASA_PORT = 19005
ACTION_PORT = 19055
COACH = "faults@koers.test"
RASA_ACTION_TIMEOUT = 300  # rasa.core.constants.DEFAULT_REQUEST_TIMEOUT: the user must hear before it


@dataclass
class Pair:
    """Rasa and the action server, started separately so one can die alone."""

    settings: Settings
    env: dict[str, str]
    procs: dict[str, subprocess.Popen[bytes]]
    logs: Path

    @property
    def rasa(self) -> str:
        return f"http://127.0.0.1:{RASA_PORT}"

    def start(self, name: str) -> None:
        argv, extra = commands(self.settings)[name]
        handle = (self.logs / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(
            argv, cwd=ROOT, env={**self.env, **extra}, stdout=handle, stderr=subprocess.STDOUT
        )
        handle.close()

    def kill_actions(self) -> None:
        proc = self.procs["actions"]
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def wait_for(self, url: str, params: dict[str, str] | None = None, seconds: float = 400) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                if httpx.get(url, params=params, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"{url} did not come up; logs in {self.logs}")

    def restart_actions(self) -> None:
        self.start("actions")
        self.wait_for(f"http://127.0.0.1:{ACTION_PORT}/health", seconds=60)

    def say(self, sender: str, message: str) -> list[str]:
        response = httpx.post(
            f"{self.rasa}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=330
        )
        assert response.status_code == 200, response.text
        return [m.get("text", "") for m in response.json()]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    if not MODEL.is_file():
        pytest.fail("no trained model: `make test` trains it before running the suite")
    var = tmp_path_factory.mktemp("faults")
    env = {
        **os.environ,
        "KOERS_VAR_DIR": str(var),
        "KOERS_DATABASE_URL": f"sqlite:///{var / 'koers.db'}",
        "KOERS_RASA_URL": f"http://127.0.0.1:{RASA_PORT}",
        "KOERS_ACTION_PORT": str(ACTION_PORT),
    }
    settings = load_settings(env)
    db = Database(settings.database_url)
    db.upgrade()
    db.dispose()
    logs = var / "log"
    logs.mkdir(parents=True)
    running = Pair(settings, env, {}, logs)
    running.start("rasa")
    running.start("actions")
    running.wait_for(f"{running.rasa}/status", {"token": settings.rasa_token})
    running.wait_for(f"http://127.0.0.1:{ACTION_PORT}/health")
    yield running
    for proc in running.procs.values():
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)


def enrol(pair: Pair, name: str, language: str) -> tuple[int, str]:
    """Creates an employee (and the module's coach, once); returns its id and invite code."""
    db = Database(pair.settings.database_url)
    with db.session() as session, session.begin():
        if coach_by_email(session, COACH) is None:
            add_coach(session, email=COACH, name="Fien Fout", password="a long coach password")
        employee, code = add_employee(
            session, coach_email=COACH, name=name, language=language, first_sick_day=dt.date(2026, 1, 5)
        )
        employee_id = employee.id
    db.dispose()
    return employee_id, code


# the application form as the load test types it: start, employer, job, date, channel, save
SCRIPT = [
    "/log_application",
    "Transport Visser",
    "planner",
    "{today}",
    '/inform{"channel":"vacancy_site"}',
    "/affirm",
]


def stored(pair: Pair, employee_id: int) -> tuple[list[str], int]:
    """The employee's saved applications (employers) and open drafts."""
    db = Database(pair.settings.database_url)
    with db.session() as session:
        mine = Application.employee_id == employee_id
        rows = list(session.scalars(select(Application.employer).where(mine)))
        drafts = (
            session.scalar(
                select(func.count(ApplicationDraft.id)).where(ApplicationDraft.employee_id == employee_id)
            )
            or 0
        )
    db.dispose()
    return rows, drafts


def test_killed_before_a_message_the_user_is_told_and_the_form_resumes(pair: Pair) -> None:
    lang = "en"
    employee_id, code = enrol(pair, "Kim Kampen", lang)
    who = "faults-before"
    assert pair.say(who, f"/start {code}")[0] == i18n.t(lang, "enrol.welcome", name="Kim Kampen")
    unavailable = i18n.t(lang, "web.error.unavailable")
    for step, message in enumerate(m.replace("{today}", "today") for m in SCRIPT):
        if step in (1, 3, 5):
            pair.kill_actions()
            started = time.monotonic()
            assert pair.say(who, message) == [unavailable]
            assert time.monotonic() - started < RASA_ACTION_TIMEOUT
            pair.restart_actions()
        answer = pair.say(who, message)
        assert answer and unavailable not in answer, (message, answer)
    assert stored(pair, employee_id) == (["Transport Visser"], 0)


def test_killed_while_messages_are_in_flight_nothing_is_lost_or_doubled(pair: Pair) -> None:
    rng = random.Random(8)
    lang = "nl"
    unavailable = i18n.t(lang, "web.error.unavailable")
    for round_ in range(3):
        employer = f"Werkgever Vlucht {round_}"  # the NLU reads it as an answer (checked: inform)
        name = f"Vera Vlucht {round_}"
        employee_id, code = enrol(pair, name, lang)
        who = f"faults-flight-{round_}"
        assert pair.say(who, f"/start {code}")[0] == i18n.t(lang, "enrol.welcome", name=name)
        script = [employer if m == "Transport Visser" else m.replace("{today}", "vandaag") for m in SCRIPT]
        victim = rng.randrange(1, len(script))
        for step, message in enumerate(script):
            if step == victim:
                answer = asyncio.run(say_and_kill(pair, who, message, rng.uniform(0.0, 0.15)))
                pair.restart_actions()
                if answer == [unavailable]:
                    answer = pair.say(who, message)
            else:
                answer = pair.say(who, message)
            assert answer and unavailable not in answer, (round_, message, answer)
        assert stored(pair, employee_id) == ([employer], 0), (round_, victim)


async def say_and_kill(pair: Pair, who: str, message: str, delay: float) -> list[str]:
    """Sends a message and kills the action server ``delay`` seconds later, while it is handled."""
    async with httpx.AsyncClient(timeout=330) as client:
        request = asyncio.create_task(
            client.post(f"{pair.rasa}/webhooks/rest/webhook", json={"sender": who, "message": message})
        )
        await asyncio.sleep(delay)
        pair.kill_actions()
        response = await request
    assert response.status_code == 200
    answers: list[dict[str, Any]] = response.json()
    return [m.get("text", "") for m in answers]
