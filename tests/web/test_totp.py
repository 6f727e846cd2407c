"""The coach's optional second factor: TOTP at login, its replay guard and throttle, the CLI."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from httpx import Response
from sqlalchemy import func, select
from starlette.testclient import TestClient

from bot import i18n, totp
from bot.config import Settings
from bot.db import Database
from bot.enrolment import coach_by_email
from bot.models import CoachSession, LoginAttempt
from bot.web.app import create_app
from tests.conftest import PASSWORD, koers
from tests.web.test_coach import csrf_of

ANNA = "anna@koers.test"


@pytest.fixture
def client(settings: Settings, db: Database, people: dict[str, object]) -> Iterator[TestClient]:
    with TestClient(create_app(settings, db), base_url="http://127.0.0.1:8000", follow_redirects=False) as c:
        yield c


def enable(db: Database, email: str = ANNA) -> str:
    """Gives the coach a TOTP secret directly in the database; returns it."""
    secret = totp.new_secret()
    with db.session() as s, s.begin():
        coach = coach_by_email(s, email)
        assert coach is not None
        coach.totp_secret = secret
    return secret


def current_code(secret: str) -> str:
    return totp.code_at(secret, totp.step_of(time.time()))


def wrong_code(secret: str) -> str:
    """A six-digit code that no step near now produces."""
    now = totp.step_of(time.time())
    near = {totp.code_at(secret, now + d) for d in range(-3, 4)}
    return next(c for c in (f"{n:06d}" for n in range(0, 1_000_000, 7919)) if c not in near)


def login_response(client: TestClient, password: str = PASSWORD, code: str | None = None) -> Response:
    token = csrf_of(client.get("/coach/login").text)
    data = {"email": ANNA, "password": password, "csrf_token": token}
    if code is not None:
        data["code"] = code
    return client.post("/coach/login", data=data)


def logout(client: TestClient) -> None:
    page = client.get("/coach/")
    assert page.status_code == 200
    assert client.post("/coach/logout", data={"csrf_token": csrf_of(page.text)}).status_code == 303
    client.cookies.clear()


def sessions(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(CoachSession)) or 0


def failures(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(LoginAttempt)) or 0


def test_login_form_has_the_code_field(client: TestClient) -> None:
    html = client.get("/coach/login").text
    assert 'name="code"' in html
    assert 'autocomplete="one-time-code"' in html and 'inputmode="numeric"' in html
    assert i18n.t("nl", "coach.login.code_label") in html


def test_coach_without_totp_logs_in_as_before(client: TestClient, db: Database) -> None:
    assert login_response(client).status_code == 303
    logout(client)
    # the code field is ignored, whatever it holds
    response = login_response(client, code="not a code")
    assert response.status_code == 303 and response.headers["location"] == "/coach/"
    assert failures(db) == 0


def test_password_without_code_is_refused(client: TestClient, db: Database) -> None:
    enable(db)
    for code in (None, ""):
        response = login_response(client, code=code)
        assert response.status_code == 401
        assert i18n.t("nl", "coach.login.code") in response.text
        assert "koers_coach" not in response.cookies
    assert sessions(db) == 0
    assert client.get("/coach/").status_code == 303
    assert failures(db) == 2


def test_wrong_code_is_refused(client: TestClient, db: Database) -> None:
    secret = enable(db)
    response = login_response(client, code=wrong_code(secret))
    assert response.status_code == 401
    assert i18n.t("nl", "coach.login.code") in response.text
    assert sessions(db) == 0 and failures(db) == 1


def test_wrong_password_with_right_code_says_only_that_the_login_failed(
    client: TestClient, db: Database
) -> None:
    secret = enable(db)
    response = login_response(client, password="wrong password!", code=current_code(secret))
    assert response.status_code == 401
    assert i18n.t("nl", "coach.login.failed") in response.text
    assert i18n.t("nl", "coach.login.code") not in response.text


def test_right_code_logs_in_once(client: TestClient, db: Database) -> None:
    secret = enable(db)
    code = current_code(secret)
    response = login_response(client, code=f"{code[:3]} {code[3:]}")
    assert response.status_code == 303 and response.headers["location"] == "/coach/"
    with db.session() as s:
        coach = coach_by_email(s, ANNA)
        assert coach is not None and coach.totp_last_step is not None
        assert abs(coach.totp_last_step - totp.step_of(time.time())) <= 1
    logout(client)
    # replay: the same code again is refused
    replay = login_response(client, code=code)
    assert replay.status_code == 401
    assert i18n.t("nl", "coach.login.code") in replay.text
    assert sessions(db) == 1


def test_wrong_codes_count_toward_the_throttle(client: TestClient, db: Database) -> None:
    secret = enable(db)
    for _ in range(5):
        assert login_response(client, code=wrong_code(secret)).status_code == 401
    refused = login_response(client, code=current_code(secret))
    assert refused.status_code == 429
    assert i18n.t("nl", "coach.login.throttled") in refused.text
    assert sessions(db) == 0
    with db.session() as s:
        coach = coach_by_email(s, ANNA)
        assert coach is not None and coach.totp_last_step is None  # the right code was not used up


def test_cli_enables_and_disables_totp(
    client: TestClient, settings: Settings, db: Database, tmp_path: Path
) -> None:
    home = tmp_path / "cli"
    enabled = koers(home, "coach", "totp", "--email", ANNA, "--json", database_url=settings.database_url)
    assert enabled.returncode == 0, enabled.stderr
    data = json.loads(enabled.stdout)
    assert set(data) == {"email", "secret", "uri"} and data["email"] == ANNA
    assert data["uri"] == totp.provisioning_uri(data["secret"], ANNA)
    now = time.time()
    assert totp.verify(data["secret"], totp.code_at(data["secret"], totp.step_of(now)), now, None)
    with db.session() as s:
        coach = coach_by_email(s, ANNA)
        assert coach is not None and coach.totp_secret == data["secret"]

    # the secret the CLI printed is the one the login asks for
    assert login_response(client).status_code == 401
    assert login_response(client, code=current_code(data["secret"])).status_code == 303
    logout(client)

    again = koers(home, "coach", "totp", "--email", ANNA, "--json", database_url=settings.database_url)
    assert again.returncode == 0 and json.loads(again.stdout)["secret"] != data["secret"]

    disabled = koers(home, "coach", "totp", "--email", ANNA, "--disable", database_url=settings.database_url)
    assert disabled.returncode == 0, disabled.stderr
    assert ANNA in disabled.stdout
    with db.session() as s:
        coach = coach_by_email(s, ANNA)
        assert coach is not None and coach.totp_secret is None and coach.totp_last_step is None
    assert login_response(client).status_code == 303


def test_cli_unknown_coach_fails_with_one_line(settings: Settings, db: Database, tmp_path: Path) -> None:
    result = koers(
        tmp_path / "cli", "coach", "totp", "--email", "nobody@koers.test", database_url=settings.database_url
    )
    assert result.returncode != 0
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "nobody@koers.test" in result.stderr
