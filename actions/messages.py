"""The one place that turns message ids into what the user sees."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from bot import i18n
from bot.i18n import N_

Button = dict[str, str]

# the main menu: (message id of the label, payload that the button sends)
MENU: tuple[tuple[str, str], ...] = (
    (N_("menu.assignments"), "/start_assignments"),
    (N_("menu.reflection"), "/start_reflection"),
    (N_("menu.cv"), "/start_cv"),
    (N_("menu.log_application"), "/log_application"),
    (N_("menu.progress"), "/show_progress"),
    (N_("menu.coach"), "/contact_coach"),
)


def text(lang: str | None, key: str, **params: object) -> str:
    """Returns one localized sentence."""
    return i18n.t(lang, key, **params)


def button(lang: str | None, key: str, payload: str) -> Button:
    """Returns a button with a localized title."""
    return {"title": i18n.t(lang, key), "payload": payload}


def menu(lang: str | None) -> list[Button]:
    """Returns the main menu as buttons."""
    return [button(lang, key, payload) for key, payload in MENU]


def yes_no(lang: str | None) -> list[Button]:
    """Returns the yes / no buttons."""
    return [button(lang, "button.yes", "/affirm"), button(lang, "button.no", "/deny")]


def send(
    dispatcher: CollectingDispatcher,
    lang: str | None,
    key: str,
    *,
    buttons: list[Button] | None = None,
    **params: object,
) -> None:
    """Sends one localized message, with buttons if given."""
    dispatcher.utter_message(text=i18n.t(lang, key, **params), buttons=buttons or [])
