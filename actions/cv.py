"""CV drafting (``start_cv``): a few questions, then a real PDF and DOCX in the chosen CV language.

The CV flow runs in the questionnaire form as the flow ``cv``. Work history and
education come from the persoonsprofiel and are never asked again. Afterwards
the CV can be reviewed section by section: changed, moved up, left out (and put
back), and its language changed; every change gives fresh download links.
Button payloads are ``/start_cv{"op": ..., "field": ...}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rasa_sdk.events import ActiveLoop, EventType
from sqlalchemy.orm import Session

from actions import messages as m
from actions.base import KoersAction, Turn, stop_turn
from actions.questionnaire import Question, short_answer, start
from actions.runtime import database, settings
from bot import cv as cvs
from bot import cvdoc, i18n
from bot.catalogue import Field, Invalid, parse
from bot.i18n import N_
from bot.models import CurriculumVitae, Employee

FLOW = "cv"
SECTION_TITLES = cvdoc.HEADINGS
# sections whose content lives in the persoonsprofiel: changing them means changing the assignment
FROM_PROFILE = {"work_history": "work_history", "education": "education"}
STEP_OF_SECTION = {
    "profile_text": ["profile_text"],
    "skills": ["skills"],
    "languages": ["languages"],
    "driving_licence": ["driving_licence"],
    "personal": ["name", "place", "phone", "email"],
    "language": ["language"],
}


def payload(**entities: object) -> str:
    """Returns a ``start_cv`` button payload with entities."""
    return "/start_cv" + (json.dumps(entities, separators=(",", ":")) if entities else "")


def skip_button(lang: str) -> m.Button:
    """Returns the button that skips an optional question."""
    return m.button(lang, "cv.button.skip", "/deny")


class CvFlow:
    """Asks the CV questions still queued in the ``cvs`` row."""

    def question(self, session: Session, turn: Turn) -> Question | None:
        """Returns the next CV question, or None when nothing is queued."""
        row = cvs.get_cv(session, turn.employee_id)
        if row is None or not cvs.queue(row):
            return None
        step = cvs.queue(row)[0]
        lang = turn.lang
        if step == "language":
            return Question("cv.ask.language", buttons=language_buttons_for_cv())
        if step == "profile_text":
            options = cvs.suggestions(session, turn.employee_id, row.language)
            row.sections = {**row.sections, "_suggestions": options}
            numbered = "\n\n".join(f"{n}. {text}" for n, text in enumerate(options, start=1))
            buttons = [{"title": str(n), "payload": str(n)} for n in range(1, len(options) + 1)]
            return Question("cv.ask.profile_text", {"suggestions": numbered}, buttons)
        if step == "skills":
            strengths = cvs.profile_parts(session, turn.employee_id)["strengths"]
            return Question("cv.ask.skills", {"examples": ", ".join(strengths[:3]) or "Excel, plannen"})
        buttons = [skip_button(lang)] if step in cvs.OPTIONAL else []
        return Question(f"cv.ask.{step}", buttons=buttons)

    def answer(self, session: Session, turn: Turn, text: str) -> None:
        """Stores the answer to the first queued question and takes it off the queue."""
        row = cvs.get_cv(session, turn.employee_id)
        if row is None or not cvs.queue(row):
            return
        steps = cvs.queue(row)
        step = steps[0]
        sections = dict(row.sections)
        skipped = turn.intent == "deny" and step in cvs.OPTIONAL
        if step == "language":
            row.language = cvs.read_language(text, turn.entity("language"))
        elif step in ("name", "place", "phone", "email"):
            personal = dict(sections.get("personal") or {})
            if skipped:
                personal[step] = None
            elif step == "phone":
                personal[step] = cvs.read_phone(text)
            elif step == "email":
                personal[step] = cvs.read_email(text)
            else:
                personal[step] = cvs.read_text(text)
            sections["personal"] = personal
        elif step == "profile_text":
            options = [str(o) for o in sections.get("_suggestions") or []]
            chosen = text.strip().rstrip(".")
            if chosen.isdigit() and 1 <= int(chosen) <= len(options):
                sections["profile_text"] = options[int(chosen) - 1]
            else:
                sections["profile_text"] = cvs.read_text(text, cvs.MIN_PROFILE_TEXT)
        elif step == "skills":
            sections["skills"] = [cvs.no_health(s) for s in parse(Field("skills", "list"), text, turn.intent)]
        elif step == "languages":
            sections["languages"] = cvs.read_languages(text, turn.lang)
        elif step == "driving_licence":
            sections["driving_licence"] = None if skipped else cvs.read_licence(text)
        else:
            raise Invalid("cv.invalid.short")
        sections["_queue"] = steps[1:]
        row.sections = sections

    def claims(self, session: Session, turn: Turn) -> bool:
        """Takes "Dutch native, English fluent" as the languages answer, and a few words as an answer.

        An e-mail address or phone number at its own question is the answer whatever
        the NLU made of it ("iris@example.nl" once read as help).
        """
        row = cvs.get_cv(session, turn.employee_id)
        step = cvs.queue(row)[:1] if row is not None else []
        if step in (["language"], ["languages"]):
            return True
        if step and step[0] in TYPED and TYPED[step[0]](turn.text):
            return True
        return bool(step) and step[0] != "driving_licence" and short_answer(turn)

    def finish(self, session: Session, turn: Turn) -> None:
        """Makes the documents and offers the review."""
        row = cvs.get_cv(session, turn.employee_id)
        if row is None:
            return
        deliver(session, turn, row, N_("cv.ready"))


def _reads(reader: Callable[[str], str]) -> Callable[[str], bool]:
    def accepts(text: str) -> bool:
        try:
            reader(text)
        except Invalid:
            return False
        return True

    return accepts


# questions whose answers have a shape of their own
TYPED: dict[str, Callable[[str], bool]] = {"email": _reads(cvs.read_email), "phone": _reads(cvs.read_phone)}


def language_buttons_for_cv() -> list[m.Button]:
    """Returns one button per language a CV can be written in."""
    return [
        {"title": lang.native_name, "payload": f'/inform{{"language":"{lang.code}"}}'}
        for lang in i18n.languages().values()
    ]


def deliver(session: Session, turn: Turn, row: CurriculumVitae, key: str) -> None:
    """Sends the CV as signed download links (PDF and DOCX) with the review buttons."""
    data = cvs.document_data(session, row)
    language = i18n.languages()[i18n.resolve(row.language)].native_name
    turn.say(
        key,
        language=language,
        jobs=len(data["work_history"]),
        courses=len(data["education"]),
    )
    if data["health_removed"]:
        turn.say("cv.health_left_out", count=data["health_removed"])
    if not data["work_history"]:
        turn.say(
            "cv.no_work_history",
            buttons=[
                {
                    "title": i18n.t(turn.lang, "assignment.work_history.title"),
                    "payload": '/start_assignments{"assignment":"work_history"}',
                }
            ],
        )
    secret = settings().secret_key
    for fmt in cvs.FORMATS:
        name = cvdoc.filename(data, row.language, fmt)
        token = cvs.download_token(secret, turn.employee_id, fmt)
        turn.dispatcher.utter_message(
            text=i18n.t(turn.lang, f"cv.download.{fmt}"),
            json_message={"attachment": f"/cv/{token}", "filename": name, "mime": cvs.FORMATS[fmt]},
        )
    turn.say(
        "cv.what_next",
        buttons=[
            m.button(turn.lang, "cv.button.review", payload(op="review")),
            m.button(turn.lang, "cv.button.language", payload(op="edit", field="language")),
            m.button(turn.lang, "button.menu", "/help"),
        ],
    )


class ActionStartCv(KoersAction):
    """Starts or resumes the CV, or reviews, reorders, removes and changes its sections."""

    interrupts_forms = True

    def name(self) -> str:
        return "action_start_cv"

    async def act(self, turn: Turn, domain: dict[str, Any]) -> list[EventType]:
        with database().session() as session, session.begin():
            events = self.handle(session, turn)
        if any(isinstance(e, dict) and e.get("event") == "followup" for e in events):
            return events
        paused: list[EventType] = [ActiveLoop(None)] if turn.tracker.active_loop_name else []
        return stop_turn(paused + events)

    def handle(self, session: Session, turn: Turn) -> list[EventType]:
        """Decides what the message asks for."""
        employee = session.get(Employee, turn.employee_id)
        assert employee is not None
        row = cvs.get_cv(session, turn.employee_id)
        op, field = turn.entity("op"), turn.entity("field")
        if row is None:
            row = cvs.start_cv(session, employee, turn.lang)
            parts = cvs.profile_parts(session, turn.employee_id)
            turn.say("cv.intro", jobs=len(parts["work_history"]), courses=len(parts["education"]))
            return start(FLOW)
        if cvs.queue(row) and op is None:
            turn.say("cv.resume")
            return start(FLOW)
        if op == "edit" and field in FROM_PROFILE:
            turn.say(
                "cv.edit_in_profile",
                buttons=[
                    {
                        "title": i18n.t(turn.lang, "assignment.button.change"),
                        "payload": json_payload(
                            "start_assignments", assignment=FROM_PROFILE[field], op="review"
                        ),
                    }
                ],
            )
            return []
        if op == "edit" and field in STEP_OF_SECTION:
            cvs.set_queue(row, STEP_OF_SECTION[str(field)])
            return start(FLOW)
        if op in ("up", "remove", "add") and field in SECTION_TITLES:
            reorder(row, str(op), str(field))
            deliver(session, turn, row, N_("cv.updated_ready"))
            return []
        if op == "section" and field in SECTION_TITLES:
            section_menu(turn, row, str(field))
            return []
        if op == "review":
            review(session, turn, row)
            return []
        deliver(session, turn, row, N_("cv.ready"))
        return []


def json_payload(intent: str, **entities: object) -> str:
    """Returns a payload for another intent with entities."""
    return f"/{intent}" + json.dumps(entities, separators=(",", ":"))


def reorder(row: CurriculumVitae, op: str, section: str) -> None:
    """Moves a section up, leaves it out, or puts it back (at the end)."""
    order = [s for s in row.sections.get("order") or list(cvdoc.SECTIONS) if s in cvdoc.SECTIONS]
    if op == "remove" and section in order:
        order.remove(section)
    elif op == "add" and section not in order:
        order.append(section)
    elif op == "up" and section in order:
        index = order.index(section)
        if index > 0:
            order[index - 1], order[index] = order[index], order[index - 1]
    row.sections = {**row.sections, "order": order}


def review(session: Session, turn: Turn, row: CurriculumVitae) -> None:
    """Reads the CV back in its order, with a button per section (and hidden ones to put back)."""
    data = cvs.document_data(session, row)
    lang = turn.lang
    lines = [show_section(lang, data, s) for s in data["order"]]
    hidden = [s for s in cvdoc.SECTIONS if s not in data["order"]]
    personal = data["personal"]
    contact = " · ".join(
        v for v in (personal["name"], personal["place"], personal["phone"], personal["email"]) if v
    )
    turn.say("cv.review", contact=contact, sections="\n\n".join(lines))
    buttons = [
        {"title": i18n.t(lang, SECTION_TITLES[s]), "payload": payload(op="section", field=s)}
        for s in data["order"]
    ]
    buttons.append(m.button(lang, "cv.button.personal", payload(op="edit", field="personal")))
    buttons += [
        {
            "title": i18n.t(lang, "cv.button.put_back", section=i18n.t(lang, SECTION_TITLES[s])),
            "payload": payload(op="add", field=s),
        }
        for s in hidden
    ]
    turn.say("cv.choose_section", buttons=buttons)


def show_section(lang: str, data: dict[str, Any], section: str) -> str:
    """Returns one section as a few readable lines for the review."""
    title = i18n.t(lang, SECTION_TITLES[section])
    if section == "profile_text":
        body = data["profile_text"] or "–"
    elif section == "work_history":
        body = "\n".join(f"• {e['role']} – {e['employer']}" for e in data["work_history"]) or "–"
    elif section == "education":
        body = "\n".join(f"• {e['name']} – {e['institution']}" for e in data["education"]) or "–"
    elif section == "skills":
        body = ", ".join(data["skills"]) or "–"
    elif section == "languages":
        body = (
            ", ".join(
                f"{x['language']} ({i18n.t(lang, cvdoc.LEVELS[x['level']])})" if x["level"] else x["language"]
                for x in data["languages"]
            )
            or "–"
        )
    else:
        body = data["driving_licence"] or "–"
    return f"{title}\n{body}"


def section_menu(turn: Turn, row: CurriculumVitae, section: str) -> None:
    """Offers what can be done with one section: change, move up, leave out."""
    lang = turn.lang
    title = i18n.t(lang, SECTION_TITLES[section])
    turn.say(
        "cv.section_menu",
        section=title,
        buttons=[
            m.button(lang, "cv.button.change", payload(op="edit", field=section)),
            m.button(lang, "cv.button.up", payload(op="up", field=section)),
            m.button(lang, "cv.button.remove", payload(op="remove", field=section)),
        ],
    )
