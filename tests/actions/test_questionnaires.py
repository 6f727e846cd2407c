"""Assignments and reflection through the questionnaire form, as the action server runs them."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import yaml
from rasa_sdk.events import ActiveLoop, SlotSet
from sqlalchemy import select

from actions.always_on import ActionGreet, ActionStop
from actions.questionnaire import ValidateQuestionnaireForm
from actions.reflection import next_reminder
from actions.session import ActionSessionStart
from bot import ROOT, i18n
from bot.catalogue import Field, Invalid, catalogue, parse, self_assessment
from bot.db import Database
from bot.models import AssignmentProgress, Reflection, Reminder, Signal, Summary
from bot.privacy import export
from tests.actions.conftest import Conversation


def q(key: str, **params: object) -> str:
    return i18n.t("nl", key, **params)


async def test_work_history_entries_validate_store_and_finish(talk: Conversation, db: Database) -> None:
    texts = await talk.start(assignment="work_history")
    assert texts == [q("assignment.work_history.intro")]
    assert talk.slots["flow"] == "assignment:work_history"
    assert await talk.ask() == [q("assignment.step", n=1, total=4), q("assignment.work_history.employer")]
    value, texts = await talk.answer("PostNL")
    assert value is None and texts[-1] == q("assignment.work_history.role")
    await talk.answer("planner")
    # a period without years is refused and asked again; nothing is stored
    value, texts = await talk.answer("heel lang")
    assert value is None and texts[0] == q("answer.invalid.period", max=dt.date.today().year)
    assert texts[-1] == q("assignment.work_history.period")
    value, texts = await talk.answer("2020 - 2015")
    assert texts[0] == q("answer.invalid.period_order")
    assert (await talk.ask())[-1] == q("assignment.work_history.period")
    await talk.answer("2015 tot nu")
    _, texts = await talk.answer("routes plannen, chauffeurs inroosteren")
    assert texts == [q("assignment.work_history.more", count=1)]
    await talk.answer("ja", intent="affirm")
    for text in ("Bakkerij Jansen", "verkoper", "2008-2015", "klanten helpen"):
        await talk.answer(text)
    value, texts = await talk.answer("nee", intent="deny")
    assert value == "done"
    assert texts[0] == q("assignment.done", title=q("assignment.work_history.title"))
    assert "1. PostNL · planner · 2015 – nu" in texts[1]
    assert "2. Bakkerij Jansen · verkoper · 2008 – 2015" in texts[1]
    assert texts[2] == q("assignment.progress", done=1, total=6)
    assert "flow" in talk.slots and talk.slots["flow"] is None
    with db.session() as s:
        row = s.scalar(select(AssignmentProgress))
        assert row is not None and row.status == "done" and len(row.answers["entries"]) == 2
        assert s.scalar(select(Summary.text)).startswith(q("summary.assignment_done", title="Werkervaring"))


async def test_pause_with_stop_and_resume_days_later(talk: Conversation, db: Database) -> None:
    await talk.start(assignment="wishes")
    await talk.ask()
    await talk.answer("zorg, logistiek")
    events, texts = await talk.run(ActionStop(), talk.tracker("stop", "stop"))
    assert ActiveLoop(None) in events and texts == [q("stop.paused")]
    # a new session later: only the protected slots carry over
    talk.slots = {"employee_id": talk.slots["employee_id"], "language": "nl"}
    _, texts = await talk.run(ActionGreet(), talk.tracker("hoi", "greet"))
    assert texts[1] == q("greet.resume", title=q("assignment.wishes.title"))
    texts = await talk.start()
    assert texts == [q("assignment.resume", title=q("assignment.wishes.title"))]
    assert (await talk.ask())[-1] == q("assignment.wishes.kinds_of_work")


async def test_capacities_refuse_medical_details(talk: Conversation, db: Database) -> None:
    await talk.start(assignment="capacities")
    await talk.ask()
    value, texts = await talk.answer("Door mijn burn-out en de medicatie kan ik weinig")
    assert value is None and texts[0] == q("assignment.functional_only")
    assert texts[-1] == q("assignment.capacities.can_do")
    with db.session() as s:
        row = s.scalar(select(AssignmentProgress))
        assert row is not None and row.answers["values"] == {}
    await talk.answer("Ik kan goed plannen en met klanten praten")
    await talk.answer("niet lang achter elkaar staan of tillen")
    value, texts = await talk.answer("45 uur")
    assert value is None and texts[0] == q("answer.invalid.number", min=0, max=40)
    assert texts[-1] == q("assignment.capacities.hours_per_week")
    value, texts = await talk.answer("ongeveer 24 uur")
    assert value == "done"
    with db.session() as s:
        row = s.scalar(select(AssignmentProgress))
        assert row is not None and row.answers["values"]["hours_per_week"] == 24


async def test_self_assessment_gives_score_and_advice(
    talk: Conversation, db: Database, people: dict[str, object]
) -> None:
    await talk.start(assignment="self_assessment")
    for score in ("5", "4", "5", "4", "4", "5"):
        await talk.answer(score)
    value, texts = await talk.answer("4")
    assert value == "done"
    assert q("assignment.self_assessment.score", score=31, max=35) in texts[1]
    with db.session() as s:
        data = export(s, int(people["piet"]))  # type: ignore[call-overload]
    answers = data["assignments"][0]["answers"]["values"]
    assert self_assessment(answers) == {"score": 31, "max": 35, "advice": "light", "weak": []}
    assert q("summary.advice.light") in data["summaries"][0]["text"]


async def test_review_edit_one_field_and_remove_an_entry(talk: Conversation, db: Database) -> None:
    await talk.start(assignment="wishes")
    for text in ("zorg", "administratief", "24", "30", "rustige werkplek"):
        value, _ = await talk.answer(text)
    assert value == "done"
    texts = await talk.start(assignment="wishes", op="edit", field="hours_per_week")
    assert (await talk.ask())[-1] == q("assignment.wishes.hours_per_week")
    value, _ = await talk.answer("32")
    assert value == "done"
    with db.session() as s:
        row = s.scalar(select(AssignmentProgress))
        assert row is not None and row.answers["values"]["hours_per_week"] == 32
        assert row.answers["values"]["sectors"] == ["zorg"]

    await talk.start(assignment="education")
    for text in ("MBO logistiek", "ROC Utrecht"):
        await talk.answer(text)
    await talk.answer("ja", intent="affirm")
    await talk.answer("2006")
    await talk.answer("nee", intent="deny")
    texts = await talk.start(assignment="education", op="remove", entry="1")
    assert texts[0] == q("assignment.removed", name="MBO logistiek")


def test_parsing_rules() -> None:
    assert parse(Field("x", "period"), "mei 2015 tot heden", None) == {"from": 2015, "to": "now"}
    assert parse(Field("x", "list"), "zorg, logistiek; overheid", None) == ["zorg", "logistiek", "overheid"]
    assert parse(Field("x", "scale"), "4", None) == 4
    with pytest.raises(Invalid):
        parse(Field("x", "scale"), "7", None)
    with pytest.raises(Invalid):
        parse(Field("x", "year"), "1890", None)
    with pytest.raises(Invalid):
        parse(Field("x", "yesno"), "misschien", "greet")


def test_every_catalogue_question_is_translated() -> None:
    cat = catalogue()
    for lang in i18n.languages():
        ids = i18n.catalog_ids(lang)
        for a in cat.assignments:
            for key in (f"assignment.{a.key}.title", f"assignment.{a.key}.intro"):
                assert key in ids, (lang, key)
            if a.repeat:
                assert f"assignment.{a.key}.more" in ids
            for f in a.fields:
                assert f"assignment.{a.key}.{f.key}" in ids, (lang, a.key, f.key)
                assert f"assignment.{a.key}.{f.key}.label" in ids
        for number, prompts in enumerate(cat.reflection_sets, start=1):
            for prompt in prompts:
                assert f"reflection.set{number}.{prompt}" in ids
                assert f"reflection.set{number}.{prompt}.label" in ids


async def test_reflection_rotates_remembers_the_step_and_flags_low_mood(
    talk: Conversation, db: Database
) -> None:
    texts = await talk.start("start_reflection")
    assert texts == [q("reflection.privacy"), q("reflection.intro")]
    assert await talk.ask() == [q("reflection.mood")]
    value, texts = await talk.answer("9")
    assert texts == [q("answer.invalid.scale", min=1, max=5), q("reflection.mood")]
    await talk.answer("2")
    for _ in range(4):
        await talk.answer("een eerlijk antwoord")
    value, texts = await talk.answer("elke dag een wandeling")
    assert value == "done"
    assert texts[0] == q("reflection.closing", step="elke dag een wandeling")
    with db.session() as s:
        reminder = s.scalar(select(Reminder))
        assert reminder is not None
        local = reminder.due_at.astimezone(ZoneInfo("Europe/Amsterdam"))
        assert local.hour == 10 and local.weekday() != 6

    texts = await talk.start("start_reflection")
    assert texts == [q("reflection.intro")]  # the privacy note only comes the first time
    assert await talk.ask() == [q("reflection.last_step", step="elke dag een wandeling")]
    await talk.answer("drie keer gelukt")
    value, texts = await talk.answer("1")
    for _ in range(4):
        await talk.answer("zwaar")
    value, texts = await talk.answer("rust nemen")
    assert q("reflection.low_mood_care") in texts
    with db.session() as s:
        assert s.scalars(select(Signal.kind)).all() == ["low_mood"]
        reflections = s.scalars(select(Reflection).order_by(Reflection.id)).all()
        assert [r.mood for r in reflections] == [2, 1]
        summaries = s.scalars(select(Summary.text).order_by(Summary.id)).all()
    assert "elke dag een wandeling" in summaries[0]
    assert q("summary.mood_change", before=2, change="-1") in summaries[1]


async def test_crisis_words_in_an_answer_stop_the_reflection(talk: Conversation, db: Database) -> None:
    await talk.start("start_reflection")
    await talk.answer("3")
    tracker = talk.tracker("eigenlijk wil ik er een eind aan maken", "nlu_fallback")
    tracker.slots["answer"] = tracker.latest_message["text"]
    tracker.events = [{"event": "slot", "name": "answer", "value": tracker.slots["answer"]}]
    events, texts = await talk.run(ValidateQuestionnaireForm(), tracker)
    assert texts[0] == q("crisis.help_lines")
    assert ActiveLoop(None) in events
    with db.session() as s:
        reflection = s.scalar(select(Reflection))
        assert reflection is not None and "eind" not in str(reflection.answers)
        assert s.scalar(select(Signal.kind)) == "crisis"


def test_reminders_skip_sunday() -> None:
    saturday = dt.datetime(2026, 11, 21, 20, 0, tzinfo=dt.timezone.utc)  # a Saturday evening
    due = next_reminder(saturday).astimezone(ZoneInfo("Europe/Amsterdam"))
    assert due.weekday() == 5 and due.hour == 10
    sunday = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.timezone.utc)
    assert next_reminder(sunday).astimezone(ZoneInfo("Europe/Amsterdam")).weekday() == 0


async def test_session_start_carries_identity_and_summarises(talk: Conversation, db: Database) -> None:
    await talk.start(assignment="strengths")
    await talk.answer("mensen helpen")
    now = dt.datetime.now(dt.timezone.utc).timestamp()
    tracker = talk.tracker("")
    tracker.events = [
        {"event": "user", "timestamp": now - 60, "parse_data": {"intent": {"name": "start_assignments"}}},
        {"event": "user", "timestamp": now, "parse_data": {"intent": {"name": "nlu_fallback"}}},
    ]
    events, texts = await talk.run(ActionSessionStart(), tracker)
    assert texts == []
    assert events[0]["event"] == "session_started" and events[-1]["name"] == "action_listen"
    assert SlotSet("employee_id", talk.slots["employee_id"]) in events
    with db.session() as s:
        summary = s.scalar(select(Summary.text))
    assert summary is not None
    assert (
        q(
            "summary.line.assignment",
            title=q("assignment.strengths.title"),
            status=q("summary.status.in_progress"),
        )
        in summary
    )


async def test_clearing_the_slot_is_not_an_answer(talk: Conversation, db: Database) -> None:
    await talk.start(assignment="wishes")
    tracker = talk.tracker("/start_assignments", "start_assignments")
    tracker.events = [{"event": "slot", "name": "answer", "value": None}]
    events, texts = await talk.run(ValidateQuestionnaireForm(), tracker)
    # what the form does when it starts: nothing stored, the first question asked
    assert texts == [q("assignment.step", n=1, total=5), q("assignment.wishes.sectors")]
    assert {"event": "slot", "name": "answer", "value": None, "timestamp": None} in events
    with db.session() as s:
        row = s.scalar(select(AssignmentProgress))
        assert row is not None and row.answers["values"] == {} and row.current_step == "sectors"


async def test_a_long_answer_that_sounds_like_stop_is_still_an_answer(
    talk: Conversation, db: Database
) -> None:
    await talk.start("start_reflection")
    await talk.answer("3")
    tracker = talk.tracker("ik wil stoppen met piekeren over mijn oude baan", "stop")
    tracker.latest_message["intent"]["confidence"] = 0.97
    tracker.slots["answer"] = tracker.latest_message["text"]
    tracker.events = [{"event": "slot", "name": "answer", "value": tracker.slots["answer"]}]
    events, texts = await talk.run(ValidateQuestionnaireForm(), tracker)
    assert ActiveLoop(None) not in events and texts == [q("reflection.set2.hardest")]
    short = talk.tracker("stop", "stop")
    short.latest_message["intent"]["confidence"] = 0.99
    events, texts = await talk.run(ValidateQuestionnaireForm(), short)
    assert ActiveLoop(None) in events and texts == [q("stop.paused")]
    with db.session() as s:
        reflection = s.scalar(select(Reflection))
        assert reflection is not None
        assert "piekeren" in str(reflection.answers) and reflection.current_step != "mood"


def test_the_validation_is_the_forms_only_call_to_the_action_server() -> None:
    """Rasa's form asks with ``action_ask_answer`` or ``utter_ask_answer`` when the domain has one.

    Koers' domain has neither: the validation action asks the next question
    itself (tested above), so a form turn is one call to the action server.
    """
    domain = yaml.safe_load((ROOT / "nlu" / "domain.yml").read_text(encoding="utf-8"))
    names = set(domain["actions"]) | set(domain.get("responses") or {})
    asking = {
        f"{kind}_ask_{form}answer" for kind in ("action", "utter") for form in ("", "questionnaire_form_")
    }
    assert not names & asking
    assert "validate_questionnaire_form" in names
