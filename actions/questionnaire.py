"""One Rasa form, ``questionnaire_form``, runs every question-and-answer flow.

The assignments and the reflection are data (``catalogue.yml``); a flow object
knows its next question and how to store an answer. The form has one slot,
``answer``: each valid answer is written to the database at once and the slot
is emptied, so the form asks the next question. Because the position lives in
the database, a flow resumes exactly where it was — after ``stop``, days later,
or after a restart — and one set of interruption rules serves every flow.

The validation action also asks the next question (there is no
``action_ask_answer`` in the domain, so Rasa's form asks nothing itself and
sends what the validation returned). A form turn is therefore one call to the
action server, and starting a flow two (the starting action, then the form),
instead of one more each for a separate ask action. Under load every call
queues behind every other conversation's calls, so this is what keeps the
slow end of the turn times down (``make bench``, 100 conversations at once).
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from typing import Any, Protocol

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions import messages as m
from actions.base import KoersAction, Turn, gate, off_the_loop, stop_turn
from actions.runtime import database
from bot.catalogue import Invalid

FORM = "questionnaire_form"
ANSWER_SLOT = "answer"
REQUESTED_SLOT = "requested_slot"
FLOW_SLOT = "flow"
DONE = "done"


@dataclass
class Question:
    """The next thing to ask: a message id, its parameters and any buttons."""

    key: str
    params: dict[str, object] = field(default_factory=dict)
    buttons: list[m.Button] = field(default_factory=list)
    note: str | None = None  # a short line before the question (progress, intro)


class Flow(Protocol):
    """A question-and-answer flow stored in Koers' tables."""

    def question(self, session: Session, turn: Turn) -> Question | None:
        """Returns the question to ask now, or None when the flow is finished."""

    def answer(self, session: Session, turn: Turn, text: str) -> None:
        """Stores an answer to the current question or raises Invalid."""

    def finish(self, session: Session, turn: Turn) -> None:
        """Closes the flow: the closing message, the summary, signals, reminders."""

    def claims(self, session: Session, turn: Turn) -> bool:
        """Tells whether a message the NLU gave another intent is really the answer now.

        ("Dutch native, English fluent" looks like ``change_language`` but answers
        the CV's question about languages.)
        """


def flow_for(name: str | None, employee_id: int) -> Flow | None:
    """Returns the flow object a ``flow`` slot value names."""
    from actions.applications import FLOW as APPLICATION
    from actions.applications import ApplicationFlow
    from actions.assignments import AssignmentFlow
    from actions.cv import FLOW as CV
    from actions.cv import CvFlow
    from actions.reflection import ReflectionFlow

    if not name:
        return None
    kind, _, arg = name.partition(":")
    if kind == "assignment":
        return AssignmentFlow.for_key(arg)
    if kind == "reflection":
        return ReflectionFlow()
    if kind == APPLICATION:
        return ApplicationFlow()
    if kind == CV:
        return CvFlow()
    return None


def start(flow: str) -> list[EventType]:
    """Returns the events that start (or resume) a flow in the form."""
    from rasa_sdk.events import FollowupAction

    return [SlotSet(FLOW_SLOT, flow), SlotSet(ANSWER_SLOT, None), FollowupAction(FORM)]


# intents that may stop a form; a few words at a free-text question are an answer all the same
# ("medewerker" is a job title, not a request to contact the coach)
CLAIMABLE = frozenset(
    {
        "start_reflection",
        "start_assignments",
        "start_cv",
        "contact_coach",
        "show_progress",
        "show_my_data",
        "change_language",
        "log_application",
        "update_application",
    }
)
SHORT_ANSWER_WORDS = 3
# below this, the NLU is guessing: at a free-text question the message is the answer
UNSURE = 0.6


def short_answer(turn: Turn) -> bool:
    """Tells whether a typed message the NLU read as an interruption is likely the answer.

    It is when it is a few words ("medewerker"), or when the NLU was unsure of
    the interruption (a long free-text answer that happens to mention data or
    a job). A clear request ("ik wil mijn cv maken") still interrupts; crisis,
    stop and help are never claimed.
    """
    text = turn.text.strip()
    if text.startswith("/") or (turn.intent or "") not in CLAIMABLE:
        return False
    return len(text.split()) <= SHORT_ANSWER_WORDS or turn.confidence < UNSURE


def answer_instead(turn: Turn) -> list[EventType] | None:
    """Takes an interrupting message as the running flow's answer when the flow claims it.

    Returns None when the flow does not claim it (the interruption goes on as
    usual). Otherwise the answer is stored (or refused with its reason); the
    rule's next step, the form, then asks the next question. When that was the
    last question, the flow is closed here and the turn ends.
    """
    if turn.tracker.active_loop_name != FORM:
        return None
    flow = flow_for(turn.tracker.get_slot(FLOW_SLOT), turn.employee_id)
    if flow is None:
        return None
    with database().session() as session, session.begin():
        if not flow.claims(session, turn):
            return None
        try:
            flow.answer(session, turn, turn.text)
        except Invalid as bad:
            turn.dispatcher.utter_message(text=m.text(turn.lang, bad.key, **bad.params))
            return []
        if flow.question(session, turn) is not None:
            return []
        flow.finish(session, turn)
    return stop_turn(
        [
            ActiveLoop(None),
            SlotSet(FLOW_SLOT, None),
            SlotSet(ANSWER_SLOT, None),
            SlotSet(REQUESTED_SLOT, None),
        ]
    )


STOP_CONFIDENCE = 0.9
STOP_MAX_WORDS = 4


def wants_to_stop(tracker: Tracker) -> bool:
    """Tells whether the message is a clear, short request to stop (not an answer)."""
    intent = tracker.latest_message.get("intent") or {}
    text = str(tracker.latest_message.get("text") or "")
    return (
        intent.get("name") == "stop"
        and float(intent.get("confidence") or 0) >= STOP_CONFIDENCE
        and len(text.split()) <= STOP_MAX_WORDS
    )


_TURN: contextvars.ContextVar[Turn] = contextvars.ContextVar("questionnaire_turn")


class ValidateQuestionnaireForm(FormValidationAction):
    """Checks each answer, stores it, and tells the form whether more questions follow."""

    def name(self) -> str:
        return f"validate_{FORM}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Runs the safety gate before any answer is read (in a worker thread, like every action)."""
        return await off_the_loop(lambda: self._gated(dispatcher, tracker, domain))

    async def _gated(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        turn, events = gate(dispatcher, tracker)
        if turn is None:
            return events
        if wants_to_stop(tracker):
            turn.say("stop.paused", buttons=m.menu(turn.lang))
            return [*events, ActiveLoop(None), SlotSet(ANSWER_SLOT, None), SlotSet(REQUESTED_SLOT, None)]
        _TURN.set(turn)  # this run's own context: concurrent runs never see each other's turn
        validated = await super().run(dispatcher, tracker, domain)
        answer = next(
            (
                e["value"]
                for e in reversed(validated)
                if e.get("event") == "slot" and e.get("name") == ANSWER_SLOT
            ),
            tracker.get_slot(ANSWER_SLOT),
        )
        if answer is None:
            validated += ask(turn)
        return events + validated

    async def validate_answer(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Stores a valid answer; on a bad one explains why.

        Either way the slot is emptied: :func:`ask` then asks the next (or the
        same) question, or fills the slot with ``done`` when the flow has none left.
        """
        if value is None or value == DONE:
            # the slot being cleared (when a flow starts) is not an answer
            return {ANSWER_SLOT: value}
        turn = _TURN.get()
        flow = flow_for(tracker.get_slot(FLOW_SLOT), turn.employee_id)
        if flow is not None:
            text = value if isinstance(value, str) else str(value)
            with database().session() as session, session.begin():
                try:
                    flow.answer(session, turn, text)
                except Invalid as bad:
                    dispatcher.utter_message(text=m.text(turn.lang, bad.key, **bad.params))
        return {ANSWER_SLOT: None}


def ask(turn: Turn) -> list[EventType]:
    """Asks the running flow's current question; when there is none, fills the slot so the form ends.

    The validation action asks, not an ``action_ask_answer``: Rasa's form then
    finds no ask action and sends what the validation returned. One call to
    the action server per form turn instead of two (see the module docstring).
    """
    flow = flow_for(turn.tracker.get_slot(FLOW_SLOT), turn.employee_id)
    if flow is None:
        return [SlotSet(ANSWER_SLOT, DONE)]
    with database().session() as session, session.begin():
        question = flow.question(session, turn)
    if question is None:
        return [SlotSet(ANSWER_SLOT, DONE)]
    if question.note:
        turn.say(question.note)
    turn.say(question.key, buttons=question.buttons, **question.params)
    return []


class ActionQuestionnaireDone(KoersAction):
    """Closes a finished flow and clears the form's slots."""

    def name(self) -> str:
        return "action_questionnaire_done"

    async def act(self, turn: Turn, domain: dict[str, Any]) -> list[EventType]:
        flow = flow_for(turn.tracker.get_slot(FLOW_SLOT), turn.employee_id)
        if flow is not None:
            with database().session() as session, session.begin():
                if flow.question(session, turn) is None:
                    flow.finish(session, turn)
        return [SlotSet(FLOW_SLOT, None), SlotSet(ANSWER_SLOT, None)]
