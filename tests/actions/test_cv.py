"""CV drafting through the questionnaire form, the review, and the signed download links."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import docx
import pypdf
from sqlalchemy import select
from starlette.testclient import TestClient

from actions.runtime import settings as runtime_settings
from bot import cv as cvs
from bot import i18n
from bot.db import Database
from bot.models import AssignmentProgress, CurriculumVitae
from bot.web.app import create_app
from tests.actions.conftest import Conversation


def q(key: str, lang: str = "nl", **params: object) -> str:
    return i18n.t(lang, key, **params)


def give_profile(db: Database, employee_id: int) -> None:
    """The persoonsprofiel the CV builds on: two jobs, a course, strengths and wishes."""
    with db.session() as s, s.begin():
        s.add(
            AssignmentProgress(
                employee_id=employee_id,
                assignment_key="work_history",
                catalogue_version=1,
                status="done",
                answers={
                    "entries": [
                        {
                            "employer": "PostNL",
                            "role": "planner",
                            "period": {"from": 2015, "to": "now"},
                            "tasks": "routes plannen",
                        },
                        {
                            "employer": "Bakkerij Jansen",
                            "role": "verkoper",
                            "period": {"from": 2008, "to": 2015},
                            "tasks": "klanten helpen",
                        },
                    ]
                },
            )
        )
        s.add(
            AssignmentProgress(
                employee_id=employee_id,
                assignment_key="education",
                catalogue_version=1,
                status="done",
                answers={
                    "entries": [
                        {"name": "MBO Logistiek", "institution": "ROC Utrecht", "diploma": True, "year": 2007}
                    ]
                },
            )
        )
        s.add(
            AssignmentProgress(
                employee_id=employee_id,
                assignment_key="strengths",
                catalogue_version=1,
                status="done",
                answers={
                    "values": {"drivers": "mensen helpen", "strengths": ["plannen", "overzicht houden"]}
                },
            )
        )
        s.add(
            AssignmentProgress(
                employee_id=employee_id,
                assignment_key="wishes",
                catalogue_version=1,
                status="done",
                answers={"values": {"kinds_of_work": ["planner", "coördinator"], "sectors": ["logistiek"]}},
            )
        )


def attachments(talk: Conversation) -> list[dict[str, Any]]:
    return [m["custom"] for m in talk.messages if m.get("custom")]


async def make_cv(talk: Conversation, chat_lang: str = "nl") -> list[str]:
    """Answers every CV question; returns the closing messages."""
    texts = await talk.start("start_cv")
    assert texts == [q("cv.intro", chat_lang, jobs=2, courses=1)]
    assert (await talk.ask())[0] == q("cv.ask.language", chat_lang)
    await talk.answer('/inform{"language":"nl"}', "inform", {"language": "nl"})
    assert await talk.ask() == [q("cv.ask.place", chat_lang)]
    await talk.answer("Utrecht")
    await talk.answer("06 1234 5678")
    value, texts = await talk.answer("piet at mail")
    assert texts == [q("cv.invalid.email", chat_lang), q("cv.ask.email", chat_lang)]
    await talk.answer("piet@example.nl")
    question = (await talk.ask())[0]
    # suggestions come from the profile, in the CV language (Dutch here)
    years = dt.date.today().year - 2015 + 7
    assert (
        f"1. Planner met {years} jaar werkervaring. Sterke punten: plannen en overzicht houden." in question
    )
    assert "Op zoek naar werk als planner en coördinator in logistiek." in question
    await talk.answer("2")
    value, texts = await talk.answer("plannen, mijn depressie, Excel")
    assert texts[0] == q("cv.no_health", chat_lang) and texts[-1].startswith(
        q("cv.ask.skills", chat_lang, examples="")[:20]
    )
    await talk.answer("plannen, Excel, klantcontact")
    value, texts = await talk.answer("Nederlands")
    assert value is None and texts[0] == q("cv.invalid.languages", chat_lang) and len(texts) == 2
    await talk.answer("Nederlands moedertaal, Engels goed")
    value, texts = await talk.answer("ja, B en C")
    assert value == "done"
    return texts


async def test_cv_end_to_end_gives_pdf_and_docx_with_the_work_history(
    talk: Conversation, db: Database, people: dict[str, object]
) -> None:
    give_profile(db, int(people["piet"]))  # type: ignore[call-overload]
    texts = await make_cv(talk)
    assert texts[0] == q("cv.ready", language="Nederlands", jobs=2, courses=1)
    files = attachments(talk)
    assert [f["filename"] for f in files] == ["cv-piet-jansen.pdf", "cv-piet-jansen.docx"]
    with db.session() as s:
        row = s.scalar(select(CurriculumVitae))
        assert row is not None and row.language == "nl"
        assert row.sections["personal"]["email"] == "piet@example.nl"
        assert row.sections["driving_licence"] == "B, C"
        assert "depressie" not in str(row.sections)
        # work history is read from the profile, not copied into the CV row
        assert "work_history" not in row.sections
    client = TestClient(create_app(runtime_settings(), db, background=False))
    pdf = client.get(files[0]["attachment"])
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert "cv-piet-jansen.pdf" in pdf.headers["content-disposition"]
    text = " ".join(
        " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.content)).pages).split()
    )
    for expected in (
        "Piet Jansen",
        "PostNL",
        "planner",
        "Bakkerij Jansen",
        "2015 – nu",
        "MBO Logistiek",
        "Werkervaring",
    ):
        assert expected in text, expected
    word = client.get(files[1]["attachment"])
    assert word.status_code == 200
    paragraphs = "\n".join(p.text for p in docx.Document(io.BytesIO(word.content)).paragraphs)
    assert "PostNL" in paragraphs and "Bakkerij Jansen" in paragraphs and "Excel" in paragraphs
    # a forged or altered link gives nothing
    assert client.get(files[0]["attachment"][:-3] + "abc").status_code == 404
    assert client.get("/cv/" + cvs.download_token("another secret", 1, "pdf")).status_code == 404


async def test_cv_in_dutch_while_chatting_in_english(
    talk: Conversation, db: Database, people: dict[str, object]
) -> None:
    give_profile(db, int(people["piet"]))  # type: ignore[call-overload]
    with db.session() as s, s.begin():
        from bot.models import Employee

        employee = s.get(Employee, int(people["piet"]))  # type: ignore[call-overload]
        assert employee is not None
        employee.language = "en"
    texts = await make_cv(talk, "en")
    assert texts[0] == q("cv.ready", "en", language="Nederlands", jobs=2, courses=1)
    client = TestClient(create_app(runtime_settings(), db, background=False))
    pdf = client.get(attachments(talk)[0]["attachment"])
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Werkervaring" in text and "Work experience" not in text


async def test_review_reorders_removes_and_puts_back(
    talk: Conversation, db: Database, people: dict[str, object]
) -> None:
    give_profile(db, int(people["piet"]))  # type: ignore[call-overload]
    await make_cv(talk)
    texts = await talk.start("start_cv", op="review")
    assert texts[0].startswith(q("cv.review", contact="", sections="").split("\n")[0])
    assert "Piet Jansen · Utrecht · 06 1234 5678 · piet@example.nl" in texts[0]
    await talk.start("start_cv", op="up", field="skills")
    await talk.start("start_cv", op="remove", field="driving_licence")
    with db.session() as s:
        row = s.scalar(select(CurriculumVitae))
        assert row is not None
        assert row.sections["order"] == ["profile_text", "work_history", "skills", "education", "languages"]
    texts = await talk.start("start_cv", op="review")
    buttons = [b["title"] for m in talk.messages for b in m.get("buttons") or []]
    assert q("cv.button.put_back", section=q("cv.heading.driving_licence")) in buttons
    await talk.start("start_cv", op="add", field="driving_licence")
    # changing one section asks only that question again
    texts = await talk.start("start_cv", op="edit", field="skills")
    assert talk.slots["flow"] == "cv"
    assert (await talk.ask())[0].startswith(q("cv.ask.skills", examples="")[:20])
    value, texts = await talk.answer("Excel, Word")
    assert value == "done" and texts[0] == q("cv.ready", language="Nederlands", jobs=2, courses=1)
    with db.session() as s:
        row = s.scalar(select(CurriculumVitae))
        assert row is not None and row.sections["skills"] == ["Excel", "Word"]
        assert row.sections["order"][-1] == "driving_licence"
    # work history is changed in the profile, where it lives
    texts = await talk.start("start_cv", op="edit", field="work_history")
    assert texts == [q("cv.edit_in_profile")]


async def test_stop_and_resume_the_cv(talk: Conversation, db: Database) -> None:
    texts = await talk.start("start_cv")
    assert texts == [q("cv.intro", jobs=0, courses=0)]
    await talk.answer("/inform", "inform", {"language": "en"})
    await talk.answer("Amersfoort")
    talk.slots = {"employee_id": talk.slots["employee_id"], "language": "nl"}
    talk.active_loop = None
    assert await talk.start("start_cv") == [q("cv.resume")]
    assert await talk.ask() == [q("cv.ask.phone")]
    for answer, intent in (("nee", "deny"), ("nee", "deny")):
        await talk.answer(answer, intent)
    question = (await talk.ask())[0]
    # without a profile there are still suggestions, in the CV's language (English)
    assert "Motivated and reliable professional" in question
    await talk.answer("1")
    await talk.answer("listening, planning")
    await talk.answer("Dutch native, English fluent")
    value, texts = await talk.answer("nee", "deny")
    assert value == "done"
    assert texts[0] == q("cv.ready", language="English", jobs=0, courses=0)
    assert texts[1] == q("cv.no_work_history")


async def test_languages_that_look_like_a_language_switch_are_the_answer(
    talk: Conversation, db: Database, people: dict[str, object]
) -> None:
    from actions.always_on import ActionChangeLanguage
    from bot.models import Employee

    await talk.start("start_cv")
    for answer in ("/inform", "Utrecht", "nee", "nee", "1", "plannen, Excel"):
        intent = "deny" if answer == "nee" else "inform"
        await talk.answer(answer, intent, {"language": "nl"} if answer == "/inform" else None)
    # the NLU hears "change language" in this answer; the CV flow claims it
    _, texts = await talk.run(
        ActionChangeLanguage(),
        talk.tracker("Dutch native, English fluent", "change_language", {"language": "en"}),
    )
    assert texts == []
    with db.session() as s:
        row = s.scalar(select(CurriculumVitae))
        employee = s.get(Employee, int(people["piet"]))  # type: ignore[call-overload]
        assert row is not None and employee is not None
        assert row.sections["languages"] == [
            {"language": "Dutch", "level": "native"},
            {"language": "English", "level": "fluent"},
        ]
        assert employee.language == "nl"  # the chat language did not change
    # outside the CV the same intent does switch the language
    talk.active_loop = None
    _, texts = await talk.run(
        ActionChangeLanguage(), talk.tracker("in English please", "change_language", {"language": "en"})
    )
    assert texts == [q("language.changed", "en", language="English")]


async def test_health_words_in_the_profile_never_reach_the_cv(
    talk: Conversation, db: Database, people: dict[str, object]
) -> None:
    piet = int(people["piet"])  # type: ignore[call-overload]
    with db.session() as s, s.begin():
        s.add(
            AssignmentProgress(
                employee_id=piet,
                assignment_key="work_history",
                catalogue_version=1,
                status="done",
                answers={
                    "entries": [
                        {
                            "employer": "PostNL",
                            "role": "planner",
                            "period": {"from": 2015, "to": "now"},
                            "tasks": "aangepast werk na mijn burn-out",
                        }
                    ]
                },
            )
        )
    await talk.start("start_cv")
    await talk.answer("/inform", "inform", {"language": "nl"})
    for answer in ("nee", "nee", "nee"):
        await talk.answer(answer, "deny")
    await talk.answer("1")
    await talk.answer("plannen")
    await talk.answer("Nederlands moedertaal")
    _, texts = await talk.answer("nee", "deny")
    assert q("cv.health_left_out", count=1) in texts
    client = TestClient(create_app(runtime_settings(), db, background=False))
    pdf = client.get(attachments(talk)[0]["attachment"])
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert "PostNL" in text and "burn-out" not in text


async def test_an_email_address_read_as_help_is_the_answer(talk: Conversation, db: Database) -> None:
    from actions.always_on import ActionHelp

    await talk.start("start_cv")
    await talk.answer('/inform{"language":"nl"}', "inform", {"language": "nl"})
    await talk.answer("Utrecht")
    await talk.answer("06 1234 5678")
    # the NLU once read an e-mail address as a request for help; at the e-mail question it is the answer
    _, texts = await talk.run(ActionHelp(), talk.tracker("piet@example.nl", "help", confidence=0.99))
    assert texts == []
    with db.session() as s:
        cv = s.scalar(select(CurriculumVitae))
        assert cv is not None and cv.sections["personal"]["email"] == "piet@example.nl"
    # anywhere else, help is help
    _, texts = await talk.run(ActionHelp(), talk.tracker("help", "help", confidence=0.99))
    assert texts and texts[0] == q("help.text", "nl")
