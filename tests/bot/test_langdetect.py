"""Language detection from Koers' own data: offers a switch only on clear evidence."""

from __future__ import annotations

import pytest

from bot import langdetect


@pytest.mark.parametrize(
    ("text", "current", "expected"),
    [
        ("I would like to know how many applications I still need this week", "nl", "en"),
        ("ik wil graag weten hoeveel sollicitaties ik nog moet doen deze week", "en", "nl"),
        ("ik wil graag weten hoeveel sollicitaties ik nog moet doen deze week", "nl", None),
        # short answers, names, numbers and commands are too weak to act on
        ("ok thanks", "nl", None),
        ("Gemeente Utrecht", "en", None),
        ("24 uur per week", "en", None),
        ("/language en", "nl", None),
    ],
)
def test_detects_only_clear_cases(text: str, current: str, expected: str | None) -> None:
    assert langdetect.detect(text, current) == expected


def test_profiles_come_from_the_catalogs_of_every_language() -> None:
    from bot import i18n

    assert set(langdetect.profiles()) == set(i18n.languages())
    assert all(p.total > 1000 for p in langdetect.profiles().values())
