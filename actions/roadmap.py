"""Flows that are announced in the menu but not open yet say so honestly."""

from __future__ import annotations

from typing import Any

from rasa_sdk.events import EventType

from actions import messages as m
from actions.base import KoersAction, Turn
from bot.i18n import N_

# intent → message id of the flow's name
FLOW_NAMES = {
    "start_cv": N_("menu.cv"),
    "log_application": N_("menu.log_application"),
    "update_application": N_("menu.log_application"),
    "show_progress": N_("menu.progress"),
}


class ActionNotOpenYet(KoersAction):
    """Says that this part of Koers is not open yet, and what is possible now."""

    def name(self) -> str:
        return "action_not_open_yet"

    async def act(self, turn: Turn, domain: dict[str, Any]) -> list[EventType]:
        flow = m.text(turn.lang, FLOW_NAMES.get(turn.intent or "", "menu.intro"))
        turn.say("roadmap.not_open_yet", flow=flow)
        turn.say("menu.intro", buttons=m.menu(turn.lang))
        return []
