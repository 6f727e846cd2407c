"""Finds the date an employee mentions in a chat message, in the employee's own language.

Used when an employee logs a job application ("ik heb gisteren gesolliciteerd bij PostNL",
"vorige dinsdag", "12 november", "last Tuesday", "on 3 Nov"). :func:`parse_date` is the only
public function.

No language is listed in this module; the words come from data:

* month and weekday names: babel's CLDR data for the locale (wide and abbreviated, format and
  stand-alone), plus every prefix of at least three letters of a month name that names only
  that month ("sept", "febr");
* "N days ago", "N weeks ago": CLDR's relative-time patterns in babel ("{0} dagen geleden",
  "vor {0} Tagen", "{0} dni temu");
* "today", "yesterday", "the day before yesterday", "last Tuesday": CLDR's relative day words.
  Babel does not carry them (it keeps only the relative-time patterns), so they are asked from
  the system's ICU library, which holds the same CLDR data, when one is installed;
* what people really type and CLDR lacks ("vorige dinsdag", "gister", "twee weken geleden"):
  the optional file ``locales/<code>/date_words.yml``, described below.

So a new language needs no code: babel knows its months, weekdays and "N days ago", ICU its
"yesterday", and ``locales/<code>/date_words.yml`` may add colloquial words.

Decisions:

* A bare weekday ("dinsdag", "on Tuesday") is the most recent such day on or before today: said
  on a Tuesday, "dinsdag" is today. "Vorige/afgelopen dinsdag", "last Tuesday" is the most
  recent such day strictly before today. "Dinsdag vorige week" is that weekday in the previous
  calendar week, weeks starting on the locale's first day of the week.
* Numeric dates are day-first in every language, English included ("12/11" is 12 November):
  this is a Dutch product. A number that only makes sense month-first ("11/25") is no date. ISO
  dates ("2026-11-12") are year-first. Two-digit years are 20xx (19xx when that would be more
  than 20 years ahead). A dot separates a numeric date only with a year or a closing dot
  ("12.11.2026", "12.11."), so times and decimals ("10.30", "3.5") are no dates.
* A month name may follow the day ("12 nov", "1st of March") in every language, and precede it
  ("Nov 12th, 2026") in languages whose CLDR long or medium date format is month-first.
* A date without a year is the most recent such date on or before today ("28 december" said on
  25 November 2026 is 28 December 2025); with a year it is taken as written, also in the future:
  the caller decides what is allowed.
* Only the past and today are read from relative words: "morgen" also means "morning".
* Impossible dates ("31 februari") are no date. A weekday right next to a calendar date
  ("dinsdag 12 november") only qualifies it. When a message still mentions two different dates,
  there is no one date and the answer is None, so that the bot asks.

``locales/<code>/date_words.yml`` (every key optional; words are matched case- and
accent-insensitively, dots after letters ignored; ``{0}`` stands for a weekday or a number)::

    relative_days:            # phrase: days from today (0 today, -1 yesterday, -2 ...)
      gisteren: -1
    last_weekday:             # the most recent such weekday strictly before today
      - vorige {0}
    weekday_of_last_week:     # that weekday in the previous calendar week
      - "{0} vorige week"
    days_ago: ["{0} dagen terug"]    # {0} is a number in digits or a word from numbers
    weeks_ago: ["{0} weken terug"]
    numbers: {een: 1, twee: 2}       # number words for days_ago, weeks_ago and CLDR's patterns
    weekdays: {tues: 2}              # more weekday spellings, ISO number (1 Monday .. 7 Sunday)
    months: {sept: 9}                # more month spellings, 1 .. 12
    joiners: [of]                    # words between day, month and year: "1st of March"

A file for a regional code (``en_GB``) is looked up first, then the language's (``en``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from babel import Locale, UnknownLocaleError
from babel.dates import get_day_names, get_month_names

from bot.i18n import FALLBACK_LANGUAGE, LOCALES

__all__ = ["parse_date"]

WORDS_FILE = "date_words.yml"
# CLDR relative-time fields whose past patterns say "N days ago"; the value is days per unit
AGO_FIELDS = {"day": 1, "day-short": 1, "day-narrow": 1, "week": 7, "week-short": 7, "week-narrow": 7}
# the shortest month-name prefix accepted ("sep" for "september")
MIN_PREFIX = 3
# how far back a year-less "29 februari" may go to find a year where it exists
LEAP_SEARCH_YEARS = 8

# A weekday phrase's kind: "weekday" (on or before today), "last" (strictly before today),
# "week" (in the previous calendar week); "days" phrases carry a day offset instead.
Phrase = tuple[str, int]

_NUMERIC = re.compile(
    r"(?<![\w/.-])(?:"
    r"(?P<iy>\d{4})(?P<isep>[-/.])(?P<im>\d{1,2})(?P=isep)(?P<id>\d{1,2})"
    r"|(?P<d>\d{1,2})(?P<sep>[-/.])(?P<m>\d{1,2})(?:(?P=sep)(?P<y>\d{4}|\d{2}))?(?P<dot>\.)?"
    r")(?![\w/-]|\.\d)"
)
_LETTER_DOT = re.compile(r"(?<=[^\W\d_])\.")
_LOOSE_COMMA = re.compile(r",(?!\d)")
_NEVER = "(?!)"


@dataclass(frozen=True)
class _Vocabulary:
    """One language's date words, folded, and the regexes built from them."""

    months: dict[str, int]
    phrases: dict[str, Phrase]
    numbers: dict[str, int]
    ago_days: tuple[int, ...]
    first_week_day: int
    named: re.Pattern[str]
    relative: re.Pattern[str]
    ago: re.Pattern[str]


@dataclass(frozen=True)
class _Mention:
    """A stretch of the folded text that names a date (``value`` None when impossible)."""

    start: int
    end: int
    value: dt.date | None
    kind: str  # "calendar" for written dates, else the phrase kind ("days", "weekday", ...)

    def overlaps(self, other: _Mention) -> bool:
        """Tells whether the two mentions share any character."""
        return self.start < other.end and other.start < self.end


def parse_date(text: str, lang: str, today: dt.date) -> dt.date | None:
    """Finds the one date an employee mentions in free text, in their language; None when there is none."""
    vocabulary = _vocabulary(_locale_code(lang), LOCALES)
    folded = _fold(text)
    mentions = [
        *_numeric_dates(folded, today),
        *_named_dates(folded, vocabulary, today),
        *_ago_dates(folded, vocabulary, today),
        *_relative_dates(folded, vocabulary, today),
    ]
    kept: list[_Mention] = []
    for mention in sorted(mentions, key=lambda m: (m.start - m.end, m.start)):
        if not any(mention.overlaps(other) for other in kept):
            kept.append(mention)
    calendar = [m for m in kept if m.kind == "calendar"]
    values = {
        m.value
        for m in kept
        if m.value is not None
        and not (m.kind == "weekday" and any(_adjacent(m, c, folded) for c in calendar))
    }
    return values.pop() if len(values) == 1 else None


def _adjacent(first: _Mention, second: _Mention, folded: str) -> bool:
    """Tells whether only spaces separate two mentions ("dinsdag 12 november")."""
    left, right = sorted((first, second), key=lambda m: m.start)
    return not folded[left.end : right.start].strip()


def _numeric_dates(folded: str, today: dt.date) -> Iterator[_Mention]:
    """Yields the day-first and ISO numeric dates ("12-11", "12/11/26", "2026-11-12")."""
    for match in _NUMERIC.finditer(folded):
        if match["iy"]:
            value = _date(int(match["iy"]), int(match["im"]), int(match["id"]))
        elif match["sep"] == "." and not (match["y"] or match["dot"]):
            continue  # a time or a decimal: "10.30", "3.5"
        elif match["y"]:
            value = _date(_full_year(match["y"], today), int(match["m"]), int(match["d"]))
        else:
            value = _most_recent(int(match["m"]), int(match["d"]), today)
        yield _Mention(match.start(), match.end(), value, "calendar")


def _named_dates(folded: str, vocabulary: _Vocabulary, today: dt.date) -> Iterator[_Mention]:
    """Yields the dates written with a month name ("12 nov", "1st of March 2026", "Nov 12th")."""
    for match in vocabulary.named.finditer(folded):
        groups = match.groupdict()  # m2, d2 and y2 exist only in month-first languages
        month = vocabulary.months[groups["m"] or groups["m2"]]
        day = int(groups["d"] or groups["d2"])
        year = groups["y"] or groups.get("y2")
        value = _date(int(year), month, day) if year else _most_recent(month, day, today)
        yield _Mention(match.start(), match.end(), value, "calendar")


def _ago_dates(folded: str, vocabulary: _Vocabulary, today: dt.date) -> Iterator[_Mention]:
    """Yields "N days ago" and "N weeks ago" in the language's own patterns."""
    for match in vocabulary.ago.finditer(folded):
        group = match.lastgroup or ""
        count = match[group]
        number = int(count) if count.isdigit() else vocabulary.numbers[count]
        days = number * vocabulary.ago_days[int(group.removeprefix("n"))]
        value = today - dt.timedelta(days=days) if days <= today.toordinal() - 1 else None
        yield _Mention(match.start(), match.end(), value, "days")


def _relative_dates(folded: str, vocabulary: _Vocabulary, today: dt.date) -> Iterator[_Mention]:
    """Yields relative day words ("gisteren") and weekdays ("dinsdag", "last Tuesday")."""
    for match in vocabulary.relative.finditer(folded):
        kind, number = vocabulary.phrases[match[0]]
        if kind == "days":
            value = today + dt.timedelta(days=number)
        elif kind == "weekday":
            value = today - dt.timedelta(days=(today.weekday() - number) % 7)
        elif kind == "last":
            value = today - dt.timedelta(days=(today.weekday() - number) % 7 or 7)
        else:  # "week": that weekday in the previous calendar week
            week_start = today - dt.timedelta(days=(today.weekday() - vocabulary.first_week_day) % 7 + 7)
            value = week_start + dt.timedelta(days=(number - vocabulary.first_week_day) % 7)
        yield _Mention(match.start(), match.end(), value, kind)


def _date(year: int, month: int, day: int) -> dt.date | None:
    """Returns the date, or None when it does not exist ("31 februari")."""
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _most_recent(month: int, day: int, today: dt.date) -> dt.date | None:
    """Returns the most recent ``day month`` on or before today, or None when it never exists."""
    for year in range(today.year, today.year - LEAP_SEARCH_YEARS, -1):
        value = _date(year, month, day)
        if value is not None and value <= today:
            return value
    return None


def _full_year(digits: str, today: dt.date) -> int:
    """Reads a two- or four-digit year; "26" is 2026, unless that is over 20 years ahead."""
    year = int(digits)
    if len(digits) > 2:
        return year
    return 2000 + year if 2000 + year <= today.year + 20 else 1900 + year


def _fold(text: str) -> str:
    """Lowercases, drops accents, dots after letters ("okt.") and loose commas, squeezes spaces."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = _LOOSE_COMMA.sub(" ", _LETTER_DOT.sub(" ", text))
    return " ".join(text.split())


def _locale_code(lang: str) -> str:
    """Returns babel's name for ``lang``, or the fallback language when babel does not know it."""
    try:
        return str(Locale.parse((lang or "").strip().replace("-", "_")))
    except (UnknownLocaleError, ValueError, TypeError):
        return FALLBACK_LANGUAGE


@functools.cache
def _vocabulary(code: str, locales: Path) -> _Vocabulary:
    """Builds (once per language) the words and regexes of one locale."""
    locale = Locale.parse(code)
    extra = _date_words(code, locales)
    numbers = {_fold(str(word)): int(value) for word, value in (extra.get("numbers") or {}).items()}
    months = _month_words(locale, extra)
    phrases = _phrases(locale, extra)
    templates = [(template, days) for template, days in _ago_templates(locale, extra) if "{0}" in template]
    number = "|".join([r"\d{1,5}", *map(re.escape, sorted(numbers, key=len, reverse=True))])
    ago = "|".join(
        re.escape(template).replace(re.escape("{0}"), f"(?P<n{index}>{number})")
        for index, (template, _days) in enumerate(templates)
    )
    return _Vocabulary(
        months=months,
        phrases=phrases,
        numbers=numbers,
        ago_days=tuple(days for _template, days in templates),
        first_week_day=locale.first_week_day,
        named=_named_pattern(months, _folded_list(extra.get("joiners")), _month_first(locale)),
        relative=re.compile(rf"(?<!\w)(?:{_alternation(phrases)})(?!\w)"),
        ago=re.compile(rf"(?<!\w)(?:{ago or _NEVER})(?!\w)"),
    )


def _named_pattern(months: Iterable[str], joiners: list[str], month_first: bool) -> re.Pattern[str]:
    """Compiles the regex of dates with a month name: day-first, and month-first where CLDR writes so.

    ``joiners`` may stand between day, month and year ("1st of March", "3 de marzo de 2026").
    """
    month = _alternation(months)
    joiner = rf"(?:(?:{_alternation(joiners)}) )?" if joiners else ""
    ordinal = r"(?:[^\W\d_]{1,3})?"  # "1st", "3e", "2nd", "1ste": any short suffix glued to the day
    day_first = rf"(?P<d>\d{{1,2}}){ordinal}\.? ?{joiner}(?P<m>{month})(?: {joiner}(?P<y>\d{{4}}))?"
    month_first_pattern = rf"(?P<m2>{month}) ?(?P<d2>\d{{1,2}}){ordinal}(?: {joiner}(?P<y2>\d{{4}}))?"
    body = f"{day_first}|{month_first_pattern}" if month_first else day_first
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)")


def _alternation(words: Iterable[str]) -> str:
    """Returns a regex alternation of literal words, longest first; one that never matches if empty."""
    return "|".join(map(re.escape, sorted(words, key=len, reverse=True))) or _NEVER


def _month_first(locale: Locale) -> bool:
    """Tells whether the locale writes its long or medium dates month before day ("Nov 12, 2026")."""
    for style in ("long", "medium"):
        pattern = str(locale.date_formats[style].pattern)
        if "M" in pattern and "d" in pattern and pattern.index("M") < pattern.index("d"):
            return True
    return False


def _month_words(locale: Locale, extra: dict[str, Any]) -> dict[str, int]:
    """Returns every spelling of every month: CLDR names, their unambiguous prefixes, the file's own."""
    names: dict[str, int] = {}
    wide: dict[str, int] = {}
    for width in ("wide", "abbreviated"):
        for context in ("format", "stand-alone"):
            for month, name in get_month_names(width, context, locale).items():
                folded = _fold(name)
                if folded:
                    names.setdefault(folded, month)
                    if width == "wide":
                        wide[folded] = month
    prefixes: dict[str, set[int]] = {}
    for name, month in wide.items():
        for end in range(MIN_PREFIX, len(name)):
            prefixes.setdefault(name[:end], set()).add(month)
    for prefix, found in prefixes.items():
        if len(found) == 1 and prefix not in names and not any(c.isspace() for c in prefix):
            names[prefix] = found.pop()
    names.update({_fold(str(word)): int(month) for word, month in (extra.get("months") or {}).items()})
    return names


def _phrases(locale: Locale, extra: dict[str, Any]) -> dict[str, Phrase]:
    """Returns every relative phrase: weekdays, "yesterday", "last Tuesday", "Tuesday last week"."""
    weekdays: dict[str, int] = {}
    for context in ("format", "stand-alone"):
        for weekday, name in get_day_names("wide", context, locale).items():
            weekdays[_fold(name)] = weekday
    for word, iso in (extra.get("weekdays") or {}).items():
        weekdays[_fold(str(word))] = int(iso) - 1
    phrases: dict[str, Phrase] = {name: ("weekday", weekday) for name, weekday in weekdays.items()}
    phrases.update(_icu_relative_words(str(locale)))
    for key, kind in (("last_weekday", "last"), ("weekday_of_last_week", "week")):
        for template in _folded_list(extra.get(key)):
            phrases.update({template.replace("{0}", name): (kind, day) for name, day in weekdays.items()})
    for word, offset in (extra.get("relative_days") or {}).items():
        phrases[_fold(str(word))] = ("days", int(offset))
    phrases.pop("", None)
    return phrases


def _ago_templates(locale: Locale, extra: dict[str, Any]) -> list[tuple[str, int]]:
    """Returns the folded "{0} days ago" templates: CLDR's past relative-time patterns, the file's own."""
    templates: dict[str, int] = {}
    fields = locale._data["date_fields"]  # babel has no public accessor; format_timedelta reads it too
    for field, days in AGO_FIELDS.items():
        past = fields.get(field, {}).get("past", {})
        for plural in past:
            templates.setdefault(_fold(past[plural]), days)
    for key, days in (("days_ago", 1), ("weeks_ago", 7)):
        for template in _folded_list(extra.get(key)):
            templates.setdefault(template, days)
    return list(templates.items())


def _folded_list(value: Any) -> list[str]:
    """Returns a word list from the words file, folded; nothing when absent."""
    return [_fold(str(item)) for item in value or ()]


def _date_words(code: str, locales: Path) -> dict[str, Any]:
    """Reads ``locales/<code>/date_words.yml`` (or the language's, for a regional code); {} if none."""
    for candidate in dict.fromkeys((code, code.split("_")[0])):
        path = locales / candidate / WORDS_FILE
        if path.is_file():
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            if not isinstance(data, dict):
                raise ValueError(f"{path}: expected a mapping of word lists")
            return data
    return {}


# ICU's C API for CLDR's relative day words (unicode/ureldatefmt.h); babel lacks this data.
_ICU_STYLE_LONG = 0  # UDAT_STYLE_LONG
_ICU_NO_CAPITALIZATION = 0x100  # UDISPCTX_CAPITALIZATION_NONE
_ICU_UNIT_DAY = 4  # UDAT_REL_UNIT_DAY
_ICU_UNIT_SUNDAY = 8  # UDAT_REL_UNIT_SUNDAY; Monday .. Saturday follow
_ICU_CAPACITY = 128


@functools.cache
def _icu() -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]] | None:
    """Returns ICU's ureldatefmt open, format and close functions, or None when ICU is not installed."""
    name = ctypes.util.find_library("icui18n")
    if name is None:
        return None
    try:
        library = ctypes.CDLL(name)
    except OSError:
        return None
    major = name.partition(".so.")[2].split(".")[0]  # symbols carry the version: ureldatefmt_open_72
    for suffix in dict.fromkeys((f"_{major}" if major else "", "")):
        try:
            open_ = getattr(library, f"ureldatefmt_open{suffix}")
            format_ = getattr(library, f"ureldatefmt_format{suffix}")
            close = getattr(library, f"ureldatefmt_close{suffix}")
        except AttributeError:
            continue
        status = ctypes.POINTER(ctypes.c_int)
        open_.restype = ctypes.c_void_p
        open_.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, status]
        format_.restype = ctypes.c_int32
        format_.argtypes = [ctypes.c_void_p, ctypes.c_double, ctypes.c_int, ctypes.c_void_p, ctypes.c_int32]
        format_.argtypes += [status]
        close.restype = None
        close.argtypes = [ctypes.c_void_p]
        return open_, format_, close
    return None


def _icu_relative_words(code: str) -> dict[str, Phrase]:
    """Returns CLDR's words for today, yesterday, the day before and "last <weekday>", from ICU."""
    functions = _icu()
    if functions is None:
        return {}
    open_, format_, close = functions
    status = ctypes.c_int(0)
    formatter = open_(code.encode(), None, _ICU_STYLE_LONG, _ICU_NO_CAPITALIZATION, ctypes.byref(status))
    if status.value > 0 or not formatter:
        return {}

    def say(offset: int, unit: int) -> str:
        """Formats one relative unit, e.g. -1 day → "gisteren"; "" on error."""
        buffer = ctypes.create_string_buffer(2 * _ICU_CAPACITY)
        status = ctypes.c_int(0)
        length = format_(formatter, float(offset), unit, buffer, _ICU_CAPACITY, ctypes.byref(status))
        if status.value > 0 or not 0 < length <= _ICU_CAPACITY:
            return ""
        return _fold(buffer.raw[: 2 * length].decode("utf-16-le"))

    try:
        words: dict[str, Phrase] = {say(offset, _ICU_UNIT_DAY): ("days", offset) for offset in (0, -1, -2)}
        for weekday in range(7):
            words[say(-1, _ICU_UNIT_SUNDAY + (weekday + 1) % 7)] = ("last", weekday)
    finally:
        close(formatter)
    # "2 days ago" where CLDR has no word of its own: the relative-time patterns cover that
    return {word: phrase for word, phrase in words.items() if word and not any(c.isdigit() for c in word)}
