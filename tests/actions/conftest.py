"""Shared helpers for action tests: a Conversation drives the actions as Rasa would."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.assignments import ActionStartAssignments
from actions.questionnaire import ActionQuestionnaireDone, ValidateQuestionnaireForm
from actions.reflection import ActionStartReflection
from bot.db import Database
from bot.enrolment import redeem

SENDER = "rest:piet"


class Conversation:
    """Drives the actions the way Rasa would for one employee, keeping slots between turns."""

    def __init__(self) -> None:
        self.slots: dict[str, Any] = {}
        self.active_loop: str | None = None
        self.counter = 0
        self.messages: list[dict[str, Any]] = []

    def tracker(
        self,
        text: str,
        intent: str = "nlu_fallback",
        entities: dict[str, str] | None = None,
        confidence: float = 1.0,
    ) -> Tracker:
        self.counter += 1
        return Tracker(
            sender_id=SENDER,
            slots=dict(self.slots),
            latest_message={
                "text": text,
                "intent": {"name": intent, "confidence": confidence},
                "entities": [{"entity": k, "value": v} for k, v in (entities or {}).items()],
                "message_id": f"m{self.counter}",
            },
            events=[],
            paused=False,
            followup_action=None,
            active_loop={"name": self.active_loop} if self.active_loop else {},
            latest_action_name="action_listen",
        )

    async def run(self, action: Any, tracker: Tracker) -> tuple[list[dict[str, Any]], list[str]]:
        dispatcher = CollectingDispatcher()
        events = await action.run(
            dispatcher, tracker, {"forms": {"questionnaire_form": {"required_slots": ["answer"]}}}
        )
        for event in events:
            if event.get("event") == "slot":
                self.slots[event["name"]] = event["value"]
            if event.get("event") == "active_loop":
                self.active_loop = event["name"]
            if event == FollowupAction("questionnaire_form"):
                self.active_loop = "questionnaire_form"
        self.messages = dispatcher.messages  # the full messages of the last action (buttons, attachments)
        return events, [m["text"] for m in dispatcher.messages]

    async def start(self, intent: str = "start_assignments", text: str = "", **entities: str) -> list[str]:
        """Runs the action that starts a flow, as Rasa does for the intent."""
        from actions.applications import ActionLogApplication
        from actions.cv import ActionStartCv

        actions = {
            "start_assignments": ActionStartAssignments,
            "start_reflection": ActionStartReflection,
            "log_application": ActionLogApplication,
            "start_cv": ActionStartCv,
        }
        _, texts = await self.run(actions[intent](), self.tracker(text or f"/{intent}", intent, entities))
        return texts

    async def ask(self) -> list[str]:
        """What the form says when it runs with no new answer: at its start or back after an interruption.

        As in Rasa, that is the validation action called with nothing to validate.
        """
        tracker = self.tracker("")
        tracker.slots["requested_slot"] = "answer"
        events, texts = await self.run(ValidateQuestionnaireForm(), tracker)
        if any(e.get("event") == "slot" and e["name"] == "answer" and e["value"] == "done" for e in events):
            texts += await self.close()
        return texts

    async def close(self) -> list[str]:
        """What Rasa does when the form's slot is filled: the form ends and the rule closes the flow."""
        self.active_loop = None
        return (await self.run(ActionQuestionnaireDone(), self.tracker("")))[1]

    async def answer(
        self, text: str, intent: str = "nlu_fallback", entities: dict[str, str] | None = None
    ) -> tuple[Any, list[str]]:
        """Sends an answer through the form's validation; returns the slot value and messages.

        The messages end with the next question when the flow goes on (the
        validation action asks it).
        """
        tracker = self.tracker(text, intent, entities)
        tracker.slots["answer"] = text
        tracker.slots["requested_slot"] = "answer"
        # the form sends the slot it just extracted as an event; that is what gets validated
        tracker.events = [{"event": "slot", "name": "answer", "value": text}]
        events, texts = await self.run(ValidateQuestionnaireForm(), tracker)
        # the slot's last event is its value (the validation empties it, then fills it when the flow is done)
        value = next(
            (e["value"] for e in reversed(events) if e.get("event") == "slot" and e["name"] == "answer"),
            "missing",
        )
        if value == "done":
            texts += await self.close()
        return value, texts


@pytest.fixture
def talk(db: Database, people: dict[str, object]) -> Conversation:
    with db.session() as s, s.begin():
        redeem(s, SENDER, str(people["piet_code"]))
    return Conversation()
