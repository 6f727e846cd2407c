"""What the assistant can do at any moment: greet, help, honesty, safety, privacy, language."""

from __future__ import annotations

from typing import Any

from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from sqlalchemy import func, select

from actions import messages as m
from actions.assignments import payload
from actions.base import PENDING_SLOT, KoersAction, Turn, crisis_response, set_language, stop_turn
from actions.reflection import open_reflection
from actions.runtime import database
from bot import i18n
from bot.enrolment import trajectory_week
from bot.models import (
    Application,
    AssignmentProgress,
    AuditEntry,
    Employee,
    Reflection,
    Signal,
    Summary,
)
from bot.privacy import forget
from bot.signals import raise_signal


class ActionGreet(KoersAction):
    """Greets the employee by name and shows what the assistant can do."""

    def name(self) -> str:
        return "action_greet"

    async def act(self, turn: Turn, domain: dict[str, Any]) -> list[EventType]:
        turn.say("greet.hello", name=turn.first_name)
        with database().session() as session:
            open_assignment = session.scalar(
                select(AssignmentProgress.assignment_key)
                .where(
                    AssignmentProgress.employee_id == turn.employee_id, AssignmentProgress.status != "done"
                )
                .order_by(AssignmentProgress.updated_at.desc())
            )
            reflecting = open_reflection(session, turn.employee_id) is not None
        if reflecting or open_assignment:
            title = m.text(
                turn.lang, "menu.reflection" if reflecting else f"assignment.{open_assignment}.title"
            )
            resume = "/start_reflection" if reflecting else payload(assignment=open_assignment)
            turn.say(
                "greet.resume",
                title=title,
                buttons=[
                    m.button(turn.lang, "button.continue", resume),
                    m.button(turn.lang, "button.menu", "/help"),
                ],
            )
            return []
        turn.say("menu.intro", buttons=m.menu(turn.lang))
        return []


class ActionHelp(KoersAction):
    """Explains what the assistant can do and how to reach the coach."""

    # a running flow may take the message as its answer (an e-mail address read as help)
    interrupts_forms = True

    def name(self) -> str:
        return "action_help"

    async def act(self, turn: Turn, domain: dict[str, Any]) -> list[EventType]:
        turn.say("help.text")
        turn.say("menu.intro", buttons=m.menu(turn.lang))
        return []


class ActionBotChallenge(KoersAction):
    """Says honestly that this is an assistant, and how to reach the human coach."""

    def name(self) -> str:
        return "action_bot_challenge"

    async def act(self, turn: Turn, domain: dict[str, Any]) -> list[EventType]:
        turn.say("bot_challenge.text", buttons=[m.button(turn.lang, "menu.coach", "/contact_coach")])
        return []


class ActionOutOfScope(KoersAction):
    """Says kindly that this is outside what it does, and offers the menu."""

    def name(self) -> str:
        return "action_out_of_scope"

    async def act(self, turn: Turn, domain: dict[str, Any]) -> list[EventType]:
        turn.say("out_of_scope.text", buttons=m.menu(turn.lang))
        return []


class ActionFallback(KoersAction):
    """Offers the menu instead of guessing when the assistant is not sure."""

    def name(self) -> str:
        return "action_koers_fallback"

    async def act(self, turn: Turn, domain: dict[str, Any]) -> list[EventType]:
        key = "fallback.too_long" if len(turn.text) > 2000 else "fallback.text"
        turn.say(key, buttons=m.menu(turn.lang))
        return []


class ActionDefaultFallback(ActionFallback):
    """Replaces Rasa's default fallback (which would revert the user's message)."""

    def name(self) -> str:
        return "action_default_fallback"


class ActionGoodbye(KoersAction):
    """Says goodbye warmly."""

    def name(self) -> str:
        return "action_goodbye"

    async def act(self, turn: Turn, domain: dict[str, Any]) -> list[EventType]:
        turn.say("goodbye.text", name=turn.first_name)
        return []


class ActionThank(KoersAction):
    """Answers thanks."""

    def name(self) -> str:
        return "action_thank"

    async def act(self, turn: Turn, domain: dict[str, Any]) -> list[EventType]:
        turn.say("thank.text")
        return []


class ActionStop(KoersAction):
    """Leaves whatever flow is running; the progress so far is kept."""

    def name(self) -> str:
        return "action_stop"

    async def act(self, turn: Turn, domain: dict[str, Any]) -> list[EventType]:
        pending = turn.tracker.get_slot(PENDING_SLOT)
        if turn.tracker.active_loop_name or pending:
            turn.say("stop.paused", buttons=m.menu(turn.lang))
            return [ActiveLoop(None), SlotSet(PENDING_SLOT, None)]
        turn.say("stop.nothing", buttons=m.menu(turn.lang))
        return []


class ActionCrisis(KoersAction):
    """Gives the help lines and raises an urgent signal for the coach."""

    def name(self) -> str:
        return "action_crisis"

    async def act(self, turn: Turn, domain: dict[str, Any]) -> list[EventType]:
        return crisis_response(turn)


class ActionContactCoach(KoersAction):
    """Records that the employee wants their coach, and says when to expect contact."""

    interrupts_forms = True

    def name(self) -> str:
        return "action_contact_coach"

    async def act(self, turn: Turn, domain: dict[str, Any]) -> list[EventType]:
        with database().session() as session, session.begin():
            employee = session.get(Employee, turn.employee_id)
            coach_name = employee.coach.name if employee else ""
            raise_signal(
                session,
                turn.employee_id,
                "coach_contact",
                dedupe_key=f"coach_contact:{turn.tracker.sender_id}:{turn.message_id}",
            )
        turn.say("contact_coach.done", coach=coach_name)
        return []


class ActionChangeLanguage(KoersAction):
    """Switches to the language named, or offers the choice."""

    interrupts_forms = True

    def name(self) -> str:
        return "action_change_language"

    async def act(self, turn: Turn, domain: dict[str, Any]) -> list[EventType]:
        return set_language(turn, turn.entity("language"))


class ActionShowMyData(KoersAction):
    """Shows the employee what is stored about them, and who looked at it."""

    interrupts_forms = True

    def name(self) -> str:
        return "action_show_my_data"

    async def act(self, turn: Turn, domain: dict[str, Any]) -> list[EventType]:
        eid = turn.employee_id
        with database().session() as session:
            employee = session.get(Employee, eid)
            assert employee is not None

            def count(model: Any) -> int:
                return int(session.scalar(select(func.count()).where(model.employee_id == eid)) or 0)

            counts = [
                count(model) for model in (AssignmentProgress, Reflection, Application, Summary, Signal)
            ]
            audit = list(
                session.scalars(
                    select(AuditEntry)
                    .where(AuditEntry.employee_id == eid)
                    .order_by(AuditEntry.id.desc())
                    .limit(5)
                )
            )
            coach_name = employee.coach.name
            week = trajectory_week(employee.first_sick_day)
            sick_day = i18n.format_date(turn.lang, employee.first_sick_day)
        turn.say(
            "my_data.profile",
            name=turn.name,
            language=i18n.languages()[turn.lang].native_name,
            first_sick_day=sick_day,
            week=week,
            coach=coach_name,
        )
        turn.say(
            "my_data.counts",
            assignments=counts[0],
            reflections=counts[1],
            applications=counts[2],
            summaries=counts[3],
            signals=counts[4],
        )
        if audit:
            lines = "\n".join(
                f"• {i18n.format_date(turn.lang, a.created_at.date(), 'short')}: {a.actor} ({a.target})"
                for a in audit
            )
            turn.say("my_data.audit", lines=lines)
        else:
            turn.say("my_data.audit_none")
        turn.say("my_data.more")
        return []


class ActionDeleteMyData(KoersAction):
    """Asks for confirmation before erasing everything."""

    def name(self) -> str:
        return "action_delete_my_data"

    async def act(self, turn: Turn, domain: dict[str, Any]) -> list[EventType]:
        turn.say("delete.confirm", buttons=m.yes_no(turn.lang))
        paused: list[EventType] = [ActiveLoop(None)] if turn.tracker.active_loop_name else []
        return [*paused, SlotSet(PENDING_SLOT, "delete_my_data")]


# how sure the model must be of a typed yes before everything is erased (a button is 1.0)
ERASE_CONFIDENCE = 0.95


class ActionAffirm(KoersAction):
    """Carries out what was waiting for a yes (such as erasing data)."""

    def name(self) -> str:
        return "action_affirm"

    async def act(self, turn: Turn, domain: dict[str, Any]) -> list[EventType]:
        pending = turn.tracker.get_slot(PENDING_SLOT)
        if pending == "delete_my_data":
            if turn.confidence < ERASE_CONFIDENCE:
                # erasing cannot be undone: a yes the model is not sure of ("no, keep it"
                # once came out as a yes at 0.87) gets the question again, with buttons
                turn.say("delete.unclear", buttons=m.yes_no(turn.lang))
                return []
            lang = turn.lang
            forget(database(), turn.employee_id)
            m.send(turn.dispatcher, lang, "delete.done")
            # the employee is gone: clearing the slot keeps this turn out of the tracker store
            return stop_turn([SlotSet("employee_id", None), SlotSet(PENDING_SLOT, None)])
        turn.say("affirm.nothing_pending", buttons=m.menu(turn.lang))
        return []


class ActionDeny(KoersAction):
    """Cancels what was waiting for a yes."""

    def name(self) -> str:
        return "action_deny"

    async def act(self, turn: Turn, domain: dict[str, Any]) -> list[EventType]:
        pending = turn.tracker.get_slot(PENDING_SLOT)
        if pending == "delete_my_data":
            turn.say("delete.cancelled")
            return [SlotSet(PENDING_SLOT, None)]
        turn.say("deny.nothing_pending", buttons=m.menu(turn.lang))
        return []
