"""The real python-telegram-bot against a local fake Bot API, with the real model behind it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pypdf
import pytest
from sqlalchemy import func, select
from telegram import Update
from telegram.ext import Application

from bot import i18n
from bot.config import load_settings
from bot.db import Database
from bot.models import Application as JobApplication
from bot.models import ChannelIdentity, ProcessedUpdate, Reminder
from bot.rasa_client import RasaClient
from bot.telegram import AMSTERDAM, build_application, send_due_reminders, webhook_secret
from tests.auxil.fake_bot_api import FakeBotApi, callback_update, message_update
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.rasa


@pytest.fixture(scope="module")
def fake_api() -> Iterator[FakeBotApi]:
    api = FakeBotApi()
    api.start()
    yield api
    api.stop()


@pytest.fixture
async def tg(stack: Stack, fake_api: FakeBotApi) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    fake_api.calls.clear()
    settings = dataclasses.replace(
        load_settings(stack.env), telegram_token="123:TEST", telegram_api_url=fake_api.url
    )
    app = build_application(settings, Database(stack.database_url), RasaClient(stack.rasa, stack.token))
    await app.initialize()
    yield app
    await app.shutdown()


async def feed(app: Application, data: dict[str, Any]) -> None:  # type: ignore[type-arg]
    await app.process_update(Update.de_json(data, app.bot))


async def enrol(stack: Stack, app: Application, user_id: int, lang: str = "nl") -> dict[str, Any]:  # type: ignore[type-arg]
    invite = stack.enrol(f"Tele {user_id}", lang)
    # a deep link t.me/<bot>?start=CODE arrives as "/start CODE"
    await feed(app, message_update(user_id, f"/start {invite['invite_code']}"))
    return invite


async def test_deep_link_enrols_and_buttons_are_inline_keyboards(
    stack: Stack,
    tg: Application,
    fake_api: FakeBotApi,  # type: ignore[type-arg]
) -> None:
    invite = await enrol(stack, tg, 5001)
    assert fake_api.texts()[0] == i18n.t("nl", "enrol.welcome", name="Tele 5001")
    menu = fake_api.sent()[-1]
    keyboard = menu["reply_markup"]["inline_keyboard"]
    assert keyboard[0][0]["text"] == i18n.t("nl", "menu.assignments")
    db = stack.database()
    with db.session() as s:
        identity = s.scalar(select(ChannelIdentity).where(ChannelIdentity.sender_id == "telegram:5001"))
        assert (
            identity is not None and identity.employee_id == invite["id"] and identity.channel == "telegram"
        )
    db.dispose()
    # a press on "contact my coach": answered (no spinner), payload sent to the assistant
    fake_api.calls.clear()
    await feed(tg, callback_update(5001, keyboard[-1][0]["callback_data"]))
    assert len(fake_api.sent("answerCallbackQuery")) == 1
    assert fake_api.texts() == [i18n.t("nl", "contact_coach.done", coach="Carla Coach")]


async def test_long_payloads_fit_telegram_callback_data(
    stack: Stack,
    tg: Application,
    fake_api: FakeBotApi,  # type: ignore[type-arg]
) -> None:
    await enrol(stack, tg, 5002)
    fake_api.calls.clear()
    await feed(tg, message_update(5002, "ik wil aan mijn voorbereidende opdrachten werken"))
    buttons = [
        row[0]
        for m in fake_api.sent()
        if m.get("reply_markup")
        for row in m["reply_markup"]["inline_keyboard"]
    ]
    assert buttons and all(len(b["callback_data"].encode()) <= 64 for b in buttons)
    wishes = next(b for b in buttons if b["text"] == i18n.t("nl", "assignment.wishes.title"))
    fake_api.calls.clear()
    await feed(tg, callback_update(5002, wishes["callback_data"]))
    assert fake_api.texts()[-1] == i18n.t("nl", "assignment.wishes.sectors")


async def test_redelivered_update_is_processed_once(
    stack: Stack,
    tg: Application,
    fake_api: FakeBotApi,  # type: ignore[type-arg]
) -> None:
    await enrol(stack, tg, 5003)
    fake_api.calls.clear()
    update = message_update(5003, "hallo", update_id=777_001)
    await feed(tg, update)
    first = len(fake_api.sent())
    await feed(tg, update)
    assert first == 2 and len(fake_api.sent()) == first
    db = stack.database()
    with db.session() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(ProcessedUpdate)
                .where(ProcessedUpdate.key == "telegram:777001")
            )
            == 1
        )
    db.dispose()


async def test_non_text_and_groups_get_a_kind_answer(
    stack: Stack,
    tg: Application,
    fake_api: FakeBotApi,  # type: ignore[type-arg]
) -> None:
    await enrol(stack, tg, 5004)
    fake_api.calls.clear()
    await feed(
        tg,
        message_update(
            5004,
            None,
            sticker={
                "file_id": "x",
                "file_unique_id": "y",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
            },
        ),
    )
    await feed(tg, message_update(5004, None, location={"latitude": 52.1, "longitude": 5.1}))
    assert fake_api.texts() == [i18n.t("nl", "telegram.text_only")] * 2
    fake_api.calls.clear()
    await feed(tg, message_update(5005, "hallo allemaal", chat_type="group"))
    assert fake_api.texts() == [i18n.t("nl", "telegram.private_only")]
    db = stack.database()
    assert db.tracker_event_count("telegram:5005") == 0
    db.dispose()


async def test_user_markup_is_sent_as_plain_text(
    stack: Stack,
    tg: Application,
    fake_api: FakeBotApi,  # type: ignore[type-arg]
) -> None:
    await enrol(stack, tg, 5006)
    fake_api.calls.clear()
    await feed(tg, message_update(5006, "<b>hallo</b> _daar_ *jij*"))
    assert fake_api.sent() and all("parse_mode" not in m for m in fake_api.sent())


async def test_flood_limit_retry_after_is_honoured(
    stack: Stack,
    tg: Application,
    fake_api: FakeBotApi,  # type: ignore[type-arg]
) -> None:
    await enrol(stack, tg, 5007)
    fake_api.calls.clear()
    fake_api.fail_next["sendMessage"] = 2
    started = time.monotonic()
    await feed(tg, message_update(5007, "hallo"))
    assert time.monotonic() - started >= 2
    assert fake_api.texts()[0] == i18n.t("nl", "greet.hello", name="Tele")


async def test_reminder_is_delivered_once_in_daytime(
    stack: Stack,
    tg: Application,
    fake_api: FakeBotApi,  # type: ignore[type-arg]
) -> None:
    invite = await enrol(stack, tg, 5008)
    db = stack.database()
    monday_noon = dt.datetime(2026, 11, 23, 11, 0, tzinfo=dt.timezone.utc)
    with db.session() as s, s.begin():
        s.add(
            Reminder(
                employee_id=invite["id"],
                kind="reflection",
                dedupe_key="t:5008",
                due_at=monday_noon - dt.timedelta(hours=1),
            )
        )
    fake_api.calls.clear()
    sunday = dt.datetime(2026, 11, 22, 11, 0, tzinfo=dt.timezone.utc)
    assert await send_due_reminders(tg, db, now=sunday) == 0
    night = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.timezone.utc)
    assert await send_due_reminders(tg, db, now=night) == 0
    assert await send_due_reminders(tg, db, now=monday_noon) == 1
    assert await send_due_reminders(tg, db, now=monday_noon) == 0
    assert fake_api.texts() == [i18n.t("nl", "reminder.reflection")]
    with db.session() as s:
        assert s.scalar(select(Reminder.sent_at).where(Reminder.dedupe_key == "t:5008")) is not None
    db.dispose()


async def test_webhook_refuses_requests_without_the_secret(stack: Stack, fake_api: FakeBotApi) -> None:
    port = 18443
    settings = dataclasses.replace(
        load_settings(stack.env),
        telegram_token="123:TEST",
        telegram_api_url=fake_api.url,
        telegram_webhook_url="https://koers.example/telegram",
        telegram_webhook_port=port,
    )
    app = build_application(settings, Database(stack.database_url), RasaClient(stack.rasa, stack.token))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_webhook(
        listen="127.0.0.1",
        port=port,
        url_path="telegram",
        webhook_url=settings.telegram_webhook_url,
        secret_token=webhook_secret(settings),
    )
    try:
        assert fake_api.sent("setWebhook")[-1]["secret_token"] == webhook_secret(settings)
        body = message_update(5009, "hallo")
        async with httpx.AsyncClient() as client:
            url = f"http://127.0.0.1:{port}/telegram"
            secret = webhook_secret(settings)
            flipped = secret[:-1] + ("1" if secret[-1] == "0" else "0")
            near_misses = [secret[:-1], secret + "0", secret.upper(), secret[1:], "", flipped, "wrong"]
            tries: list[dict[str, str]] = [{}]
            tries += [{"X-Telegram-Bot-Api-Secret-Token": s} for s in near_misses]
            header = "X-Telegram-Bot-Api-Secret-Token"
            tries += [{header: secrets.token_hex(24)} for _ in range(1000 - len(tries))]
            statuses: Counter[int] = Counter()
            for headers in tries:
                statuses[(await client.post(url, json=body, headers=headers)).status_code] += 1
            assert statuses == {403: 1000}
            assert not [m for m in fake_api.sent("sendMessage") if m.get("chat_id") == 5009]
            ok = await client.post(
                url, json=body, headers={"X-Telegram-Bot-Api-Secret-Token": webhook_secret(settings)}
            )
            assert ok.status_code == 200
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


def pressed(fake_api: FakeBotApi, title: str) -> str:
    """Returns the callback data of the last inline button with this title."""
    for message in reversed(fake_api.sent()):
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
            for key in row:
                if key["text"] == title:
                    return str(key["callback_data"])
    raise AssertionError(f"no button {title!r}")


async def test_log_an_application_by_buttons_once(
    stack: Stack,
    tg: Application,
    fake_api: FakeBotApi,  # type: ignore[type-arg]
) -> None:
    invite = await enrol(stack, tg, 5010)
    await feed(tg, callback_update(5010, pressed(fake_api, i18n.t("nl", "menu.log_application"))))
    assert fake_api.texts()[-1] == i18n.t("nl", "application.ask.employer")
    await feed(tg, message_update(5010, "Gemeente Amersfoort"))
    await feed(tg, message_update(5010, "administratief medewerker"))
    await feed(tg, callback_update(5010, pressed(fake_api, i18n.t("nl", "application.button.yesterday"))))
    await feed(tg, callback_update(5010, pressed(fake_api, i18n.t("nl", "report.channel.agency"))))
    assert fake_api.texts()[-1].startswith(i18n.t("nl", "application.confirm", summary="").strip())
    save = callback_update(
        5010, pressed(fake_api, i18n.t("nl", "application.button.save")), update_id=778_010
    )
    await feed(tg, save)
    await feed(tg, save)  # Telegram delivers the same update again
    db = stack.database()
    with db.session() as s:
        rows = list(s.scalars(select(JobApplication).where(JobApplication.employee_id == invite["id"])))
        assert [(a.employer, a.channel, a.applied_on) for a in rows] == [
            ("Gemeente Amersfoort", "agency", dt.datetime.now(AMSTERDAM).date() - dt.timedelta(days=1))
        ]
    db.dispose()


async def test_the_cv_arrives_as_documents(
    stack: Stack,
    tg: Application,
    fake_api: FakeBotApi,  # type: ignore[type-arg]
) -> None:
    await enrol(stack, tg, 5011)
    await feed(tg, callback_update(5011, pressed(fake_api, i18n.t("nl", "menu.cv"))))
    await feed(tg, callback_update(5011, pressed(fake_api, "Nederlands")))
    for text in ("Zwolle", "0612345678", "tele@example.nl", "2", "plannen, Excel", "Nederlands moedertaal"):
        await feed(tg, message_update(5011, text))
    await feed(tg, callback_update(5011, pressed(fake_api, i18n.t("nl", "cv.button.skip"))))
    documents = fake_api.sent("sendDocument")
    assert [d["document"]["filename"] for d in documents] == ["cv-tele-5011.pdf", "cv-tele-5011.docx"]
    pdf = documents[0]["document"]["content"]
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "Tele 5011" in text and "Zwolle" in text and "Excel" in text
    assert documents[1]["document"]["content"].startswith(b"PK")


async def test_application_reminder_only_below_target_and_once(
    stack: Stack,
    tg: Application,
    fake_api: FakeBotApi,  # type: ignore[type-arg]
) -> None:
    below = await enrol(stack, tg, 5012)
    reached = await enrol(stack, tg, 5013)
    db = stack.database()
    wednesday = dt.datetime(2030, 1, 2, 12, 0, tzinfo=dt.timezone.utc)  # far from any other test's week
    thursday = dt.datetime(2030, 1, 3, 10, 0, tzinfo=dt.timezone.utc)  # 11:00 in Amsterdam
    with db.session() as s, s.begin():
        for n in range(2):
            s.add(
                JobApplication(
                    employee_id=reached["id"],
                    idempotency_key=f"rem:{n}",
                    employer=f"Werkgever {n}",
                    job_title="medewerker",
                    applied_on=dt.date(2029, 12, 31) + dt.timedelta(days=n),
                    channel="vacancy_site",
                    status="sent",
                )
            )
    fake_api.calls.clear()
    await send_due_reminders(tg, db, now=wednesday)  # planned for Thursday 10:00, not due yet
    assert [m for m in fake_api.sent() if int(m["chat_id"]) in (5012, 5013)] == []
    with db.session() as s:
        keys = set(s.scalars(select(Reminder.dedupe_key).where(Reminder.kind == "applications")))
    assert f"applications:{below['id']}:2030-W01" in keys
    assert f"applications:{reached['id']}:2030-W01" not in keys
    await send_due_reminders(tg, db, now=thursday)
    await send_due_reminders(tg, db, now=thursday + dt.timedelta(minutes=5))
    mine = [m for m in fake_api.sent() if int(m["chat_id"]) == 5012]
    assert [m["text"] for m in mine] == [i18n.t("nl", "reminder.applications", count=0, target=2)]
    assert mine[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "/log_application"
    assert not [m for m in fake_api.sent() if int(m["chat_id"]) == 5013]
    db.dispose()


async def test_a_coach_message_reaches_telegram_once(
    stack: Stack,
    tg: Application,
    fake_api: FakeBotApi,  # type: ignore[type-arg]
) -> None:
    from bot.models import CoachMessage
    from bot.telegram import send_coach_messages

    invite = await enrol(stack, tg, 5014)
    db = stack.database()
    with db.session() as s, s.begin():
        coach_id = s.scalar(
            select(ChannelIdentity.employee_id).where(ChannelIdentity.sender_id == "telegram:5014")
        )
        assert coach_id == invite["id"]
        from bot.models import Employee

        employee = s.get(Employee, invite["id"])
        assert employee is not None
        s.add(
            CoachMessage(
                employee_id=invite["id"], coach_id=employee.coach_id, text="Zullen we dinsdag bellen?"
            )
        )
    fake_api.calls.clear()
    await send_coach_messages(tg, db)
    await send_coach_messages(tg, db)
    mine = [m["text"] for m in fake_api.sent() if int(m["chat_id"]) == 5014]
    assert mine == [
        i18n.t("nl", "coach_message.from_coach", coach="Carla Coach", text="Zullen we dinsdag bellen?")
    ]
    db.dispose()
