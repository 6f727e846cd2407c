"""The orientation journeys end to end with the real model: assignments and reflection."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from bot import i18n
from tests.e2e.conftest import Stack, texts

pytestmark = pytest.mark.rasa


def enrolled(stack: Stack, name: str, lang: str) -> tuple[str, dict[str, Any]]:
    invite = stack.enrol(name, lang)
    who = f"rest-{uuid.uuid4().hex[:10]}"
    stack.say(who, f"/start {invite['invite_code']}")
    return who, invite


def export(stack: Stack, employee_id: int) -> dict[str, Any]:
    result = stack.koers("employee", "export", str(employee_id), "--json")
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.mark.parametrize(
    ("lang", "opening", "answers", "question"),
    [
        (
            "nl",
            "ik wil mijn voorbereidende opdrachten doen",
            ["zorg, logistiek", "administratief werk", "24", "30", "een rustige werkplek"],
            "assignment.wishes.sectors",
        ),
        (
            "en",
            "I'd like to work on my preparation assignments",
            ["care, logistics", "office work", "24", "30", "a quiet workplace"],
            "assignment.wishes.sectors",
        ),
    ],
)
def test_complete_an_assignment_by_buttons_and_free_text(
    stack: Stack, lang: str, opening: str, answers: list[str], question: str
) -> None:
    who, invite = enrolled(stack, f"Sam {lang}", lang)
    overview = stack.say(who, opening)
    assert texts(overview)[0] == i18n.t(lang, "assignment.overview", done=0, total=6)
    wishes = next(b for b in overview[-1]["buttons"] if b["title"] == i18n.t(lang, "assignment.wishes.title"))
    asked = texts(stack.say(who, wishes["payload"]))
    assert asked[-1] == i18n.t(lang, question)
    for answer in answers[:-1]:
        stack.say(who, answer)
    closing = texts(stack.say(who, answers[-1]))
    assert closing[0] == i18n.t(lang, "assignment.done", title=i18n.t(lang, "assignment.wishes.title"))
    values = export(stack, invite["id"])["assignments"][0]
    assert values["status"] == "done"
    assert values["answers"]["values"]["hours_per_week"] == 24
    assert values["answers"]["values"]["sectors"] == answers[0].split(", ")


def test_stop_midway_then_resume_after_a_new_session(stack: Stack) -> None:
    who, invite = enrolled(stack, "Rob Peters", "nl")
    stack.say(who, '/start_assignments{"assignment":"work_history"}')
    stack.say(who, "Gemeente Utrecht")
    assert texts(stack.say(who, "stop"))[0] == i18n.t("nl", "stop.paused")
    # the answer is kept, the form is not active any more
    assert stack.tracker(who)["active_loop"] == {}
    # simulate days later: a new session starts (Rasa's own /session_start)
    stack.say(who, "/session_start")
    greeting = texts(stack.say(who, "goedemorgen"))
    assert greeting[1] == i18n.t("nl", "greet.resume", title=i18n.t("nl", "assignment.work_history.title"))
    resumed = texts(stack.say(who, '/start_assignments{"assignment":"work_history"}'))
    assert resumed == [
        i18n.t("nl", "assignment.resume", title=i18n.t("nl", "assignment.work_history.title")),
        i18n.t("nl", "assignment.step", n=2, total=4),
        i18n.t("nl", "assignment.work_history.role"),
    ]
    data = export(stack, invite["id"])
    assert data["assignments"][0]["answers"]["draft"] == {"employer": "Gemeente Utrecht"}
    assert any("Gemeente Utrecht" not in s["text"] for s in data["summaries"])


def test_help_in_the_middle_of_an_assignment_then_go_on(stack: Stack) -> None:
    who, _ = enrolled(stack, "Ilse Kuipers", "nl")
    stack.say(who, '/start_assignments{"assignment":"strengths"}')
    answers = texts(stack.say(who, "help"))
    assert answers[0] == i18n.t("nl", "help.text")
    assert answers[-1] == i18n.t("nl", "assignment.strengths.drivers")


def test_crisis_in_the_middle_of_a_reflection(stack: Stack) -> None:
    who, invite = enrolled(stack, "Hanna Wit", "en")
    started = texts(stack.say(who, "I want to do my weekly reflection"))
    assert started[:2] == [i18n.t("en", "reflection.privacy"), i18n.t("en", "reflection.intro")]
    stack.say(who, "3")
    answers = texts(stack.say(who, "honestly I just want to end my life"))
    assert answers[0] == i18n.t("en", "crisis.help_lines")
    assert stack.tracker(who)["active_loop"] == {}
    data = export(stack, invite["id"])
    assert [s["kind"] for s in data["signals"]] == ["crisis"]
    assert "end my life" not in json.dumps(data["reflections"])


def test_two_low_mood_reflections_raise_a_signal(stack: Stack) -> None:
    who, invite = enrolled(stack, "Joost Vermeer", "nl")

    def reflect(mood: str, step: str) -> list[str]:
        assert texts(stack.say(who, mood)) != []
        for _ in range(4):
            stack.say(who, "dat vind ik lastig om te zeggen")
        return texts(stack.say(who, step))

    stack.say(who, "ik wil mijn terugblik doen")
    assert reflect("2", "een wandeling maken")[0] == i18n.t(
        "nl", "reflection.closing", step="een wandeling maken"
    )
    asked = texts(stack.say(who, "ik wil mijn terugblik doen"))
    assert asked[-1] == i18n.t("nl", "reflection.last_step", step="een wandeling maken")
    stack.say(who, "een beetje")
    closing = reflect("1", "mijn zus bellen")
    assert i18n.t("nl", "reflection.low_mood_care") in closing
    data = export(stack, invite["id"])
    assert [r["mood"] for r in data["reflections"]] == [2, 1]
    assert data["reflections"][1]["answers"]["last_step"] == "een beetje"
    assert "low_mood" in [s["kind"] for s in data["signals"]]
    assert len(data["summaries"]) >= 2


SCRIPTS = {
    "nl": {
        "work_history": ["PostNL", "planner", "2015-2023", "routes plannen", "nee"],
        "education": ["MBO logistiek", "ROC Utrecht", "ja", "2010", "nee"],
        "capacities": ["plannen en klantcontact", "niet lang staan of zwaar tillen", "24"],
        "wishes": ["zorg, logistiek", "administratief", "24", "30", "een rustige werkplek"],
        "strengths": ["mensen helpen", "nauwkeurig, behulpzaam"],
        "self_assessment": ["4", "4", "5", "3", "4", "4", "3"],
    },
    "en": {
        "work_history": ["PostNL", "planner", "2015-2023", "planning routes", "no"],
        "education": ["vocational degree in logistics", "ROC Utrecht", "yes", "2010", "no"],
        "capacities": ["planning and customer contact", "no standing for long or heavy lifting", "24"],
        "wishes": ["care, logistics", "administrative", "24", "30", "a quiet workplace"],
        "strengths": ["helping people", "precise, helpful"],
        "self_assessment": ["4", "4", "5", "3", "4", "4", "3"],
    },
}


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_all_six_assignments_build_the_persoonsprofiel(stack: Stack, lang: str) -> None:
    who, invite = enrolled(stack, f"Femke Dekker {lang}", lang)
    script = SCRIPTS[lang]
    for done, (key, answers) in enumerate(script.items(), start=1):
        stack.say(who, "/start_assignments" + json.dumps({"assignment": key}))
        for answer in answers[:-1]:
            stack.say(who, answer)
        closing = texts(stack.say(who, answers[-1]))
        assert closing[0] == i18n.t(lang, "assignment.done", title=i18n.t(lang, f"assignment.{key}.title")), (
            key
        )
        assert closing[-1] == i18n.t(lang, "assignment.progress", done=done, total=6)
    profile = texts(stack.say(who, '/start_assignments{"assignment":"profile"}'))
    assert profile[0] == i18n.t(lang, "profile.header", done=6, total=6)
    assert "PostNL · planner · 2015 – 2023" in profile[1]
    data = export(stack, invite["id"])
    assert sorted(a["status"] for a in data["assignments"]) == ["done"] * 6
    assert data["self_assessment"] == {"score": 27, "max": 35, "advice": "light", "weak": []}
    assert len(data["summaries"]) >= 6
