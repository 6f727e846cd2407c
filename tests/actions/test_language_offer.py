"""Writing in another supported language gets an offer to switch, once, never a silent switch."""

from __future__ import annotations

from sqlalchemy import select

from actions.always_on import ActionGreet
from bot import i18n
from bot.db import Database
from bot.models import Employee
from tests.actions.conftest import Conversation


async def test_offer_once_then_switch_only_when_asked(
    talk: Conversation, db: Database, people: dict[str, object]
) -> None:
    english = "hello there, I would rather talk in English if that is possible"
    _, texts = await talk.run(ActionGreet(), talk.tracker(english, "greet"))
    offer = i18n.t("en", "language.offer", current=i18n.languages()["nl"].native_name)
    assert texts[0] == offer
    buttons = talk.messages[0]["buttons"]
    assert buttons == [{"title": i18n.t("en", "language.offer_yes"), "payload": "/language en"}]
    # the same language is not offered again in this session, and nothing switched by itself
    _, texts = await talk.run(ActionGreet(), talk.tracker("good morning, how are you doing today?", "greet"))
    assert offer not in texts
    with db.session() as s:
        assert s.scalar(select(Employee.language).where(Employee.id == people["piet"])) == "nl"
    # the button switches
    _, texts = await talk.run(ActionGreet(), talk.tracker("/language en", "greet"))
    assert texts == [i18n.t("en", "language.changed", language="English")]
