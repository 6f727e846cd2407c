"""Every sentence the code uses exists in every language, with the same placeholders."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from babel.messages.extract import extract_from_dir

from bot import ROOT, i18n
from bot.nlueval import parse_markup

KEYWORDS = {
    "say": (1,),
    "send": (3,),
    "text": (2,),
    "button": (2,),
    "t": (2,),
    "tn": (2,),
    "N_": None,
    "_": None,
}
METHODS = [
    ("bot/**.py", "python"),
    ("actions/**.py", "python"),
    ("bot/web/templates/**.html", "jinja2"),
]


def _used_ids() -> set[str]:
    ids: set[str] = set()
    for folder in ("bot", "actions"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder,
            method_map=[
                (pattern.split("/", 1)[1] if pattern.startswith(folder + "/") else pattern, m)
                for pattern, m in METHODS
                if pattern.startswith(folder + "/")
            ],
            keywords=KEYWORDS,
        ):
            ids.add(message if isinstance(message, str) else message[0])
    return ids


USED = _used_ids()
LANGS = sorted(i18n.languages())


def test_the_extractor_finds_the_code_messages() -> None:
    # guards the test itself: if extraction silently found nothing, the rest would pass vacuously
    assert {"enrol.unbound", "crisis.help_lines", "web.chat.send", "coach.login.title"} <= USED
    assert len(USED) > 60


def test_dutch_and_english_are_supported() -> None:
    assert {"nl", "en"} <= set(LANGS)
    assert i18n.resolve(None) == "nl"
    assert i18n.resolve("xx") == "nl"


@pytest.mark.parametrize("lang", LANGS)
def test_every_used_message_is_translated(lang: str) -> None:
    missing = sorted(USED - i18n.catalog_ids(lang))
    assert not missing, f"{lang} lacks {missing}"


@pytest.mark.parametrize("lang", LANGS)
def test_catalogs_hold_the_same_ids(lang: str) -> None:
    assert i18n.catalog_ids(lang) == i18n.catalog_ids("nl")


@pytest.mark.parametrize("lang", LANGS)
def test_placeholders_match_dutch(lang: str) -> None:
    for key in i18n.catalog_ids("nl"):
        expected = i18n.placeholders(_raw("nl", key))
        assert i18n.placeholders(_raw(lang, key)) == expected, f"{lang}:{key}"


def _raw(lang: str, key: str) -> str:
    value = i18n._catalog(lang)[key]
    return value if isinstance(value, str) else " ".join(value)


@pytest.mark.parametrize("lang", LANGS)
def test_every_language_has_a_crisis_net_and_the_help_lines(lang: str) -> None:
    assert len(i18n.crisis_keywords(lang)) >= 10
    lines = i18n.t(lang, "crisis.help_lines")
    for number in ("113", "0800-0113", "112"):
        assert number in lines


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ik zie het niet meer zitten", True),
        ("ik wil er een eind aan maken", True),
        ("I want to kill myself.", True),
        ("i want to END MY LIFE", True),
        ("Ik heb gisteren gesolliciteerd bij PostNL", False),
        ("I can't go on with this assignment today", False),
        ("ik ben doodmoe van het zoeken", False),
    ],
)
def test_crisis_net(text: str, expected: bool) -> None:
    assert i18n.is_crisis_text(text) is expected


def _training_lines() -> list[tuple[str, str, str]]:
    """(language, intent, text) of every NLU training example, entity markup removed."""
    lines = []
    for path in sorted((ROOT / "nlu" / "data" / "nlu").glob("*/*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu") or []:
            for line in str(block.get("examples") or "").splitlines():
                if line.strip().startswith("- ") and "intent" in block:
                    text, _ = parse_markup(line.strip()[2:])
                    lines.append((path.parent.name, block["intent"], text))
    return lines


TRAINING = _training_lines()


@pytest.mark.parametrize("lang", LANGS)
def test_the_net_catches_every_crisis_line_of_the_training_data(lang: str) -> None:
    """A phrasing we know to be a crisis never depends on the model alone (nor on its retraining).

    The exceptions are listed, with the reason, in ``crisis_left_to_the_model.txt``;
    a line that the net starts to catch leaves that list.
    """
    crisis = [t for code, intent, t in TRAINING if code == lang and intent == "crisis"]
    missed = {i18n._normalise(t) for t in crisis if not i18n.is_crisis_text(t)}
    assert len(crisis) >= 50
    assert missed == set(i18n.word_list(lang, "crisis_left_to_the_model"))
    assert len(missed) <= len(crisis) // 10


def test_the_net_leaves_every_other_training_line_alone() -> None:
    """Job talk, tiredness and stopping a questionnaire are not a crisis (in any language's net)."""
    wrong = [
        (code, intent, t) for code, intent, t in TRAINING if intent != "crisis" and i18n.is_crisis_text(t)
    ]
    assert len(TRAINING) > 10_000
    assert wrong == []


def test_dates_and_numbers_use_the_locale() -> None:
    day = dt.date(2026, 11, 12)
    assert i18n.format_date("nl", day) == "12 november 2026"
    assert i18n.format_date("en", day) == "November 12, 2026"
    assert i18n.format_number("nl", 1234.5) == "1.234,5"
    assert i18n.format_number("en", 1234.5) == "1,234.5"


def test_missing_key_falls_back_to_the_key() -> None:
    assert i18n.t("en", "no.such.key") == "no.such.key"


def test_no_language_is_named_outside_the_registry() -> None:
    """A language is data: no code outside ``bot/i18n.py`` spells a language code.

    Every string literal in bot/, actions/ and the Rasa extensions is checked
    against the codes of the supported languages (the registry finds them in
    locales/, so this test grows with every language added).
    """
    import ast

    codes = set(i18n.languages())
    found = []
    for folder in ("bot", "actions", "nlu/koers_rasa"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == ROOT / "bot" / "i18n.py" or "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in codes:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    assert not found, "\n".join(found)
