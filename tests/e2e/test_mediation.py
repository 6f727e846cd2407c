"""Application logging, updates, progress and the CV end to end, with the real model over REST."""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
from typing import Any

import httpx
import pypdf
import pytest
from sqlalchemy import func, select, update

from bot import applications as apps
from bot import i18n
from bot.models import Application, AssignmentProgress, Employee, WeekNote
from bot.report import CHANNELS
from tests.e2e.conftest import Stack, texts

pytestmark = pytest.mark.rasa


def enrolled(stack: Stack, name: str, lang: str) -> tuple[str, dict[str, Any]]:
    invite = stack.enrol(name, lang)
    who = f"rest-{uuid.uuid4().hex[:10]}"
    stack.say(who, f"/start {invite['invite_code']}")
    return who, invite


def applications(stack: Stack, employee_id: int) -> list[Application]:
    db = stack.database()
    try:
        with db.session() as s:
            found = list(s.scalars(select(Application).where(Application.employee_id == employee_id)))
            for a in found:
                _ = a.history
            s.expunge_all()
            return found
    finally:
        db.dispose()


def button(answers: list[dict[str, Any]], title: str) -> str:
    for answer in answers:
        for b in answer.get("buttons") or []:
            if b["title"] == title:
                return str(b["payload"])
    raise AssertionError(f"no button {title!r} in {answers}")


@pytest.mark.parametrize(
    ("lang", "sentence", "employer", "job_title", "days_ago"),
    [
        (
            "nl",
            "ik heb gisteren gesolliciteerd bij Albert Heijn als teamleider",
            "Albert Heijn",
            "teamleider",
            1,
        ),
        (
            "en",
            "yesterday I applied at Coolblue for customer service agent",
            "Coolblue",
            "customer service agent",
            1,
        ),
    ],
)
def test_log_in_one_sentence_then_save_once(
    stack: Stack, lang: str, sentence: str, employer: str, job_title: str, days_ago: int
) -> None:
    who, invite = enrolled(stack, f"Noor {lang}", lang)
    answers = stack.say(who, sentence)
    said = texts(answers)
    assert employer in said[0] and job_title in said[0]
    # employer, function and date came from the sentence: only the channel is asked
    assert said[-1] == i18n.t(lang, "application.ask.channel")
    confirm = stack.say(who, button(answers, i18n.t(lang, CHANNELS["vacancy_site"])))
    assert texts(confirm)[0].startswith(i18n.t(lang, "application.confirm", summary="").strip())
    save = button(confirm, i18n.t(lang, "application.button.save"))
    saved = texts(stack.say(who, save))
    assert saved[0].startswith(
        i18n.t(lang, "application.saved", employer=employer, job_title=job_title, count=1, target=2)[:12]
    )
    # the same confirmation delivered again (a retry): still one application
    stack.say(who, save)
    rows = applications(stack, invite["id"])
    assert len(rows) == 1
    assert (rows[0].employer, rows[0].job_title, rows[0].channel) == (employer, job_title, "vacancy_site")
    assert rows[0].applied_on == apps.today() - dt.timedelta(days=days_ago)


STEP_BY_STEP = {
    "nl": (
        "ik wil een sollicitatie doorgeven",
        "weet ik niet meer",
        "vorige dinsdag",
        "nee, het was {date}",
        "ja, opslaan",
    ),
    "en": (
        "I want to log a job application",
        "no idea really",
        "last Tuesday",
        "no, it was {date}",
        "yes, save it",
    ),
}


@pytest.mark.parametrize("lang", sorted(STEP_BY_STEP))
def test_log_step_by_step_with_a_typed_date_and_a_correction(stack: Stack, lang: str) -> None:
    opening, bad_date, tuesday, correction, yes = STEP_BY_STEP[lang]
    who, invite = enrolled(stack, f"Fenna {lang}", lang)
    assert texts(stack.say(who, opening))[-1] == i18n.t(lang, "application.ask.employer")
    assert texts(stack.say(who, "Gemeente Utrecht"))[-1] == i18n.t(lang, "application.ask.job_title")
    assert texts(stack.say(who, "beleidsmedewerker"))[-1] == i18n.t(lang, "application.ask.applied_on")
    # a date that does not parse is asked again; a typed date in words works
    assert texts(stack.say(who, bad_date))[0] == i18n.t(lang, "application.invalid.date")
    channel = stack.say(who, tuesday)
    assert texts(channel)[-1] == i18n.t(lang, "application.ask.channel")
    stack.say(who, button(channel, i18n.t(lang, CHANNELS["open_application"])))
    # at the confirmation a sentence with another date corrects it in place
    today = apps.today()
    last_tuesday = today - dt.timedelta(days=(today.weekday() - 1) % 7 or 7)
    week_before = last_tuesday - dt.timedelta(days=7)
    corrected = texts(stack.say(who, correction.format(date=i18n.format_date(lang, week_before, "long"))))
    assert corrected[0] == i18n.t(lang, "application.corrected")
    stack.say(who, yes)
    rows = applications(stack, invite["id"])
    assert len(rows) == 1 and rows[0].applied_on == week_before
    assert rows[0].channel == "open_application"


def add_application(stack: Stack, employee_id: int, employer: str, job_title: str, key: str) -> None:
    db = stack.database()
    with db.session() as s, s.begin():
        s.add(
            Application(
                employee_id=employee_id,
                idempotency_key=key,
                employer=employer,
                job_title=job_title,
                applied_on=apps.today() - dt.timedelta(days=5),
                channel="vacancy_site",
                status="sent",
            )
        )
    db.dispose()


@pytest.mark.parametrize(
    ("lang", "sentence", "employer", "status"),
    [
        ("nl", "PostNL heeft me afgewezen", "PostNL", "rejected"),
        ("en", "I have an interview at Coolblue next week", "Coolblue", "interview"),
    ],
)
def test_update_in_natural_language_keeps_history(
    stack: Stack, lang: str, sentence: str, employer: str, status: str
) -> None:
    who, invite = enrolled(stack, f"Update {lang}", lang)
    add_application(stack, invite["id"], employer, "planner", f"e2e:{who}")
    add_application(stack, invite["id"], "HEMA", "verkoper", f"e2e:{who}:2")
    said = texts(stack.say(who, sentence))
    label = i18n.t(lang, f"report.status.{status}")
    assert f"'{label}'" in said[0] and employer in said[0]
    row = next(a for a in applications(stack, invite["id"]) if a.employer == employer)
    assert row.status == status


@pytest.mark.parametrize(
    ("lang", "question"),
    [
        ("nl", "hoeveel sollicitaties heb ik deze week gedaan?"),
        ("en", "how am I doing with applications this week?"),
    ],
)
def test_progress_below_target_asks_for_a_reason_and_stores_it(
    stack: Stack, lang: str, question: str
) -> None:
    who, invite = enrolled(stack, f"Daan {lang}", lang)
    db = stack.database()
    with db.session() as s, s.begin():
        # enrolled a month ago, so last week (without applications) counts
        s.execute(
            update(Employee)
            .where(Employee.id == invite["id"])
            .values(created_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=30))
        )
    answers = stack.say(who, question)
    said = texts(answers)
    assert said[0].startswith(
        i18n.t(lang, "progress.week", count=0, target=2, week=1, weeks=104).split(".")[0]
    )
    assert said[-1] == i18n.t(lang, "progress.ask_reason_last_week", count=0, target=2)
    stored = texts(stack.say(who, button(answers, i18n.t(lang, "report.reason.training"))))
    last_week = (apps.today() - dt.timedelta(days=7)).isocalendar()[1]
    reason = i18n.t(lang, "report.reason.training")
    assert stored == [i18n.t(lang, "progress.reason_saved", reason=reason, week=last_week)]
    with db.session() as s:
        notes = list(s.scalars(select(WeekNote).where(WeekNote.employee_id == invite["id"])))
        assert [n.reason for n in notes] == ["training"]
    db.dispose()


def test_cv_end_to_end_gives_pdf_and_docx_with_the_work_history(stack: Stack) -> None:
    who, invite = enrolled(stack, "Iris de Graaf", "en")
    db = stack.database()
    with db.session() as s, s.begin():
        s.add(
            AssignmentProgress(
                employee_id=invite["id"],
                assignment_key="work_history",
                catalogue_version=1,
                status="done",
                answers={
                    "entries": [
                        {
                            "employer": "Rabobank",
                            "role": "teller",
                            "period": {"from": 2012, "to": "now"},
                            "tasks": "advice",
                        }
                    ]
                },
            )
        )
    db.dispose()
    answers = stack.say(who, "I want to make a CV")
    assert texts(answers)[0] == i18n.t("en", "cv.intro", jobs=1, courses=0)
    # the CV in Dutch while chatting in English
    stack.say(who, button(answers, "Nederlands"))
    for text in (
        "Utrecht",
        "06 1234 5678",
        "iris@example.nl",
        "1",
        "advising, Excel",
        "Dutch native, English fluent",
    ):
        stack.say(who, text)
    done = stack.say(who, "B")
    assert texts(done)[0] == i18n.t("en", "cv.ready", language="Nederlands", jobs=1, courses=0)
    links = [a["custom"] for a in done if a.get("custom")]
    assert [link["filename"] for link in links] == ["cv-iris-de-graaf.pdf", "cv-iris-de-graaf.docx"]
    pdf = httpx.get(stack.web + links[0]["attachment"], timeout=60)
    assert pdf.status_code == 200
    text = " ".join(
        " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.content)).pages).split()
    )
    assert "Rabobank" in text and "teller" in text and "Werkervaring" in text
    docx_file = httpx.get(stack.web + links[1]["attachment"], timeout=60)
    assert docx_file.status_code == 200 and docx_file.content.startswith(b"PK")
    exported = json.loads(stack.koers("employee", "export", str(invite["id"]), "--json").stdout)
    assert exported["cv"]["language"] == "nl"
    db = stack.database()
    with db.session() as s:
        assert (
            s.scalar(select(func.count(Application.id)).where(Application.employee_id == invite["id"])) == 0
        )
    db.dispose()
