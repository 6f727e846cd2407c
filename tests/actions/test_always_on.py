"""The gate and the always-on actions, run as Rasa runs them: action.run(dispatcher, tracker, domain)."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import func, select

from actions.always_on import (
    ActionAffirm,
    ActionBotChallenge,
    ActionChangeLanguage,
    ActionContactCoach,
    ActionCrisis,
    ActionDeleteMyData,
    ActionDeny,
    ActionGreet,
    ActionShowMyData,
    ActionStop,
)
from actions.base import KoersAction
from bot import i18n
from bot.db import Database
from bot.enrolment import redeem
from bot.models import Employee, Signal


def tracker(
    sender: str,
    text: str,
    intent: str = "greet",
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    active_loop: str | None = None,
    message_id: str = "m1",
    confidence: float = 0.99,
) -> Tracker:
    """Builds a tracker inline, as Rasa would send it to the action server."""
    return Tracker(
        sender_id=sender,
        slots=slots or {},
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "entities": entities or [],
            "message_id": message_id,
        },
        events=[],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


async def run(action: KoersAction, t: Tracker) -> tuple[list[dict[str, Any]], list[str]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, {})
    return events, [m["text"] for m in dispatcher.messages]


@pytest.fixture
def bound(db: Database, people: dict[str, object]) -> str:
    """Binds sender 'rest:piet' to Piet (Dutch) and returns the sender id."""
    with db.session() as s, s.begin():
        redeem(s, "rest:piet", str(people["piet_code"]))
    return "rest:piet"


async def test_unbound_sender_gets_only_the_explanation(db: Database, people: dict[str, object]) -> None:
    events, texts = await run(ActionGreet(), tracker("stranger", "hallo"))
    assert texts == [i18n.t("nl", "enrol.unbound"), i18n.t("en", "enrol.unbound")]
    assert events == [FollowupAction("action_listen")]


async def test_unbound_sender_in_a_form_is_taken_out_of_it(db: Database) -> None:
    events, _ = await run(ActionStop(), tracker("stranger", "x", active_loop="some_form"))
    assert ActiveLoop(None) in events


async def test_start_code_binds_and_sets_the_protected_slots(db: Database, people: dict[str, object]) -> None:
    code = str(people["jane_code"])
    events, texts = await run(ActionGreet(), tracker("rest:jane", f"/start {code}"))
    assert SlotSet("employee_id", people["jane"]) in events
    assert SlotSet("language", "en") in events
    assert texts[0] == i18n.t("en", "enrol.welcome", name="Jane Smith")
    # the same code from someone else is refused, in Dutch and English
    _, refused = await run(ActionGreet(), tracker("rest:mallory", f"/start {code}"))
    assert refused == [i18n.t("nl", "enrol.used"), i18n.t("en", "enrol.used")]


@pytest.mark.parametrize("text", ["/start", "/start NOPE-NOPE", "/START zzzzzzzzzz"])
async def test_bad_start_codes_are_refused_politely(db: Database, text: str) -> None:
    events, texts = await run(ActionGreet(), tracker("rest:x", text))
    assert events[-1] == FollowupAction("action_listen")
    assert texts and all(t for t in texts)
    assert not any(isinstance(e, dict) and e.get("name") == "employee_id" for e in events)


async def test_greet_uses_the_first_name_and_the_menu(bound: str) -> None:
    dispatcher = CollectingDispatcher()
    await ActionGreet().run(dispatcher, tracker(bound, "hoi"), {})
    assert dispatcher.messages[0]["text"] == i18n.t("nl", "greet.hello", name="Piet")
    assert len(dispatcher.messages[1]["buttons"]) == 6


async def test_injected_slots_are_put_back(bound: str, people: dict[str, object]) -> None:
    forged = tracker(bound, '/greet{"employee_id": 999}', slots={"employee_id": 999, "language": "en"})
    events, texts = await run(ActionGreet(), forged)
    assert SlotSet("employee_id", people["piet"]) in events
    assert SlotSet("language", "nl") in events
    assert texts[0].startswith("Hoi Piet")


async def test_crisis_words_in_any_message_give_the_help_lines(db: Database, bound: str) -> None:
    t = tracker(bound, "ik zie het niet meer zitten", intent="greet", active_loop="x_form", message_id="c1")
    events, texts = await run(ActionGreet(), t)
    assert texts[0] == i18n.t("nl", "crisis.help_lines")
    assert ActiveLoop(None) in events
    assert events[-1] == FollowupAction("action_listen")
    # a redelivered message raises no second signal
    await run(ActionGreet(), t)
    await run(ActionCrisis(), tracker(bound, "ik wil niet meer", intent="crisis", message_id="c2"))
    with db.session() as s:
        kinds = s.scalars(select(Signal.kind)).all()
    assert kinds == ["crisis", "crisis"]


async def test_bot_challenge_is_honest(bound: str) -> None:
    _, texts = await run(ActionBotChallenge(), tracker(bound, "ben je een robot"))
    assert texts == [i18n.t("nl", "bot_challenge.text")]


async def test_change_language_by_entity_and_by_command(
    db: Database, bound: str, people: dict[str, object]
) -> None:
    events, texts = await run(
        ActionChangeLanguage(),
        tracker(
            bound,
            "in English please",
            intent="change_language",
            entities=[{"entity": "language", "value": "en"}],
        ),
    )
    assert SlotSet("language", "en") in events
    assert texts == [i18n.t("en", "language.changed", language="English")]
    events, texts = await run(ActionGreet(), tracker(bound, "/language nl"))
    assert SlotSet("language", "nl") in events
    with db.session() as s:
        employee = s.get(Employee, people["piet"])
        assert employee is not None and employee.language == "nl"


async def test_unknown_language_offers_the_choice(bound: str) -> None:
    dispatcher = CollectingDispatcher()
    await ActionChangeLanguage().run(dispatcher, tracker(bound, "/language xx"), {})
    assert dispatcher.messages[0]["text"] == i18n.t("nl", "language.choose")
    payloads = {b["payload"] for b in dispatcher.messages[0]["buttons"]}
    assert {"/language nl", "/language en"} <= payloads


async def test_stop_leaves_a_running_flow(bound: str) -> None:
    events, texts = await run(ActionStop(), tracker(bound, "stop", intent="stop", active_loop="x_form"))
    assert ActiveLoop(None) in events
    assert texts == [i18n.t("nl", "stop.paused")]


async def test_contact_coach_raises_a_signal(db: Database, bound: str) -> None:
    _, texts = await run(ActionContactCoach(), tracker(bound, "mijn coach", intent="contact_coach"))
    assert texts == [i18n.t("nl", "contact_coach.done", coach="Anna de Vries")]
    with db.session() as s:
        assert s.scalar(select(Signal.kind)) == "coach_contact"


async def test_show_my_data_lists_what_is_kept(bound: str) -> None:
    _, texts = await run(ActionShowMyData(), tracker(bound, "mijn gegevens", intent="show_my_data"))
    assert "Piet Jansen" in texts[0] and "Anna de Vries" in texts[0]
    assert "week" in texts[0]


async def test_delete_needs_a_yes_and_then_erases(
    db: Database, bound: str, people: dict[str, object]
) -> None:
    events, _ = await run(ActionDeleteMyData(), tracker(bound, "wis alles", intent="delete_my_data"))
    assert SlotSet("pending", "delete_my_data") in events
    events, texts = await run(
        ActionDeny(), tracker(bound, "nee", intent="deny", slots={"pending": "delete_my_data"})
    )
    assert texts == [i18n.t("nl", "delete.cancelled")]
    events, texts = await run(
        ActionAffirm(), tracker(bound, "ja", intent="affirm", slots={"pending": "delete_my_data"})
    )
    assert texts == [i18n.t("nl", "delete.done")]
    assert SlotSet("employee_id", None) in events
    with db.session() as s:
        assert s.get(Employee, people["piet"]) is None
        assert s.scalar(select(func.count()).select_from(Signal)) == 0


async def test_an_unsure_yes_never_erases(db: Database, bound: str, people: dict[str, object]) -> None:
    pending = {"pending": "delete_my_data"}
    # a real model once read "no, keep it" as a yes at 0.87
    unsure = tracker(bound, "no, keep it", intent="affirm", slots=pending, confidence=0.87)
    events, texts = await run(ActionAffirm(), unsure)
    assert texts == [i18n.t("nl", "delete.unclear")]
    assert not [e for e in events if e.get("name") == "pending"]  # still waiting for the answer
    with db.session() as s:
        assert s.get(Employee, people["piet"]) is not None
    # the Yes button (Rasa gives a button's intent confidence 1.0) erases
    events, texts = await run(
        ActionAffirm(), tracker(bound, "/affirm", intent="affirm", slots=pending, confidence=1.0)
    )
    assert texts == [i18n.t("nl", "delete.done")]
    with db.session() as s:
        assert s.get(Employee, people["piet"]) is None


async def test_a_stranger_is_answered_in_the_channels_language(db: Database) -> None:
    t = tracker("stranger", "hello")
    t.latest_message["metadata"] = {"language": "en"}
    _, texts = await run(ActionGreet(), t)
    assert texts == [i18n.t("en", "enrol.unbound")]
    t.latest_message["metadata"] = {"language": "xx"}
    _, texts = await run(ActionGreet(), t)
    assert texts == [i18n.t("nl", "enrol.unbound"), i18n.t("en", "enrol.unbound")]


async def test_talking_again_marks_activity_and_ends_the_inactivity_signal(db: Database, bound: str) -> None:
    import datetime as dt

    from sqlalchemy import event, update

    from bot.models import utcnow
    from bot.signals import raise_signal

    with db.session() as s, s.begin():
        piet = s.scalar(select(Employee.id).join(Employee.identities).limit(1))
        s.execute(update(Employee).values(last_activity_at=utcnow() - dt.timedelta(days=9)))
        raise_signal(s, piet, "inactivity", f"inactivity:{piet}:old", detail="9")
    await run(ActionGreet(), tracker(bound, "hoi"))
    with db.session() as s:
        first = s.scalar(select(Employee.last_activity_at).where(Employee.id == piet))
        assert first is not None and utcnow() - first < dt.timedelta(seconds=30)
        assert s.scalar(select(Signal.resolved_at).where(Signal.kind == "inactivity")) is not None
    # a second action within the minute (a form turn runs two) reads, and writes nothing
    writes: list[str] = []

    def count_writes(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE")):
            writes.append(statement)

    event.listen(db.engine, "before_cursor_execute", count_writes)
    try:
        await run(ActionGreet(), tracker(bound, "hoi", message_id="m2"))
    finally:
        event.remove(db.engine, "before_cursor_execute", count_writes)
    assert writes == []
    with db.session() as s:
        assert s.scalar(select(Employee.last_activity_at).where(Employee.id == piet)) == first
