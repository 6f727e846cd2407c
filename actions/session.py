"""Session start: carry over who the employee is, and summarise the session that ended.

A session ends after 30 quiet minutes (``session_config`` in the domain). The
summary of the ended session is written for the coach when the next one starts,
built from stored records (``bot/summaries.py``). This action says nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import EMPLOYEE_SLOT, LANGUAGE_SLOT, off_the_loop
from actions.runtime import database
from bot import enrolment
from bot.summaries import session_summary, store_summary

CARRIED = (EMPLOYEE_SLOT, LANGUAGE_SLOT)


def previous_session(events: list[dict[str, Any]]) -> tuple[float, float, list[str]] | None:
    """Returns (first, last user message time, intents) of the session in ``events``."""
    users = [e for e in events if e.get("event") == "user" and e.get("timestamp")]
    if not users:
        return None
    intents = [str((e.get("parse_data") or {}).get("intent", {}).get("name") or "") for e in users]
    return float(users[0]["timestamp"]), float(users[-1]["timestamp"]), intents


class ActionSessionStart(Action):
    """Starts a session, keeping the protected slots, and summarises the previous one."""

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Returns the session start, the carried slots and the listen."""
        return await off_the_loop(lambda: self._start(tracker))

    async def _start(self, tracker: Tracker) -> list[EventType]:
        events: list[EventType] = [SessionStarted()]
        events += [SlotSet(k, tracker.get_slot(k)) for k in CARRIED if tracker.get_slot(k) is not None]
        found = previous_session(tracker.events)
        if found is not None:
            first, last, intents = found
            with database().session() as session, session.begin():
                binding = enrolment.binding_for(session, tracker.sender_id)
                if binding is not None:
                    start = dt.datetime.fromtimestamp(first, dt.timezone.utc)
                    end = dt.datetime.fromtimestamp(last, dt.timezone.utc) + dt.timedelta(seconds=5)
                    text = session_summary(session, binding.employee_id, start, end, intents)
                    if text:
                        store_summary(
                            session, binding.employee_id, f"session:{tracker.sender_id}:{first}", text
                        )
        events.append(ActionExecuted("action_listen"))
        return events
