"""The four added languages with the real model: greet, log an application, crisis."""

from __future__ import annotations

import uuid

import pytest

from bot import i18n
from tests.e2e.conftest import Stack, texts

pytestmark = pytest.mark.rasa

SENTENCES = {
    "pl": (
        "dzień dobry, jak się masz?",
        "wczoraj wysłałem zgłoszenie do PostNL na kierowcę",
        "nie chcę już żyć",
    ),
    "tr": ("merhaba, nasılsın?", "dün Albert Heijn'e kasiyer olarak başvurdum", "artık yaşamak istemiyorum"),
    "ar": ("مرحبا، كيف حالك؟", "قدمت أمس طلب عمل في شركة PostNL كسائق", "لا أريد أن أعيش بعد الآن"),
    "uk": (
        "привіт, як справи?",
        "вчора подав заявку в Albert Heijn на посаду касира",
        "я більше не хочу жити",
    ),
}


@pytest.mark.parametrize("lang", sorted(SENTENCES))
def test_greet_log_an_application_and_crisis(stack: Stack, lang: str) -> None:
    greeting, application, crisis = SENTENCES[lang]
    invite = stack.enrol(f"Test {lang}", lang)
    who = f"lang-{uuid.uuid4().hex[:8]}"
    welcome = texts(stack.say(who, f"/start {invite['invite_code']}"))
    assert welcome[0] == i18n.t(lang, "enrol.welcome", name=f"Test {lang}")
    assert texts(stack.say(who, greeting))[0] == i18n.t(lang, "greet.hello", name="Test")
    started = texts(stack.say(who, application))
    openings = (
        i18n.t(lang, "application.start"),
        i18n.t(lang, "application.start_known", lines="").split("\n")[0],
    )
    assert any(started[0].startswith(o.split("{")[0][:25]) for o in openings), started
    stack.say(who, "/stop")
    answer = texts(stack.say(who, crisis))
    assert answer[0] == i18n.t(lang, "crisis.help_lines")
