"""The weekly acceptance reflection (``start_reflection``): letting go, looking forward.

4 prompts from a set that rotates with the trajectory week, a mood check (1–5)
and one small step for the coming week, which is asked about next time. Only
the employee and their coach read the answers; never the employer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk.events import EventType
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions import messages as m
from actions.base import KoersAction, Turn
from actions.questionnaire import Question, short_answer, start
from actions.runtime import database
from bot import i18n
from bot.catalogue import Field, Invalid, catalogue, parse
from bot.enrolment import trajectory_week
from bot.models import Employee, Reflection, Reminder, utcnow
from bot.signals import raise_signal
from bot.summaries import coach_language, store_summary

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
LOW_MOOD = 2
MOOD = Field("mood", "scale")


def open_reflection(session: Session, employee_id: int) -> Reflection | None:
    """Returns the reflection in progress, if any."""
    return session.scalar(
        select(Reflection)
        .where(Reflection.employee_id == employee_id, Reflection.completed_at.is_(None))
        .order_by(Reflection.id.desc())
    )


def completed(session: Session, employee_id: int, limit: int = 2) -> list[Reflection]:
    """Returns the latest completed reflections, newest first."""
    return list(
        session.scalars(
            select(Reflection)
            .where(Reflection.employee_id == employee_id, Reflection.completed_at.is_not(None))
            .order_by(Reflection.completed_at.desc(), Reflection.id.desc())
            .limit(limit)
        )
    )


def new_reflection(session: Session, employee: Employee) -> Reflection:
    """Creates this week's reflection with its rotating prompt set."""
    week = trajectory_week(employee.first_sick_day)
    sets = catalogue().reflection_sets
    question_set = week % len(sets)
    steps = ["mood", *sets[question_set], "small_step"]
    previous = completed(session, employee.id, 1)
    if previous and previous[0].small_step:
        steps.insert(0, "last_step")
    reflection = Reflection(
        employee_id=employee.id,
        week_number=week,
        question_set=question_set,
        current_step=steps[0],
        answers={"_steps": steps},
    )
    session.add(reflection)
    session.flush()
    return reflection


def next_reminder(now: dt.datetime) -> dt.datetime:
    """Returns a week from now at 10:00 in Amsterdam, moved off Sunday."""
    local = now.astimezone(AMSTERDAM) + dt.timedelta(days=7)
    if local.weekday() == 6:
        local += dt.timedelta(days=1)
    return local.replace(hour=10, minute=0, second=0, microsecond=0).astimezone(dt.timezone.utc)


class ReflectionFlow:
    """The reflection as a questionnaire flow."""

    def question(self, session: Session, turn: Turn) -> Question | None:
        """Returns the current prompt."""
        reflection = open_reflection(session, turn.employee_id)
        if reflection is None or reflection.current_step is None:
            return None
        step = reflection.current_step
        if step == "mood":
            return Question(
                "reflection.mood", buttons=[{"title": str(n), "payload": str(n)} for n in range(1, 6)]
            )
        if step == "last_step":
            previous = completed(session, turn.employee_id, 1)
            return Question(
                "reflection.last_step", params={"step": previous[0].small_step if previous else ""}
            )
        if step == "small_step":
            return Question("reflection.small_step")
        return Question(f"reflection.set{reflection.question_set + 1}.{step}")

    def answer(self, session: Session, turn: Turn, text: str) -> None:
        """Stores the answer to the current prompt."""
        reflection = open_reflection(session, turn.employee_id)
        if reflection is None or reflection.current_step is None:
            return
        step = reflection.current_step
        answers = dict(reflection.answers)
        if step == "mood":
            reflection.mood = int(parse(MOOD, text, turn.intent))
        else:
            text = text.strip()
            if not text:
                raise Invalid("answer.invalid.text")
            if len(text) > 2000:
                raise Invalid("answer.invalid.too_long")
            answers[step] = text
            if step == "small_step":
                reflection.small_step = text
        steps: list[str] = answers["_steps"]
        index = steps.index(step)
        reflection.current_step = steps[index + 1] if index + 1 < len(steps) else None
        reflection.answers = answers

    def claims(self, session: Session, turn: Turn) -> bool:
        """Takes a few words at an open prompt as the answer."""
        reflection = open_reflection(session, turn.employee_id)
        step = reflection.current_step if reflection is not None else None
        return step not in (None, "mood") and short_answer(turn)

    def finish(self, session: Session, turn: Turn) -> None:
        """Closes the reflection: reflects the step back, checks mood, plans a reminder."""
        reflection = open_reflection(session, turn.employee_id)
        if reflection is None:
            return
        reflection.completed_at = utcnow()
        session.flush()
        turn.say("reflection.closing", step=reflection.small_step or "")
        recent = completed(session, turn.employee_id, 2)
        if len(recent) == 2 and all(r.mood is not None and r.mood <= LOW_MOOD for r in recent):
            raise_signal(
                session,
                turn.employee_id,
                "low_mood",
                dedupe_key=f"low_mood:{recent[1].id}:{recent[0].id}",
                detail=i18n.t(
                    coach_language(session, turn.employee_id),
                    "signal.low_mood_detail",
                    first=recent[1].mood,
                    second=recent[0].mood,
                ),
            )
            turn.say("reflection.low_mood_care")
        due = next_reminder(utcnow())
        key = f"reflection:{turn.employee_id}:{due.date().isoformat()}"
        if session.scalar(select(Reminder.id).where(Reminder.dedupe_key == key)) is None:
            session.add(Reminder(employee_id=turn.employee_id, kind="reflection", dedupe_key=key, due_at=due))
        turn.say(
            "reflection.reminder",
            date=i18n.format_date(turn.lang, due.astimezone(AMSTERDAM).date(), "full"),
            buttons=m.menu(turn.lang),
        )
        store_summary(
            session, turn.employee_id, f"reflection:{reflection.id}", reflection_summary(session, reflection)
        )


def reflection_summary(session: Session, reflection: Reflection) -> str:
    """Returns the coach's summary of one reflection: mood, its change, answers in brief."""
    lang = coach_language(session, reflection.employee_id)
    before = session.scalar(
        select(Reflection.mood)
        .where(
            Reflection.employee_id == reflection.employee_id,
            Reflection.completed_at.is_not(None),
            Reflection.id < reflection.id,
        )
        .order_by(Reflection.id.desc())
    )
    lines = [
        i18n.t(lang, "summary.reflection_header", week=reflection.week_number, mood=reflection.mood or "–")
    ]
    if before is not None and reflection.mood is not None:
        change = reflection.mood - before
        lines.append(i18n.t(lang, "summary.mood_change", before=before, change=f"{change:+d}"))
    for step in reflection.answers.get("_steps", []):
        if step in ("mood", "small_step"):
            continue
        value = str(reflection.answers.get(step, ""))
        short = value if len(value) <= 120 else value[:117] + "…"
        prompt = (
            "reflection.last_step.label"
            if step == "last_step"
            else f"reflection.set{reflection.question_set + 1}.{step}.label"
        )
        lines.append(f"• {i18n.t(lang, prompt)}: {short}")
    lines.append(i18n.t(lang, "summary.small_step", step=reflection.small_step or "–"))
    return "\n".join(lines)


class ActionStartReflection(KoersAction):
    """Starts this week's reflection, or resumes the one in progress."""

    interrupts_forms = True

    def name(self) -> str:
        return "action_start_reflection"

    async def act(self, turn: Turn, domain: dict[str, Any]) -> list[EventType]:
        with database().session() as session, session.begin():
            current = open_reflection(session, turn.employee_id)
            if current is not None:
                turn.say("reflection.resume")
            else:
                employee = session.get(Employee, turn.employee_id)
                assert employee is not None
                if not completed(session, turn.employee_id, 1):
                    turn.say("reflection.privacy")
                turn.say("reflection.intro")
                new_reflection(session, employee)
        return start("reflection")
