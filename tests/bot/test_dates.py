"""The date an employee mentions when logging a job application, in Dutch, English and beyond."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from babel.dates import format_date
from hypothesis import given
from hypothesis import strategies as st

from bot import dates
from bot.dates import parse_date

WEDNESDAY = dt.date(2026, 11, 25)
MONDAY = dt.date(2026, 11, 23)
NEW_YEAR = dt.date(2027, 1, 1)  # a Friday


def d(month: int, day: int, year: int = 2026) -> dt.date:
    """Shortens the expected dates of the table."""
    return dt.date(year, month, day)


CASES: list[tuple[str, str, dt.date, dt.date | None]] = [
    # Dutch, said on Wednesday 25 November 2026
    ("nl", "Ik heb gisteren gesolliciteerd bij PostNL", WEDNESDAY, d(11, 24)),
    ("nl", "vandaag nog een brief gestuurd naar de gemeente", WEDNESDAY, d(11, 25)),
    ("nl", "eergisteren bij Albert Heijn langs geweest", WEDNESDAY, d(11, 23)),
    ("nl", "Gister gebeld met Randstad", WEDNESDAY, d(11, 24)),
    ("nl", "GISTERAVOND het formulier ingevuld", WEDNESDAY, d(11, 24)),
    ("nl", "3 dagen geleden gesolliciteerd als magazijnmedewerker", WEDNESDAY, d(11, 22)),
    ("nl", "twee weken geleden bij de bibliotheek", WEDNESDAY, d(11, 11)),
    ("nl", "een week geleden heb ik een mail gestuurd", WEDNESDAY, d(11, 18)),
    ("nl", "5 dagen terug een open sollicitatie", WEDNESDAY, d(11, 20)),
    ("nl", "dinsdag gesolliciteerd bij Jumbo", WEDNESDAY, d(11, 24)),
    ("nl", "woensdag", WEDNESDAY, d(11, 25)),
    ("nl", "vorige woensdag bij de Hema", WEDNESDAY, d(11, 18)),
    ("nl", "afgelopen maandag", WEDNESDAY, d(11, 23)),
    ("nl", "zondag online gesolliciteerd", WEDNESDAY, d(11, 22)),
    ("nl", "Vrijdag vorige week heb ik gebeld", WEDNESDAY, d(11, 20)),
    ("nl", "vorige week dinsdag", WEDNESDAY, d(11, 17)),
    ("nl", "op 12 november gesolliciteerd", WEDNESDAY, d(11, 12)),
    ("nl", "12 nov bij Action", WEDNESDAY, d(11, 12)),
    ("nl", "Op 3 okt. een brief gestuurd", WEDNESDAY, d(10, 3)),
    ("nl", "15 sept een gesprek gehad", WEDNESDAY, d(9, 15)),
    ("nl", "4 mrt gesolliciteerd", WEDNESDAY, d(3, 4)),
    ("nl", "op de 3e november", WEDNESDAY, d(11, 3)),
    ("nl", "28 december", WEDNESDAY, d(12, 28, 2025)),
    ("nl", "op 12 december 2026 heb ik een gesprek", WEDNESDAY, d(12, 12)),
    ("nl", "1 januari 2026", WEDNESDAY, d(1, 1)),
    ("nl", "29 februari", WEDNESDAY, d(2, 29, 2024)),
    ("nl", "Dinsdag 10 november gesolliciteerd", WEDNESDAY, d(11, 10)),
    ("nl", "gesolliciteerd op 12-11", WEDNESDAY, d(11, 12)),
    ("nl", "op 12/11/26 bij Action", WEDNESDAY, d(11, 12)),
    ("nl", "12-11-2026", WEDNESDAY, d(11, 12)),
    ("nl", "12.11.2026 verstuurd", WEDNESDAY, d(11, 12)),
    ("nl", "ingeschreven op 2026-11-12", WEDNESDAY, d(11, 12)),
    ("nl", "31 februari", WEDNESDAY, None),
    ("nl", "3 sollicitaties verstuurd", WEDNESDAY, None),
    ("nl", "ik werk 40 uur per week", WEDNESDAY, None),
    ("nl", "om 10.30 een gesprek", WEDNESDAY, None),
    ("nl", "op 13/25", WEDNESDAY, None),
    ("nl", "bel me op 06-12345678", WEDNESDAY, None),
    ("nl", "ik heb een goede dag gehad", WEDNESDAY, None),
    ("nl", "gisteren bij PostNL en op 3 november bij DHL", WEDNESDAY, None),
    # English, said on Wednesday 25 November 2026
    ("en", "I applied at Tesco yesterday", WEDNESDAY, d(11, 24)),
    ("en", "sent my CV today", WEDNESDAY, d(11, 25)),
    ("en", "the day before yesterday", WEDNESDAY, d(11, 23)),
    ("en", "3 days ago", WEDNESDAY, d(11, 22)),
    ("en", "a week ago I called them", WEDNESDAY, d(11, 18)),
    ("en", "2 weeks ago", WEDNESDAY, d(11, 11)),
    ("en", "two weeks ago at the garden centre", WEDNESDAY, d(11, 11)),
    ("en", "on Tuesday", WEDNESDAY, d(11, 24)),
    ("en", "on Wednesday", WEDNESDAY, d(11, 25)),
    ("en", "Last Tuesday I applied online", WEDNESDAY, d(11, 24)),
    ("en", "last Wednesday", WEDNESDAY, d(11, 18)),
    ("en", "tues", WEDNESDAY, d(11, 24)),
    ("en", "Friday last week", WEDNESDAY, d(11, 20)),
    ("en", "I applied on 3 Nov", WEDNESDAY, d(11, 3)),
    ("en", "November 12th", WEDNESDAY, d(11, 12)),
    ("en", "applied Nov 12, 2026 at DHL", WEDNESDAY, d(11, 12)),
    ("en", "on the 1st of March", WEDNESDAY, d(3, 1)),
    ("en", "12th November 2025", WEDNESDAY, d(11, 12, 2025)),
    ("en", "on Sept. 30", WEDNESDAY, d(9, 30)),
    ("en", "December 28", WEDNESDAY, d(12, 28, 2025)),
    ("en", "on 12/11", WEDNESDAY, d(11, 12)),
    ("en", "applied on 2026-11-12", WEDNESDAY, d(11, 12)),
    ("en", "hours 40", WEDNESDAY, None),
    ("en", "I sent 3 applications", WEDNESDAY, None),
    ("en", "31 February", WEDNESDAY, None),
    ("en", "nothing much happened", WEDNESDAY, None),
    # said on Monday 23 November 2026
    ("nl", "maandag", MONDAY, d(11, 23)),
    ("nl", "vorige maandag", MONDAY, d(11, 16)),
    ("nl", "zaterdag", MONDAY, d(11, 21)),
    ("nl", "maandag vorige week", MONDAY, d(11, 16)),
    ("en", "last Monday", MONDAY, d(11, 16)),
    ("en", "Sunday last week", MONDAY, d(11, 22)),
    # said on Friday 1 January 2027: the year rolls back
    ("nl", "gisteren", NEW_YEAR, d(12, 31)),
    ("nl", "31 december", NEW_YEAR, d(12, 31)),
    ("nl", "2 januari", NEW_YEAR, d(1, 2)),
    ("nl", "1 januari", NEW_YEAR, d(1, 1, 2027)),
    ("nl", "3 dagen geleden", NEW_YEAR, d(12, 29)),
    ("nl", "op 30-12", NEW_YEAR, d(12, 30)),
    ("en", "Dec 30th", NEW_YEAR, d(12, 30)),
    ("en", "last Friday", NEW_YEAR, d(12, 25)),
    ("en", "2 weeks ago", NEW_YEAR, d(12, 18)),
]


@pytest.mark.parametrize(("lang", "text", "today", "expected"), CASES)
def test_sentences(lang: str, text: str, today: dt.date, expected: dt.date | None) -> None:
    """Each real-looking sentence gives its one date, or none."""
    assert parse_date(text, lang, today) == expected


SENTENCES = {"nl": "ik heb op {} gesolliciteerd", "en": "I applied on {} at Tesco"}


@given(
    today=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31)),
    days_back=st.integers(min_value=0, max_value=364),
    lang=st.sampled_from(sorted(SENTENCES)),
    style=st.sampled_from(["long", "medium"]),
)
def test_babel_formats_parse_back(today: dt.date, days_back: int, lang: str, style: str) -> None:
    """What babel writes as a date ("12 november 2026", "Nov 12, 2026") reads back as that date."""
    day = today - dt.timedelta(days=days_back)
    text = format_date(day, style, locale=lang)
    assert parse_date(text, lang, today) == day
    assert parse_date(SENTENCES[lang].format(text), lang, today) == day


def test_a_language_without_words_file_reads_cldr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a date_words.yml, German and Polish month names and "N days ago" still work."""
    monkeypatch.setattr(dates, "LOCALES", tmp_path)
    assert parse_date("Ich habe mich am 3. März beworben", "de", WEDNESDAY) == d(3, 3)
    assert parse_date("Bewerbung vom 12.11.2026", "de", WEDNESDAY) == d(11, 12)
    assert parse_date("vor 2 Tagen", "de", WEDNESDAY) == d(11, 23)
    assert parse_date("am Dienstag", "de", WEDNESDAY) == d(11, 24)
    assert parse_date("aplikowałem 12 listopada", "pl", WEDNESDAY) == d(11, 12)
    assert parse_date("3 dni temu", "pl", WEDNESDAY) == d(11, 22)


@pytest.mark.skipif(dates._icu() is None, reason="no ICU library for CLDR's relative day words")
def test_a_language_without_words_file_knows_yesterday() -> None:
    """CLDR's own "yesterday" and "last Tuesday" come from ICU for any language."""
    assert parse_date("Ich habe mich gestern beworben", "de", WEDNESDAY) == d(11, 24)
    assert parse_date("letzten Dienstag", "de", WEDNESDAY) == d(11, 24)
    assert parse_date("wczoraj wysłałem CV", "pl", WEDNESDAY) == d(11, 24)
    assert parse_date("przedwczoraj", "pl", WEDNESDAY) == d(11, 23)


def test_words_file_extends_a_language_without_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Dropping a date_words.yml into locales/<code>/ teaches the parser new words."""
    (tmp_path / "empty").mkdir()
    monkeypatch.setattr(dates, "LOCALES", tmp_path / "empty")
    assert parse_date("dwa dni temu", "pl", WEDNESDAY) is None
    (tmp_path / "pl").mkdir()
    (tmp_path / "pl" / dates.WORDS_FILE).write_text(
        "numbers: {dwa: 2}\nrelative_days: {wczoraj wieczorem: -1}\nlast_weekday: ['zeszły {0}']\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(dates, "LOCALES", tmp_path)
    assert parse_date("dwa dni temu", "pl", WEDNESDAY) == d(11, 23)
    assert parse_date("wczoraj wieczorem", "pl", WEDNESDAY) == d(11, 24)
    assert parse_date("zeszły wtorek", "pl", WEDNESDAY) == d(11, 24)


def test_dutch_and_english_work_without_their_words_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without any date_words.yml, CLDR alone still reads names, numbers and "N days ago"."""
    monkeypatch.setattr(dates, "LOCALES", tmp_path)
    assert parse_date("12 november", "nl", WEDNESDAY) == d(11, 12)
    assert parse_date("3 dagen geleden", "nl", WEDNESDAY) == d(11, 22)
    assert parse_date("Nov 12th", "en", WEDNESDAY) == d(11, 12)
    assert parse_date("dinsdag", "nl", WEDNESDAY) == d(11, 24)


@pytest.mark.parametrize(
    ("lang", "text", "expected"),
    [
        ("xx", "gisteren", d(11, 24)),  # unknown to babel: Dutch
        ("", "12 november", d(11, 12)),
        ("en-GB", "tues", d(11, 24)),  # a regional code uses its language's words file
        ("en_GB", "12 Sept", d(9, 12)),
        ("nl_BE", "vorige dinsdag", d(11, 24)),
    ],
)
def test_language_codes(lang: str, text: str, expected: dt.date) -> None:
    """Regional codes fall back to their language's words; unknown codes to Dutch."""
    assert parse_date(text, lang, WEDNESDAY) == expected
