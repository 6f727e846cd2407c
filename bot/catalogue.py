"""The assignment and reflection catalogue (``catalogue.yml``) and how answers are read.

Parsing is pure: it turns the employee's text into a stored value or a reason
(a message id) to ask again. Languages are never listed here: words that need
a language (yes/no, "now") come from the NLU intent or the catalogs.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot import i18n

CATALOGUE = Path(__file__).resolve().parent / "catalogue.yml"
MIN_YEAR = 1950


@dataclass(frozen=True)
class Field:
    """One question of an assignment."""

    key: str
    type: str
    min: int = 0
    max: int = 100


@dataclass(frozen=True)
class Assignment:
    """One preparation assignment: its questions, and whether it is a list of entries."""

    key: str
    fields: tuple[Field, ...]
    repeat: bool = False
    functional: bool = False

    def field(self, key: str) -> Field:
        """Returns the field with this key."""
        return next(f for f in self.fields if f.key == key)


@dataclass(frozen=True)
class Catalogue:
    """All assignments and reflection prompt sets, with the catalogue's version."""

    version: int
    assignments: tuple[Assignment, ...]
    light_threshold: int
    floor: int
    reflection_sets: tuple[tuple[str, ...], ...] = field(default_factory=tuple)
    milestones: tuple[tuple[int, str], ...] = field(default_factory=tuple)

    def assignment(self, key: str | None) -> Assignment | None:
        """Returns the assignment with this key, or None."""
        return next((a for a in self.assignments if a.key == key), None)

    @property
    def keys(self) -> list[str]:
        """Returns the assignment keys in their order."""
        return [a.key for a in self.assignments]


@functools.cache
def catalogue() -> Catalogue:
    """Loads the catalogue once per process."""
    raw: dict[str, Any] = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))
    assignments = tuple(
        Assignment(
            key=a["key"],
            repeat=bool(a.get("repeat", False)),
            functional=bool(a.get("functional", False)),
            fields=tuple(Field(**f) for f in a["fields"]),
        )
        for a in raw["assignments"]
    )
    return Catalogue(
        version=int(raw["version"]),
        assignments=assignments,
        light_threshold=int(raw["self_assessment"]["light_threshold"]),
        floor=int(raw["self_assessment"]["floor"]),
        reflection_sets=tuple(tuple(s) for s in raw["reflection"]["sets"]),
        milestones=tuple(sorted((int(m["week"]), str(m["key"])) for m in raw.get("milestones", []))),
    )


class Invalid(ValueError):
    """An answer that does not fit; ``key`` is the message id that explains why."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


YEAR = re.compile(r"\b(19\d{2}|20\d{2})\b")
NUMBER = re.compile(r"-?\d+")


def ascii_digits(text: str) -> str:
    """Writes every decimal digit (Arabic-Indic ٢٠١٥, Persian, full-width) as 0–9."""
    return "".join(str(unicodedata.digit(c)) if c.isdigit() and not c.isascii() else c for c in text)


def parse(f: Field, text: str, intent: str | None, today: dt.date | None = None) -> Any:
    """Returns the value to store for an answer, or raises :class:`Invalid`."""
    today = today or dt.date.today()
    text = ascii_digits(text.strip())
    if f.type == "text":
        if len(text) < 2:
            raise Invalid("answer.invalid.text")
        if len(text) > 1000:
            raise Invalid("answer.invalid.too_long")
        return text
    if f.type == "list":
        items = [i.strip(" .-•*") for i in re.split(r"[,;\n/،]", text)]
        items = [i for i in items if len(i) >= 2]
        if not items:
            raise Invalid("answer.invalid.list")
        return items[:20]
    if f.type in ("number", "scale"):
        low, high = (1, 5) if f.type == "scale" else (f.min, f.max)
        match = NUMBER.search(text)
        if not match:
            raise Invalid(f"answer.invalid.{f.type}", min=low, max=high)
        value = int(match.group())
        if not low <= value <= high:
            raise Invalid(f"answer.invalid.{f.type}", min=low, max=high)
        return value
    if f.type == "year":
        years = YEAR.findall(text)
        if not years or not MIN_YEAR <= int(years[0]) <= today.year:
            raise Invalid("answer.invalid.year", max=today.year)
        return int(years[0])
    if f.type == "period":
        years = [int(y) for y in YEAR.findall(text)]
        if not years or any(not MIN_YEAR <= y <= today.year for y in years):
            raise Invalid("answer.invalid.period", max=today.year)
        start = years[0]
        end: int | str = years[1] if len(years) > 1 else "now"
        if isinstance(end, int) and end < start:
            raise Invalid("answer.invalid.period_order")
        return {"from": start, "to": end}
    if f.type == "yesno":
        if intent == "affirm":
            return True
        if intent == "deny":
            return False
        raise Invalid("answer.invalid.yesno")
    raise ValueError(f"unknown field type {f.type}")


def mentions_medical(text: str) -> bool:
    """Tells whether an answer names a diagnosis or treatment (every language's list)."""
    return i18n.matches_word_list(text, "medical_terms")


def self_assessment(values: dict[str, int]) -> dict[str, Any]:
    """Returns the score and the light/intensive advice from the seven criteria."""
    cat = catalogue()
    total = sum(int(v) for v in values.values())
    lowest = min((int(v) for v in values.values()), default=0)
    light = total >= cat.light_threshold and lowest >= cat.floor
    return {
        "score": total,
        "max": 5 * len(values),
        "advice": "light" if light else "intensive",
        "weak": sorted(k for k, v in values.items() if int(v) < cat.floor),
    }
