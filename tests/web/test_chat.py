"""The web chat's guard rails that act before Rasa is asked: identity, origin, bad input."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from bot import i18n
from bot.config import Settings
from bot.db import Database
from bot.web.app import create_app
from bot.web.chat import COOKIE


@pytest.fixture
def client(settings: Settings, db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(settings, db), base_url="http://127.0.0.1:8000") as c:
        yield c


def test_chat_page_issues_a_signed_httponly_session(client: TestClient) -> None:
    response = client.get("/chat?code=ABCDEF2345")
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    assert COOKIE in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert 'data-code="ABCDEF2345"' in response.text
    assert '<html lang="nl" dir="ltr">' in response.text
    assert i18n.t("nl", "web.chat.send") in response.text


def test_chat_page_follows_the_browser_language(client: TestClient) -> None:
    response = client.get("/chat", headers={"accept-language": "en-GB,en;q=0.9"})
    assert '<html lang="en" dir="ltr">' in response.text
    assert i18n.t("en", "web.chat.placeholder") in response.text


def test_a_code_with_markup_is_not_echoed(client: TestClient) -> None:
    response = client.get('/chat?code="><script>alert(1)</script>')
    assert "<script>alert(1)" not in response.text
    assert 'data-code=""' in response.text


def test_message_without_session_is_refused(client: TestClient) -> None:
    client.cookies.clear()
    response = client.post("/api/message", json={"message": "hallo"})
    assert response.status_code == 403
    assert response.json()["error"] == "session"


def test_forged_session_cookie_is_refused(client: TestClient) -> None:
    client.cookies.set(COOKIE, "web-someone-else.forgedsignature")
    response = client.post("/api/message", json={"message": "hallo"})
    assert response.status_code == 403


def test_other_origin_is_refused(client: TestClient) -> None:
    client.get("/chat")
    response = client.post(
        "/api/message", json={"message": "hallo"}, headers={"origin": "https://evil.example"}
    )
    assert response.status_code == 403
    assert response.json()["messages"][0]["text"] == i18n.t("nl", "web.error.origin")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"message": ""}, "empty"),
        ({"message": "   \u0000\u0007  "}, "empty"),
        ({"message": "x" * 65536}, "too_long"),
        ({"message": 42}, "bad_request"),
        (["not", "an", "object"], "bad_request"),
    ],
)
def test_bad_input_gets_a_friendly_answer(client: TestClient, body: object, error: str) -> None:
    client.get("/chat")
    response = client.post("/api/message", json=body)
    assert response.status_code < 500
    assert response.json()["error"] == error
    assert response.json()["messages"][0]["text"]


def test_binary_body_is_not_a_server_error(client: TestClient) -> None:
    client.get("/chat")
    response = client.post(
        "/api/message", content=b"\xff\xfe\x00garbage", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400


def test_rasa_down_gives_try_again_not_a_crash(client: TestClient) -> None:
    client.get("/chat")
    response = client.post("/api/message", json={"message": "hallo"})
    assert response.status_code == 503
    assert response.json()["messages"][0]["text"] == i18n.t("nl", "web.error.unavailable")


def test_history_of_an_unbound_session_is_empty(client: TestClient) -> None:
    client.get("/chat")
    assert client.get("/api/history").json() == {"messages": []}


def test_widget_script_is_served(client: TestClient) -> None:
    response = client.get("/widget.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/javascript")
    assert "/chat?embed=1" in response.text


def test_coach_messages_become_chat_messages_in_the_employees_language(
    db: Database, people: dict[str, object]
) -> None:
    from bot import i18n
    from bot.models import CoachMessage, Employee
    from bot.web.chat import coach_messages

    jane = int(people["jane"])  # type: ignore[call-overload]
    with db.session() as s, s.begin():
        employee = s.get(Employee, jane)
        assert employee is not None
        s.add(CoachMessage(employee_id=jane, coach_id=employee.coach_id, text="<b>Call me</b>"))
    with db.session() as s:
        items = coach_messages(s, jane, "en")
    assert [i["text"] for i in items] == [
        i18n.t("en", "coach_message.from_coach", coach="Anna de Vries", text="<b>Call me</b>")
    ]
    assert items[0]["from"] == "bot" and items[0]["at"] > 0
