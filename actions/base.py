"""The gate every Koers action passes first: enrolment, safety net, language, activity.

All user-visible text of the assistant comes from custom actions (the catalogs
live in ``locales/``), so this gate sees every turn. In order it: enrols a
``/start CODE``; answers an unbound sender with a short explanation and nothing
else; catches crisis words in any language; handles ``/language xx``; then lets
the action do its own work.
"""

from __future__ import annotations

import abc
import asyncio
import datetime as dt
import logging
import re
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import update

from actions import messages as m
from actions.runtime import database, settings
from bot import enrolment, i18n, langdetect
from bot.i18n import N_
from bot.models import Employee, utcnow
from bot.signals import back_active, raise_signal

logger = logging.getLogger(__name__)

START = re.compile(r"^\s*/start(?:\s+(?P<code>\S+))?\s*$", re.IGNORECASE)
LANGUAGE = re.compile(r"^\s*/lang(?:uage)?(?:\s+(?P<code>[A-Za-z-]{2,8}))?\s*$", re.IGNORECASE)

REFUSALS = {
    enrolment.Redeemed.INVALID: N_("enrol.invalid"),
    enrolment.Redeemed.USED: N_("enrol.used"),
    enrolment.Redeemed.EXPIRED: N_("enrol.expired"),
}

# the slots only actions may set; the domain maps them as `custom`
EMPLOYEE_SLOT = "employee_id"
LANGUAGE_SLOT = "language"
PENDING_SLOT = "pending"
OFFER_SLOT = "language_offer"


@dataclass
class Turn:
    """What an action knows about the current turn of an enrolled employee."""

    dispatcher: CollectingDispatcher
    tracker: Tracker
    employee_id: int
    name: str
    lang: str
    text: str
    message_id: str

    def say(self, key: str, *, buttons: list[m.Button] | None = None, **params: object) -> None:
        """Sends one localized message in the employee's language."""
        m.send(self.dispatcher, self.lang, key, buttons=buttons, **params)

    @property
    def first_name(self) -> str:
        """Returns the name to greet the employee with."""
        return self.name.split()[0] if self.name.strip() else self.name

    @property
    def intent(self) -> str | None:
        """Returns the intent of the latest user message."""
        return (self.tracker.latest_message.get("intent") or {}).get("name")

    @property
    def confidence(self) -> float:
        """Returns how sure the NLU was of :attr:`intent` (1 when not given, as for a button payload)."""
        confidence = (self.tracker.latest_message.get("intent") or {}).get("confidence")
        return 1.0 if confidence is None else float(confidence)

    def entity(self, name: str) -> str | None:
        """Returns the first value of an entity in the latest message."""
        return next(self.tracker.get_latest_entity_values(name), None)


def stranger_languages(tracker: Tracker) -> list[str]:
    """Returns the languages to answer a stranger in: the channel's guess, else default and English."""
    guess = (tracker.latest_message.get("metadata") or {}).get("language")
    if i18n.is_supported(guess):
        return [str(guess)]
    default = i18n.resolve(settings().default_language)
    second = i18n.LINGUA_FRANCA
    return [default] + ([second] if default != second and i18n.is_supported(second) else [])


def explain_unbound(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Tells a stranger how to start, in their language when the channel knows it."""
    for lang in stranger_languages(tracker):
        m.send(dispatcher, lang, "enrol.unbound")


def stop_turn(extra: list[EventType] | None = None) -> list[EventType]:
    """Ends the turn here: nothing else runs until the user speaks again."""
    return [*(extra or []), FollowupAction("action_listen")]


def crisis_response(turn: Turn) -> list[EventType]:
    """Gives the help lines at once, raises an urgent coach signal and leaves any flow."""
    turn.say("crisis.help_lines")
    turn.say("crisis.coach_informed")
    with database().session() as session, session.begin():
        raise_signal(
            session,
            turn.employee_id,
            "crisis",
            dedupe_key=f"crisis:{turn.tracker.sender_id}:{turn.message_id}",
        )
    events: list[EventType] = [SlotSet(PENDING_SLOT, None)]
    if turn.tracker.active_loop_name:
        events.append(ActiveLoop(None))
    return stop_turn(events)


def enrol(dispatcher: CollectingDispatcher, tracker: Tracker, code: str | None) -> list[EventType]:
    """Redeems ``/start CODE`` for this sender and welcomes the employee."""
    if not code:
        explain_unbound(dispatcher, tracker)
        return stop_turn()
    with database().session() as session, session.begin():
        outcome, binding = enrolment.redeem(session, tracker.sender_id, code)
    if binding is None:
        for lang in stranger_languages(tracker):
            m.send(dispatcher, lang, REFUSALS[outcome])
        return stop_turn()
    lang = i18n.resolve(binding.language)
    if outcome is enrolment.Redeemed.ALREADY_BOUND:
        m.send(dispatcher, lang, "enrol.already_bound", name=binding.name)
    else:
        m.send(dispatcher, lang, "enrol.welcome", name=binding.name)
        m.send(dispatcher, lang, "enrol.privacy")
    m.send(dispatcher, lang, "menu.intro", buttons=m.menu(lang))
    return stop_turn([SlotSet(EMPLOYEE_SLOT, binding.employee_id), SlotSet(LANGUAGE_SLOT, lang)])


# how fresh "last active" must be: within a minute, a turn's later actions (starting
# a flow runs two) and the employee's next turns write nothing; inactivity is counted in days
ACTIVITY_RESOLUTION = dt.timedelta(minutes=1)


def _stale(last_activity_at: dt.datetime | None) -> bool:
    """Whether the employee's last activity is worth writing again (older than a minute).

    No inactivity signal can have been raised since a minute ago, so skipping
    the write also skips nothing that ``back_active`` would resolve.
    """
    return last_activity_at is None or utcnow() - last_activity_at >= ACTIVITY_RESOLUTION


def gate(dispatcher: CollectingDispatcher, tracker: Tracker) -> tuple[Turn | None, list[EventType]]:
    """Runs the checks every turn needs; returns the turn, or None with the final events.

    With a turn, the events re-assert the protected slots and must be returned
    with the action's own events.
    """
    text = (tracker.latest_message.get("text") or "").strip()
    message_id = str(tracker.latest_message.get("message_id") or tracker.sender_id)
    start = START.match(text)
    if start:
        return None, enrol(dispatcher, tracker, start.group("code"))
    with database().session() as session, session.begin():
        binding = enrolment.binding_for(session, tracker.sender_id)
        if binding is not None and _stale(binding.last_activity_at):
            session.execute(
                update(Employee).where(Employee.id == binding.employee_id).values(last_activity_at=utcnow())
            )
            back_active(session, binding.employee_id)
    if binding is None:
        explain_unbound(dispatcher, tracker)
        events: list[EventType] = []
        if tracker.active_loop_name:
            events.append(ActiveLoop(None))
        return None, stop_turn(events)
    turn = Turn(
        dispatcher=dispatcher,
        tracker=tracker,
        employee_id=binding.employee_id,
        name=binding.name,
        lang=i18n.resolve(binding.language),
        text=text,
        message_id=message_id,
    )
    sync: list[EventType] = []
    if tracker.get_slot(EMPLOYEE_SLOT) != binding.employee_id:
        sync.append(SlotSet(EMPLOYEE_SLOT, binding.employee_id))
    if tracker.get_slot(LANGUAGE_SLOT) != turn.lang:
        sync.append(SlotSet(LANGUAGE_SLOT, turn.lang))
    if i18n.is_crisis_text(text):
        return None, sync + crisis_response(turn)
    language = LANGUAGE.match(text)
    if language:
        return None, sync + stop_turn(set_language(turn, language.group("code")))
    return turn, sync + offer_language(turn)


def offer_language(turn: Turn) -> list[EventType]:
    """Offers (never forces) a switch when the employee writes in another supported language.

    Each language is offered once per session (slot ``language_offer``). Not
    while a form asks questions (a CV or an application is often written in
    Dutch by someone who chats in English) and not when the message already
    asks to change the language.
    """
    if turn.tracker.active_loop_name or turn.intent == "change_language":
        return []
    other = langdetect.detect(turn.text, turn.lang)
    if other is None or turn.tracker.get_slot(OFFER_SLOT) == other:
        return []
    m.send(
        turn.dispatcher,
        other,
        "language.offer",
        buttons=[m.button(other, "language.offer_yes", f"/language {other}")],
        language=i18n.languages()[other].native_name,
        current=i18n.languages()[turn.lang].native_name,
    )
    return [SlotSet(OFFER_SLOT, other)]


T = TypeVar("T")


async def off_the_loop(body: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Runs an action's body in a worker thread, on that thread's own event loop.

    Actions talk to the database synchronously (SQLAlchemy sessions). Run on
    the action server's event loop, one slow query (a locked row, a busy
    PostgreSQL) would stall every other employee's turn; in a worker thread it
    delays only its own conversation. The thread pool is asyncio's default.
    """
    return await asyncio.to_thread(lambda: _thread_loop().run_until_complete(body()))


_LOCAL = threading.local()


def _thread_loop() -> asyncio.AbstractEventLoop:
    """The worker thread's own event loop, made once (not one per action, as asyncio.run would)."""
    loop: asyncio.AbstractEventLoop | None = getattr(_LOCAL, "loop", None)
    if loop is None or loop.is_closed():
        loop = _LOCAL.loop = asyncio.new_event_loop()
    return loop


class KoersAction(Action, abc.ABC):
    """An action that runs only for enrolled employees, after the safety gate.

    An action that may interrupt a running questionnaire (``interrupts_forms``)
    first lets the flow claim the message as its answer (see
    ``actions.questionnaire.answer_instead``).
    """

    interrupts_forms = False

    @abc.abstractmethod
    def name(self) -> str:
        """Returns the action's name in the domain."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Runs the gate, then the action itself (in a worker thread: see :func:`off_the_loop`)."""
        return await off_the_loop(lambda: self._gated(dispatcher, tracker, domain))

    async def _gated(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        turn, events = gate(dispatcher, tracker)
        if turn is None:
            return events
        if self.interrupts_forms:
            from actions.questionnaire import answer_instead

            claimed = answer_instead(turn)
            if claimed is not None:
                return events + claimed
        return events + await self.act(turn, domain)

    @abc.abstractmethod
    async def act(self, turn: Turn, domain: dict[str, Any]) -> list[EventType]:
        """Does the action's own work for an enrolled employee."""


def set_language(turn: Turn, code: str | None) -> list[EventType]:
    """Switches the employee's language when supported, else offers the choices."""
    code = (code or "").lower().strip()
    if not i18n.is_supported(code):
        turn.say("language.choose", buttons=language_buttons())
        return []
    with database().session() as session, session.begin():
        session.execute(update(Employee).where(Employee.id == turn.employee_id).values(language=code))
    turn.lang = code
    turn.say("language.changed", language=i18n.languages()[code].native_name)
    return [SlotSet(LANGUAGE_SLOT, code)]


def language_buttons() -> list[m.Button]:
    """Returns one button per supported language, titled in that language."""
    return [
        {"title": lang.native_name, "payload": f"/language {lang.code}"} for lang in i18n.languages().values()
    ]
