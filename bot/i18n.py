"""The language registry and message catalogs: every user-visible sentence comes from here.

A language exists when ``locales/<code>/LC_MESSAGES/koers.po`` exists; nothing
else in the code lists languages. Message ids are symbolic keys (``greet.hello``);
placeholders use ``str.format`` names. Compiled ``.mo`` files are preferred and
built by ``make``; when one is missing or stale the ``.po`` is compiled in memory.
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from bot import ROOT

LOCALES = ROOT / "locales"
DOMAIN = "koers"
# the one place languages are named: the default, and the second language strangers are answered in
FALLBACK_LANGUAGE = "nl"
LINGUA_FRANCA = "en"


def N_(key: str) -> str:
    """Marks a message id for extraction where it is not translated on the spot."""
    return key


@dataclass(frozen=True)
class Language:
    """One supported language, described by its catalog and babel's locale data."""

    code: str
    native_name: str
    rtl: bool

    @property
    def direction(self) -> str:
        """Returns the HTML ``dir`` value."""
        return "rtl" if self.rtl else "ltr"


@functools.cache
def languages() -> dict[str, Language]:
    """Returns every language that has a catalog, keyed by ISO 639-1 code."""
    found: dict[str, Language] = {}
    for po in sorted(LOCALES.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        code = po.parent.parent.name
        locale = Locale.parse(code)
        name = locale.get_display_name(code) or code
        found[code] = Language(
            code=code,
            native_name=name[:1].upper() + name[1:],
            rtl=locale.character_order == "right-to-left",
        )
    return found


def is_supported(code: str | None) -> bool:
    """Tells whether ``code`` names a language with a catalog."""
    return bool(code) and code in languages()


def resolve(code: str | None) -> str:
    """Returns ``code`` when supported, else the fallback language."""
    if code and code in languages():
        return code
    return FALLBACK_LANGUAGE


@functools.cache
def _catalog(code: str) -> dict[str, str | tuple[str, ...]]:
    """Returns the id → translation map of one language."""
    po = LOCALES / code / "LC_MESSAGES" / f"{DOMAIN}.po"
    mo = po.with_suffix(".mo")
    if mo.is_file() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as handle:
            catalog = read_mo(handle)
    else:
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=code)
    out: dict[str, str | tuple[str, ...]] = {}
    for message in catalog:
        if not message.id or not message.string:
            continue
        key = message.id[0] if isinstance(message.id, tuple | list) else message.id
        out[str(key)] = tuple(message.string) if isinstance(message.string, tuple | list) else message.string
    return out


@functools.cache
def _plural_index(code: str) -> Callable[[int], int]:
    """Returns the language's plural rule as a function from count to form index."""
    po = LOCALES / code / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=code)
    return gettext.c2py(catalog.plural_expr)


def catalog_ids(code: str) -> set[str]:
    """Returns every message id a language translates."""
    return set(_catalog(code))


def _format(template: str, params: dict[str, object]) -> str:
    return template.format(**params) if params else template


def t(lang: str | None, key: str, **params: object) -> str:
    """Returns the sentence ``key`` in ``lang``, falling back to Dutch, then the key."""
    code = resolve(lang)
    for candidate in (code, FALLBACK_LANGUAGE):
        value = _catalog(candidate).get(key)
        if isinstance(value, tuple):
            value = value[0]
        if value:
            return _format(value, params)
    return key


def tn(lang: str | None, key: str, count: int, **params: object) -> str:
    """Returns the plural form of ``key`` for ``count`` in ``lang``."""
    code = resolve(lang)
    value = _catalog(code).get(key) or _catalog(FALLBACK_LANGUAGE).get(key)
    if value is None:
        return key
    if isinstance(value, str):
        return _format(value, {"count": count, **params})
    index = _plural_index(code if key in _catalog(code) else FALLBACK_LANGUAGE)(count)
    form = value[min(index, len(value) - 1)]
    return _format(form, {"count": format_number(lang, count), **params})


def format_date(lang: str | None, value: dt.date, style: str = "long") -> str:
    """Formats a date for the user's locale."""
    return babel_format_date(value, format=style, locale=resolve(lang))


def format_number(lang: str | None, value: float) -> str:
    """Formats a number for the user's locale."""
    return format_decimal(value, locale=resolve(lang))


PLACEHOLDER = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)}")


def placeholders(text: str) -> set[str]:
    """Returns the ``{name}`` placeholders in a sentence."""
    return set(PLACEHOLDER.findall(text))


@functools.cache
def word_list(code: str, name: str) -> tuple[str, ...]:
    """Returns the phrases of ``locales/<code>/<name>.txt`` (one per line, # comments)."""
    path = LOCALES / code / f"{name}.txt"
    if not path.is_file():
        return ()
    phrases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            phrases.append(_normalise(line))
    return tuple(phrases)


def crisis_keywords(code: str) -> tuple[str, ...]:
    """Returns the crisis keyword net of one language."""
    return word_list(code, "crisis_keywords")


def fold(text: str) -> str:
    """Lower-cases and drops accents and vowel marks, so spellings compare equal.

    "İNTİHAR" → "intihar", "zelfmoord" with or without an accent, Arabic with
    or without harakat, and أ / إ / آ as ا.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _normalise(text: str) -> str:
    text = fold(text).replace("’", "'")
    return " " + re.sub(r"[^\w']+", " ", text).strip() + " "


def matches_word_list(text: str, name: str) -> bool:
    """Tells whether any language's list ``name`` has a phrase in ``text`` (whole words)."""
    norm = _normalise(text)
    return any(phrase in norm for code in languages() for phrase in word_list(code, name))


def is_crisis_text(text: str) -> bool:
    """Tells whether any language's crisis net matches ``text``.

    Every language's net is checked, not only the user's: someone in distress
    may fall back to their first language.
    """
    return matches_word_list(text, "crisis_keywords")
