"""Application logging, updates and progress as the action server runs them (real database)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from actions.applications import ActionShowProgress, ActionUpdateApplication, summary
from bot import applications as apps
from bot import i18n
from bot.db import Database
from bot.enrolment import trajectory_week
from bot.models import Application, ApplicationDraft, ApplicationStatusChange, WeekNote
from bot.report import CHANNELS
from tests.actions.conftest import Conversation


def q(key: str, **params: object) -> str:
    return i18n.t("nl", key, **params)


def count(db: Database, model: type = Application) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


async def test_one_sentence_then_channel_then_save(talk: Conversation, db: Database) -> None:
    today = apps.today()
    texts = await talk.start(
        "log_application",
        text="ik heb gisteren gesolliciteerd bij PostNL als chauffeur",
        employer="PostNL",
        job_title="chauffeur",
    )
    yesterday = i18n.format_date("nl", today - dt.timedelta(days=1), "long")
    assert texts[0].startswith(q("application.start_known", lines="").split("\n")[0])
    assert "PostNL" in texts[0] and "chauffeur" in texts[0] and yesterday in texts[0]
    assert talk.slots["flow"] == "application"
    # only the channel is missing
    assert await talk.ask() == [q("application.ask.channel")]
    # the validation stores the channel and asks for the confirmation in the same call
    value, confirm = await talk.answer("/inform", "inform", {"channel": "vacancy_site"})
    assert value is None and len(confirm) == 1
    assert confirm[0].startswith(q("application.confirm", summary="").strip())
    assert q(CHANNELS["vacancy_site"]) in confirm[0]
    assert count(db) == 0  # nothing is saved before the confirmation
    value, texts = await talk.answer("/affirm", "affirm")
    assert value == "done"
    assert texts[0] == q(
        "application.saved", employer="PostNL", job_title="chauffeur", count=texts_count(db), target=2
    )
    assert texts[-1] == q("application.next")
    with db.session() as s:
        saved = s.scalar(select(Application))
        assert saved is not None
        assert (saved.employer, saved.job_title, saved.channel, saved.status) == (
            "PostNL",
            "chauffeur",
            "vacancy_site",
            "sent",
        )
        assert saved.applied_on == today - dt.timedelta(days=1)
        assert [h.status for h in saved.history] == ["sent"]
    assert count(db, ApplicationDraft) == 0


def texts_count(db: Database) -> int:
    """This week's applications (the saved message counts the one just saved)."""
    monday = apps.monday_of(apps.today())
    with db.session() as s:
        return int(s.scalar(select(func.count(Application.id)).where(Application.applied_on >= monday)) or 0)


async def test_step_by_step_with_bad_answers_extras_and_correction(talk: Conversation, db: Database) -> None:
    texts = await talk.start("log_application", text="ik wil een sollicitatie doorgeven")
    assert texts == [q("application.start")]
    assert await talk.ask() == [q("application.ask.employer")]
    # a bad answer: the reason, then the same question again
    value, texts = await talk.answer("x")
    assert value is None and texts == [q("application.invalid.text"), q("application.ask.employer")]
    assert await talk.answer("Gemeente Utrecht") == (None, [q("application.ask.job_title")])
    assert await talk.answer("beleidsmedewerker") == (None, [q("application.ask.applied_on")])
    value, texts = await talk.answer("ergens vorig jaar misschien")
    assert texts == [q("application.invalid.date"), q("application.ask.applied_on")]
    future = apps.today() + dt.timedelta(days=30)
    value, texts = await talk.answer(future.isoformat())
    assert texts == [q("application.invalid.future"), q("application.ask.applied_on")]
    assert await talk.answer("vandaag") == (None, [q("application.ask.channel")])
    # back in the form after an interruption, the question is asked again
    assert await talk.ask() == [q("application.ask.channel")]
    value, texts = await talk.answer("met een duif")
    assert texts == [q("application.invalid.channel"), q("application.ask.channel")]
    # a typed channel name works as well as a button
    await talk.answer(q(CHANNELS["open_application"]))
    # the extras: a link, a contact person (skipped) and a note
    assert await talk.answer("/inform", "inform", {"op": "extra"}) == (
        None,
        [q("application.ask.vacancy_url")],
    )
    value, texts = await talk.answer("geen idee")
    assert texts == [q("application.invalid.url"), q("application.ask.vacancy_url")]
    _, texts = await talk.answer("werkenbij.utrecht.nl/vacature/123")
    assert texts == [q("application.ask.contact_person", employer="Gemeente Utrecht")]
    await talk.answer("nee", "deny")
    _, confirm = await talk.answer('=HYPERLINK("evil") gebeld met de afdeling')
    assert "https://werkenbij.utrecht.nl/vacature/123" in confirm[0]
    # correction in place at the confirmation: a free sentence with a new employer
    value, texts = await talk.answer(
        "nee het was bij Gemeente Amersfoort", "inform", {"employer": "Gemeente Amersfoort"}
    )
    assert texts[0] == q("application.corrected") and "Gemeente Amersfoort" in texts[1]
    # or through the buttons: change the job title
    assert await talk.answer("/deny", "deny") == (None, [q("application.ask.fix")])
    _, texts = await talk.answer("/inform", "inform", {"field": "job_title"})
    assert texts == [q("application.ask.job_title")]
    _, texts = await talk.answer("senior beleidsmedewerker")
    assert "senior beleidsmedewerker" in texts[0]
    value, _ = await talk.answer("/affirm", "affirm")
    assert value == "done"
    with db.session() as s:
        saved = s.scalar(select(Application))
        assert saved is not None
        assert saved.employer == "Gemeente Amersfoort" and saved.job_title == "senior beleidsmedewerker"
        assert saved.channel == "open_application" and saved.contact_person is None
        assert saved.vacancy_url == "https://werkenbij.utrecht.nl/vacature/123"
        assert saved.note is not None and saved.note.startswith("=HYPERLINK")


async def test_confirmation_delivered_twice_saves_once(talk: Conversation, db: Database) -> None:
    await talk.start(
        "log_application", text="bij Jumbo als vakkenvuller", employer="Jumbo", job_title="vakkenvuller"
    )
    await talk.answer(apps.today().isoformat())
    await talk.answer("/inform", "inform", {"channel": "network"})
    slots = dict(talk.slots)
    value, _ = await talk.answer("/affirm", "affirm")
    assert value == "done" and count(db) == 1
    # the same "yes" again, as if Rasa retried the turn with the old state
    talk.slots, talk.active_loop = slots, "questionnaire_form"
    value, _texts = await talk.answer("/affirm", "affirm")
    assert count(db) == 1 and count(db, ApplicationStatusChange) == 1


async def test_restart_between_steps_keeps_the_draft(talk: Conversation, db: Database) -> None:
    await talk.start("log_application", text="sollicitatie bij Coolblue", employer="Coolblue")
    await talk.answer("klantenservice")
    # the action server restarts and the conversation starts a new session
    talk.slots = {"employee_id": talk.slots["employee_id"], "language": "nl"}
    talk.active_loop = None
    texts = await talk.start("log_application", text="ik wil een sollicitatie doorgeven")
    assert texts == [q("application.resume")]
    assert await talk.ask() == [q("application.ask.applied_on")]
    await talk.answer("gisteren")
    await talk.answer("/inform", "inform", {"channel": "agency"})
    value, _ = await talk.answer("ja", "affirm")
    assert value == "done" and count(db) == 1 and count(db, ApplicationDraft) == 0


async def test_discard_saves_nothing(talk: Conversation, db: Database) -> None:
    await talk.start("log_application", text="bij Lidl", employer="Lidl")
    for answer in ("kassamedewerker", "vandaag"):
        await talk.answer(answer)
    await talk.answer("/inform", "inform", {"channel": "phone"})
    value, texts = await talk.answer("/inform", "inform", {"op": "discard"})
    assert value == "done" and texts[0] == q("application.discarded") and count(db) == 0


def add(
    db: Database, employee_id: int, employer: str, title: str, days_ago: int, status: str = "sent"
) -> int:
    with db.session() as s, s.begin():
        a = Application(
            employee_id=employee_id,
            idempotency_key=f"t:{employer}:{title}",
            employer=employer,
            job_title=title,
            applied_on=apps.today() - dt.timedelta(days=days_ago),
            channel="vacancy_site",
            status=status,
        )
        a.history.append(ApplicationStatusChange(status="sent", changed_on=a.applied_on))
        s.add(a)
        s.flush()
        return a.id


async def test_update_matches_asks_to_choose_and_keeps_history(
    talk: Conversation, db: Database, people: dict[str, object]
) -> None:
    piet = int(people["piet"])  # type: ignore[call-overload]
    postnl = add(db, piet, "PostNL", "chauffeur", 10)
    add(db, piet, "Coolblue", "klantenservice", 9)
    add(db, piet, "Coolblue", "magazijn", 8)
    update = ActionUpdateApplication()
    # the NLU missed the employer: the name in the text is enough
    _, texts = await talk.run(update, talk.tracker("postnl heeft me afgewezen", "update_application"))
    assert texts[0].startswith(
        q(
            "update.done",
            employer="PostNL",
            job_title="chauffeur",
            status=q("report.status.rejected"),
            history="",
        ).split("\n")[0]
    )
    assert texts[1] == q("update.rejected_support")
    # redelivered: nothing changes
    _, texts = await talk.run(update, talk.tracker("postnl heeft me afgewezen", "update_application"))
    assert texts[0].startswith(
        q(
            "update.already",
            employer="PostNL",
            job_title="chauffeur",
            status=q("report.status.rejected"),
            history="",
        ).split("\n")[0]
    )
    with db.session() as s:
        history = s.scalars(
            select(ApplicationStatusChange.status).where(ApplicationStatusChange.application_id == postnl)
        )
        assert list(history) == ["sent", "rejected"]
    # two Coolblue applications: the employee picks one by button
    _events, texts = await talk.run(
        update, talk.tracker("ik mag op gesprek bij Coolblue", "update_application", {"employer": "Coolblue"})
    )
    assert texts == [q("update.which")]
    with db.session() as s:
        magazijn = s.scalar(select(Application.id).where(Application.job_title == "magazijn"))
    _, texts = await talk.run(
        update,
        talk.tracker(
            "/update_application", "update_application", {"application": str(magazijn), "status": "interview"}
        ),
    )
    assert q("report.status.interview") in texts[0]
    # an application of someone else cannot be picked
    _, texts = await talk.run(
        update,
        talk.tracker(
            "/update_application", "update_application", {"application": "999999", "status": "hired"}
        ),
    )
    assert texts[0] == q("update.not_found")


async def test_update_without_status_asks_for_it(
    talk: Conversation, db: Database, people: dict[str, object]
) -> None:
    piet = int(people["piet"])  # type: ignore[call-overload]
    add(db, piet, "ASML", "operator", 3)
    _, texts = await talk.run(
        ActionUpdateApplication(),
        talk.tracker("nieuws over ASML", "update_application", {"employer": "ASML"}),
    )
    assert texts == [q("update.which_status", employer="ASML", job_title="operator")]


async def test_progress_below_target_asks_and_stores_a_reason(
    talk: Conversation, db: Database, people: dict[str, object]
) -> None:
    piet = int(people["piet"])  # type: ignore[call-overload]
    add(db, piet, "Randstad", "uitzendkracht", 0)
    with db.session() as s, s.begin():
        # enrolled long ago, so last week counts
        from bot.models import Employee

        employee = s.get(Employee, piet)
        assert employee is not None
        employee.created_at = employee.created_at - dt.timedelta(days=30)
    progress = ActionShowProgress()
    _, texts = await talk.run(progress, talk.tracker("hoe sta ik ervoor", "show_progress"))
    this_week = texts_count(db)
    week_number = trajectory_week(dt.date.today() - dt.timedelta(days=300), apps.today())
    assert texts[0] == q("progress.week", count=this_week, target=2, week=week_number, weeks=104)
    assert "Randstad – uitzendkracht" in texts[1]
    assert texts[2] == q("progress.agencies", count=0, expected=2)
    # last week had nothing and no reason: that is asked first
    assert texts[3] == q("progress.ask_reason_last_week", count=0, target=2)
    last = apps.monday_of(apps.today()) - dt.timedelta(days=7)
    week = f"{last.isocalendar()[0]}-W{last.isocalendar()[1]:02d}"
    _, texts = await talk.run(
        progress, talk.tracker("/show_progress", "show_progress", {"reason": "training", "week": week})
    )
    assert texts == [
        q("progress.reason_saved", reason=q("report.reason.training"), week=last.isocalendar()[1])
    ]
    # the same button again replaces, never duplicates
    await talk.run(
        progress, talk.tracker("/show_progress", "show_progress", {"reason": "no_vacancies", "week": week})
    )
    with db.session() as s:
        notes = list(s.scalars(select(WeekNote)))
        assert [(n.iso_week, n.reason) for n in notes] == [(last.isocalendar()[1], "no_vacancies")]


def test_summary_reads_like_a_list() -> None:
    text = summary(
        "nl", {"employer": "PostNL", "applied_on": "2026-11-12", "channel": "agency", "_queue": []}
    )
    assert text.splitlines() == [
        f"• {q('application.field.employer')}: PostNL",
        f"• {q('application.field.applied_on')}: 12 november 2026",
        f"• {q('application.field.channel')}: {q(CHANNELS['agency'])}",
    ]


def test_every_derived_message_exists_in_every_language() -> None:
    # ids built at run time (not seen by the extractor): each question, field label and export column
    ids = {f"application.ask.{f}" for f in apps.FIELDS} | {f"application.field.{f}" for f in apps.FIELDS}
    ids |= {f"export.column.{c}" for c in apps.CSV_COLUMNS}
    for lang in i18n.languages():
        assert ids <= i18n.catalog_ids(lang), sorted(ids - i18n.catalog_ids(lang))


async def test_a_long_answer_the_nlu_is_unsure_about_is_the_answer(talk: Conversation, db: Database) -> None:
    from actions.always_on import ActionContactCoach

    await talk.start("log_application", text="ik wil een sollicitatie doorgeven")
    employer = "Stichting Coach en Begeleiding Noord, via via gehoord"
    unsure = talk.tracker(employer, "contact_coach", confidence=0.4)
    _, texts = await talk.run(ActionContactCoach(), unsure)
    assert texts == []
    with db.session() as s:
        draft = s.scalar(select(ApplicationDraft))
        assert draft is not None and draft.values["employer"] == employer
    # the same words, said with confidence, are a request for the coach
    sure = talk.tracker(employer, "contact_coach", confidence=0.95)
    _, texts = await talk.run(ActionContactCoach(), sure)
    assert texts and texts[0].startswith(q("contact_coach.done", coach="").split(" ")[0])


async def test_a_few_words_that_look_like_another_request_are_the_answer(
    talk: Conversation, db: Database
) -> None:
    from actions.always_on import ActionContactCoach
    from actions.reflection import ActionStartReflection

    await talk.start("log_application", text="ik wil een sollicitatie doorgeven")
    await talk.answer("Werkgever 7")
    # the NLU heard "contact my coach" in a job title; the question was the job title
    _, texts = await talk.run(ActionContactCoach(), talk.tracker("medewerker", "contact_coach"))
    assert texts == []
    _, texts = await talk.run(ActionStartReflection(), talk.tracker("vandaag", "start_reflection"))
    assert texts == []
    with db.session() as s:
        draft = s.scalar(select(ApplicationDraft))
        assert draft is not None
        assert (
            draft.values["job_title"] == "medewerker"
            and draft.values["applied_on"] == apps.today().isoformat()
        )
    # a real request in a full sentence still interrupts
    _, texts = await talk.run(
        ActionContactCoach(), talk.tracker("ik wil graag dat mijn coach mij belt", "contact_coach")
    )
    assert texts and texts[0].startswith(q("contact_coach.done", coach="").split(" ")[0])
