"""Weekly application logging: ``log_application``, ``update_application``, ``show_progress``.

Logging runs in the questionnaire form as the flow ``application``. The
unsaved application is a draft row (``application_drafts``), so the employee
can stop and come back, and the form only asks what is still missing: one
sentence ("gisteren gesolliciteerd bij PostNL als chauffeur") fills employer,
function and date, and the employee then only picks the channel and confirms.
At the confirmation the summary can be saved, corrected in place ("nee, het
was bij Jumbo"), extended with a link, contact person and note, or dropped.
Saving uses the draft's token as idempotency key (see ``bot.applications``).

Updates and progress need no form: buttons carry the application id, the
status, the reason and the week as entities.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from typing import Any

from rasa_sdk.events import EventType
from sqlalchemy.orm import Session

from actions import messages as m
from actions.base import KoersAction, Turn, stop_turn
from actions.questionnaire import Question, short_answer, start
from actions.runtime import database
from bot import applications as apps
from bot import i18n
from bot.catalogue import Invalid
from bot.dates import parse_date
from bot.enrolment import KoersError
from bot.i18n import N_
from bot.models import Application, ApplicationDraft, Employee
from bot.report import CHANNELS, REASONS, STATUSES

FLOW = "application"
TEXT_STEPS = frozenset({"employer", "job_title", "applied_on", "vacancy_url", "contact_person", "note"})
CONFIRM = "confirm"
FIX = "fix"
QUEUE = "_queue"  # fields to ask before the confirmation again (a correction, the extras)
MAX_BUTTONS = 8
TRAJECTORY_WEEKS = 104
ASK_FROM_WEEKDAY = 3  # Thursday: from then on a low week is asked about
FIELD_LABELS = {f: N_(f"application.field.{f}") for f in apps.FIELDS}


def payload(intent: str, **entities: object) -> str:
    """Returns a button payload with entities."""
    return f"/{intent}" + (json.dumps(entities, separators=(",", ":")) if entities else "")


def summary(lang: str, values: dict[str, Any]) -> str:
    """Returns the draft as readable lines, one per filled field."""
    lines = []
    for f in apps.FIELDS:
        value = values.get(f)
        if not value:
            continue
        if f == "applied_on":
            value = i18n.format_date(lang, dt.date.fromisoformat(value), "long")
        elif f == "channel":
            value = apps.label(CHANNELS, lang, value)
        elif f == "status":
            value = apps.label(STATUSES, lang, value)
        lines.append(f"• {i18n.t(lang, FIELD_LABELS[f])}: {value}")
    return "\n".join(lines)


def next_step(values: dict[str, Any]) -> str:
    """Returns what to ask next: a queued field, a missing one, else the confirmation."""
    queue = list(values.get(QUEUE) or [])
    if queue:
        return str(queue[0])
    missing = apps.missing(values)
    return missing[0] if missing else CONFIRM


def advance(draft: ApplicationDraft, values: dict[str, Any], answered: str | None = None) -> None:
    """Stores the values and moves the draft to its next step."""
    queue = [f for f in values.get(QUEUE) or [] if f != answered]
    values = {**values, QUEUE: queue}
    draft.values = values
    draft.step = next_step(values)


def prefill(turn: Turn, values: dict[str, Any], today: dt.date) -> dict[str, Any]:
    """Takes employer, function and date from the message, where it names them."""
    found = dict(values)
    for name in ("employer", "job_title"):
        value = turn.entity(name)
        if value:
            with contextlib.suppress(Invalid):
                found[name] = apps.clean_text(name, str(value))
    if turn.text and not turn.text.startswith("/"):
        day = parse_date(turn.text, turn.lang, today)
        if day is not None:
            with contextlib.suppress(Invalid):
                found["applied_on"] = apps.check_date(day, today).isoformat()
    return found


class ApplicationFlow:
    """Logs one application through the questionnaire form (state in ``application_drafts``)."""

    def question(self, session: Session, turn: Turn) -> Question | None:
        """Returns the question of the draft's step, or None once it is saved or dropped."""
        draft = apps.get_draft(session, turn.employee_id)
        if draft is None:
            return None
        step = draft.step or next_step(draft.values)
        lang = turn.lang
        if step == CONFIRM:
            buttons = [
                m.button(lang, "application.button.save", "/affirm"),
                m.button(lang, "application.button.change", "/deny"),
                m.button(lang, "application.button.extra", payload("inform", op="extra")),
                m.button(lang, "application.button.discard", payload("inform", op="discard")),
            ]
            return Question("application.confirm", {"summary": summary(lang, draft.values)}, buttons)
        if step == FIX:
            buttons = [
                {"title": i18n.t(lang, FIELD_LABELS[f]), "payload": payload("inform", field=f)}
                for f in apps.FIELDS
            ]
            return Question("application.ask.fix", buttons=buttons)
        if step == "applied_on":
            today = apps.today()
            buttons = [
                m.button(lang, "application.button.today", today.isoformat()),
                m.button(lang, "application.button.yesterday", (today - dt.timedelta(days=1)).isoformat()),
            ]
            return Question("application.ask.applied_on", buttons=buttons)
        if step in ("channel", "status"):
            table = CHANNELS if step == "channel" else STATUSES
            buttons = [
                {"title": i18n.t(lang, key), "payload": payload("inform", **{step: code})}
                for code, key in table.items()
            ]
            return Question(f"application.ask.{step}", buttons=buttons)
        buttons = [m.button(lang, "application.button.skip", "/deny")] if step in apps.OPTIONAL else []
        return Question(f"application.ask.{step}", {"employer": draft.values.get("employer", "")}, buttons)

    def answer(self, session: Session, turn: Turn, text: str) -> None:
        """Reads the answer to the draft's step; raises Invalid with the reason when it does not fit."""
        draft = apps.get_draft(session, turn.employee_id)
        if draft is None:
            return
        values = dict(draft.values)
        step = draft.step or next_step(values)
        op = turn.entity("op")
        if step == CONFIRM:
            self.confirm(session, turn, draft, values, op)
            return
        if step == FIX:
            chosen = turn.entity("field") or apps.choice(FIELD_LABELS, turn.lang, text)
            if turn.intent == "affirm":
                advance(draft, values)
                return
            if chosen not in apps.FIELDS:
                raise Invalid("application.invalid.field")
            values[QUEUE] = [chosen]
            advance(draft, values)
            return
        values[step] = self.read(turn, step, text)
        advance(draft, values, answered=step)

    def confirm(
        self, session: Session, turn: Turn, draft: ApplicationDraft, values: dict[str, Any], op: str | None
    ) -> None:
        """Saves, opens the corrections or extras, drops the draft, or corrects in place."""
        if op == "discard":
            session.delete(draft)
            turn.say("application.discarded")
            return
        if turn.intent == "affirm" or op == "save":
            application = apps.save_draft(session, draft)
            employee = session.get(Employee, turn.employee_id)
            assert employee is not None
            week = apps.week_progress(session, employee, apps.today())
            turn.say(
                "application.saved",
                employer=application.employer,
                job_title=application.job_title,
                count=week.count,
                target=week.target,
            )
            return
        if op == "extra":
            values[QUEUE] = list(apps.OPTIONAL)
            advance(draft, values)
            return
        # "nee, het was bij Jumbo" corrects in place; a bare "nee" opens the list of fields
        corrected = self.correction(turn, values)
        if corrected != values:
            turn.say("application.corrected")
            advance(draft, corrected)
            return
        if turn.intent == "deny":
            draft.step = FIX
            return
        raise Invalid("application.invalid.confirm")

    def correction(self, turn: Turn, values: dict[str, Any]) -> dict[str, Any]:
        """Returns the values with what a free sentence at the confirmation corrects."""
        corrected = prefill(turn, values, apps.today())
        channel = turn.entity("channel") or apps.choice(CHANNELS, turn.lang, turn.text)
        if channel in CHANNELS:
            corrected["channel"] = channel
        return corrected

    def read(self, turn: Turn, step: str, text: str) -> str | None:
        """Returns the stored value of one field from the answer."""
        if step in apps.OPTIONAL:
            if turn.intent == "deny" or text.strip() in ("-", "/deny"):
                return None
            return apps.clean_url(text) if step == "vacancy_url" else apps.clean_text(step, text)
        if step in ("employer", "job_title"):
            if step == "job_title" and turn.intent == "deny":
                return i18n.t(turn.lang, "application.unknown_title")
            return apps.clean_text(step, str(turn.entity(step) or text))
        if step == "applied_on":
            day = parse_date(text, turn.lang, apps.today())
            return apps.check_date(day, apps.today()).isoformat()
        if step == "channel":
            code = turn.entity("channel") or apps.choice(CHANNELS, turn.lang, text)
            if code not in CHANNELS:
                raise Invalid("application.invalid.channel")
            return str(code)
        if step == "status":
            code = turn.entity("status") or apps.choice(STATUSES, turn.lang, text)
            code = code or apps.detect_status(text, turn.lang)
            if code not in STATUSES:
                raise Invalid("application.invalid.status")
            return str(code)
        raise Invalid("application.invalid.field")

    def claims(self, session: Session, turn: Turn) -> bool:
        """Takes a few words at a free-text question as the answer ("medewerker", "Werkgever 3")."""
        draft = apps.get_draft(session, turn.employee_id)
        if draft is None:
            return False
        step = draft.step or next_step(draft.values)
        return step in TEXT_STEPS and short_answer(turn)

    def finish(self, session: Session, turn: Turn) -> None:
        """Offers what is next once the application is saved or dropped."""
        turn.say(
            "application.next",
            buttons=[
                m.button(turn.lang, "application.button.another", "/log_application"),
                m.button(turn.lang, "menu.progress", "/show_progress"),
                m.button(turn.lang, "button.menu", "/help"),
            ],
        )


class ActionLogApplication(KoersAction):
    """Starts logging an application (or resumes the unsaved one), prefilled from the message."""

    interrupts_forms = True

    def name(self) -> str:
        return "action_log_application"

    async def act(self, turn: Turn, domain: dict[str, Any]) -> list[EventType]:
        today = apps.today()
        with database().session() as session, session.begin():
            draft = apps.get_draft(session, turn.employee_id)
            if draft is None:
                values = prefill(turn, {}, today)
                draft = apps.new_draft(session, turn.employee_id, values)
                advance(draft, values)
                known = summary(turn.lang, values)
                if known:
                    turn.say("application.start_known", lines=known)
                else:
                    turn.say("application.start")
            else:
                values = prefill(turn, dict(draft.values), today)
                if values != draft.values:
                    advance(draft, values)
                turn.say("application.resume")
        return start(FLOW)


def application_button(lang: str, a: Application, **entities: object) -> m.Button:
    """Returns a button that picks one application for an update."""
    title = f"{a.employer} – {a.job_title} ({i18n.format_date(lang, a.applied_on, 'short')})"
    return {"title": title[:64], "payload": payload("update_application", application=str(a.id), **entities)}


class ActionUpdateApplication(KoersAction):
    """Records news about an application ("PostNL heeft me afgewezen") in its status history."""

    interrupts_forms = True

    def name(self) -> str:
        return "action_update_application"

    async def act(self, turn: Turn, domain: dict[str, Any]) -> list[EventType]:
        with database().session() as session, session.begin():
            self.update(session, turn)
        return stop_turn()

    def update(self, session: Session, turn: Turn) -> None:
        """Finds the application and the status, asking for whichever is unclear."""
        lang = turn.lang
        today = apps.today()
        status = turn.entity("status")
        if status not in STATUSES:
            status = apps.detect_status(turn.text, lang) if not turn.text.startswith("/") else None
        extra = {"status": status} if status else {}
        chosen = turn.entity("application")
        if chosen is not None:
            found = [a for a in [session.get(Application, int_or_zero(chosen))] if a is not None]
            found = [a for a in found if a.employee_id == turn.employee_id]
        else:
            found = apps.matches(
                session, turn.employee_id, turn.text, turn.entity("employer"), turn.entity("job_title")
            )
        if not found:
            all_ = apps.matches(session, turn.employee_id, "")
            if not all_:
                turn.say(
                    "update.none_logged", buttons=[m.button(lang, "menu.log_application", "/log_application")]
                )
                return
            turn.say(
                "update.not_found",
                buttons=[application_button(lang, a, **extra) for a in all_[:MAX_BUTTONS]],
            )
            return
        if len(found) > 1:
            turn.say(
                "update.which", buttons=[application_button(lang, a, **extra) for a in found[:MAX_BUTTONS]]
            )
            return
        application = found[0]
        if not status:
            buttons = [
                {
                    "title": i18n.t(lang, key),
                    "payload": payload("update_application", application=str(application.id), status=code),
                }
                for code, key in STATUSES.items()
                if code != "sent"
            ]
            turn.say(
                "update.which_status",
                buttons=buttons,
                employer=application.employer,
                job_title=application.job_title,
            )
            return
        mentioned = parse_date(turn.text, lang, today) if not turn.text.startswith("/") else None
        on = mentioned if mentioned is not None and mentioned <= today else today
        changed = apps.change_status(session, application, status, on)
        done = N_("update.done") if changed else N_("update.already")
        turn.say(
            done,
            employer=application.employer,
            job_title=application.job_title,
            status=apps.label(STATUSES, lang, status),
            history=apps.history_text(application, lang),
        )
        if status in ("interview", "second_interview") and mentioned is not None and mentioned > today:
            turn.say("update.good_luck", date=i18n.format_date(lang, mentioned, "full"))
        elif status == "rejected" and changed:
            turn.say("update.rejected_support")
        elif status == "hired" and changed:
            turn.say("update.hired")


def int_or_zero(value: object) -> int:
    """Reads an id from a button entity; 0 (no row) when it is not a number."""
    try:
        return int(str(value))
    except ValueError:
        return 0


class ActionShowProgress(KoersAction):
    """Shows the week against the target, the trajectory week and what is open; asks why a week is low."""

    interrupts_forms = True

    def name(self) -> str:
        return "action_show_progress"

    async def act(self, turn: Turn, domain: dict[str, Any]) -> list[EventType]:
        with database().session() as session, session.begin():
            employee = session.get(Employee, turn.employee_id)
            assert employee is not None
            reason, week = turn.entity("reason"), turn.entity("week")
            if reason and week:
                self.store_reason(session, turn, str(reason), str(week))
            else:
                self.show(session, turn, employee)
        return []

    def store_reason(self, session: Session, turn: Turn, reason: str, week: str) -> None:
        """Stores the reason a button gave for a low week."""
        try:
            year, number = apps.parse_week(week)
            apps.record_reason(session, turn.employee_id, year, number, reason)
        except KoersError:
            turn.say("progress.reason_unknown")
            return
        turn.say("progress.reason_saved", reason=apps.label(REASONS, turn.lang, reason), week=number)

    def show(self, session: Session, turn: Turn, employee: Employee) -> None:
        """Tells this week's count, the trajectory week, open applications and agency registrations."""
        lang = turn.lang
        today = apps.today()
        week = apps.week_progress(session, employee, today)
        turn.say(
            "progress.week",
            count=week.count,
            target=week.target,
            week=min(week.trajectory_week, TRAJECTORY_WEEKS),
            weeks=TRAJECTORY_WEEKS,
        )
        if week.open:
            lines = "\n".join(
                f"• {a.employer} – {a.job_title}: {apps.label(STATUSES, lang, a.status)}"
                for a in week.open[:10]
            )
            turn.say("progress.open", lines=lines, count=len(week.open))
        turn.say("progress.agencies", count=week.agencies, expected=apps.AGENCIES_EXPECTED)
        low = self.week_to_explain(session, employee, today)
        if low is not None:
            buttons = [
                {"title": i18n.t(lang, key), "payload": payload("show_progress", reason=code, week=low.key)}
                for code, key in REASONS.items()
            ]
            ask = (
                N_("progress.ask_reason_last_week") if low.monday < week.monday else N_("progress.ask_reason")
            )
            turn.say(
                ask,
                buttons=buttons,
                count=low.count,
                target=low.target,
            )
        else:
            turn.say(
                "progress.next",
                buttons=[
                    m.button(lang, "menu.log_application", "/log_application"),
                    m.button(lang, "button.menu", "/help"),
                ],
            )

    def week_to_explain(
        self, session: Session, employee: Employee, today: dt.date
    ) -> apps.WeekProgress | None:
        """Returns the low week to ask a reason for, if any.

        Last week, when it ended below the target without a reason (and the
        employee was enrolled for all of it); else this week, from Thursday on
        (asking on a Monday why the week is low would be unfair).
        """
        last = apps.week_progress(session, employee, today - dt.timedelta(days=7))
        enrolled = employee.created_at.date() if employee.created_at else today
        if last.below and last.reason is None and enrolled <= last.monday:
            return last
        this = apps.week_progress(session, employee, today)
        if this.below and this.reason is None and today.weekday() >= ASK_FROM_WEEKDAY:
            return this
        return None
