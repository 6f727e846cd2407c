"""The CV as the employee builds it in conversation, assembled with the persoonsprofiel.

The ``cvs`` row keeps what only the CV needs (CV language, contact details,
profile text, skills, languages, driving licence, section order). Work history
and education are not stored twice: they are read from the preparation
assignments each time the CV is made, so a correction in the profile shows up
in the next CV. The flow's position lives in the same row (``_queue``: the
questions still to ask), so it resumes after a stop or a restart.

Downloads are signed, expiring links (``/cv/<token>``) that render the current
CV on request; the coach opens the same documents from the dashboard.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from typing import Any

from babel import Locale
from babel.lists import format_list
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import cvdoc, i18n
from bot.catalogue import Invalid, mentions_medical
from bot.models import CurriculumVitae, Employee
from bot.profile import rows

# the questions of the CV flow, in asking order (work history and education come from the profile)
STEPS = ("language", "place", "phone", "email", "profile_text", "skills", "languages", "driving_licence")
OPTIONAL = frozenset({"place", "phone", "email", "driving_licence"})
FORMATS = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
LINK_DAYS = 7
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)
PHONE = re.compile(r"^\+?[\d\s().-]{8,20}$")
LICENCES = re.compile(r"\b(AM|A1|A2|A|BE|B|C1E|C1|CE|C|D1E|D1|DE|D|T)\b")
MIN_PROFILE_TEXT = 30
MAX_TEXT = 1200


def get_cv(session: Session, employee_id: int) -> CurriculumVitae | None:
    """Returns the employee's CV row, if they started one."""
    return session.scalar(select(CurriculumVitae).where(CurriculumVitae.employee_id == employee_id))


def start_cv(session: Session, employee: Employee, lang: str) -> CurriculumVitae:
    """Creates the CV row with the employee's name, the chat language and every question queued."""
    row = CurriculumVitae(
        employee_id=employee.id,
        language=i18n.resolve(lang),
        sections={"personal": {"name": employee.name}, "order": list(cvdoc.SECTIONS), "_queue": list(STEPS)},
    )
    session.add(row)
    session.flush()
    return row


def queue(row: CurriculumVitae) -> list[str]:
    """Returns the questions still to ask."""
    return [str(s) for s in row.sections.get("_queue") or []]


def set_queue(row: CurriculumVitae, steps: list[str]) -> None:
    """Replaces the questions still to ask (a new dict, so the JSON column is written)."""
    row.sections = {**row.sections, "_queue": steps}


def profile_parts(session: Session, employee_id: int) -> dict[str, Any]:
    """Returns what the CV reuses from the persoonsprofiel."""
    progress = rows(session, employee_id)

    def entries(key: str) -> list[dict[str, Any]]:
        row = progress.get(key)
        return list(row.answers.get("entries", [])) if row is not None else []

    def values(key: str) -> dict[str, Any]:
        row = progress.get(key)
        return dict(row.answers.get("values", {})) if row is not None else {}

    return {
        "work_history": [
            {
                "employer": e.get("employer"),
                "role": e.get("role"),
                "period": e.get("period"),
                "tasks": e.get("tasks"),
            }
            for e in entries("work_history")
        ],
        "education": [
            {
                "name": e.get("name"),
                "institution": e.get("institution"),
                "diploma": e.get("diploma"),
                "year": e.get("year"),
            }
            for e in entries("education")
        ],
        "strengths": [str(s) for s in values("strengths").get("strengths", [])],
        "drivers": values("strengths").get("drivers"),
        "targets": [str(s) for s in values("wishes").get("kinds_of_work", [])],
        "sectors": [str(s) for s in values("wishes").get("sectors", [])],
    }


def scrub(entries: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """Blanks every text of profile entries that names a diagnosis or treatment; returns how many.

    The CV never carries health information, also not when it was typed into
    the work history of the persoonsprofiel ("aangepast werk na mijn hernia").
    """
    cleaned, removed = [], 0
    for entry in entries:
        kept = dict(entry)
        for key, value in entry.items():
            if isinstance(value, str) and mentions_medical(value):
                kept[key] = ""
                removed += 1
        cleaned.append(kept)
    return cleaned, removed


def document_data(session: Session, row: CurriculumVitae) -> dict[str, Any]:
    """Returns the CV as :mod:`bot.cvdoc` renders it: stored sections plus the profile's history.

    ``health_removed`` counts the profile texts left out because they name health.
    """
    parts = profile_parts(session, row.employee_id)
    stored = {k: v for k, v in row.sections.items() if not k.startswith("_")}
    work, removed_work = scrub(parts["work_history"])
    education, removed_education = scrub(parts["education"])
    data = cvdoc.normalise({**stored, "work_history": work, "education": education})
    data["health_removed"] = removed_work + removed_education
    return data


def render(session: Session, row: CurriculumVitae, fmt: str) -> tuple[bytes, str]:
    """Renders the CV as ``pdf`` or ``docx``; returns the bytes and the download name."""
    data = document_data(session, row)
    updated = row.updated_at.date() if row.updated_at else dt.date.today()
    content = (
        cvdoc.render_pdf(data, row.language, updated)
        if fmt == "pdf"
        else cvdoc.render_docx(data, row.language, updated)
    )
    return content, cvdoc.filename(data, row.language, fmt)


# --- suggestions for the profile text ---------------------------------------------------------------


def years_of_experience(work_history: list[dict[str, Any]], today: dt.date) -> int:
    """Adds up the years of the work periods (a period up to now ends this year)."""
    total = 0
    for entry in work_history:
        period = entry.get("period") or {}
        start = period.get("from")
        end = today.year if period.get("to") == "now" else period.get("to")
        if isinstance(start, int) and isinstance(end, int) and end >= start:
            total += max(1, end - start)
    return total


def suggestions(session: Session, employee_id: int, lang: str, today: dt.date | None = None) -> list[str]:
    """Returns two or three profile texts built from the profile, in the CV's language.

    Each is an opening (experience, motivation or a fresh start), the strengths
    from the assignments and the goal (target functions and sectors from the
    wishes). Written in CV shorthand, so they read well whatever the words are.
    """
    parts = profile_parts(session, employee_id)
    today = today or dt.date.today()
    code = i18n.resolve(lang)

    def joined(items: list[str], limit: int = 3) -> str:
        return format_list([i.strip() for i in items[:limit]], locale=code) if items else ""

    roles = [str(e["role"]) for e in parts["work_history"] if e.get("role")]
    years = years_of_experience(parts["work_history"], today)
    strengths = joined(parts["strengths"]) or i18n.t(lang, "cv.suggest.reliable")
    targets, sectors = joined(parts["targets"], 2), joined(parts["sectors"], 2)
    if targets and sectors:
        goal = i18n.t(lang, "cv.suggest.goal_sectors", targets=targets, sectors=sectors)
    elif targets:
        goal = i18n.t(lang, "cv.suggest.goal", targets=targets)
    else:
        goal = i18n.t(lang, "cv.suggest.goal_open")
    found = []
    if roles and years:
        found.append(i18n.t(lang, "cv.suggest.experience", role=roles[0], years=years, strengths=strengths))
    if roles:
        found.append(i18n.t(lang, "cv.suggest.motivated", role=roles[0]))
    else:
        found.append(i18n.t(lang, "cv.suggest.motivated_no_role"))
    found.append(i18n.t(lang, "cv.suggest.fresh", strengths=strengths))
    return [f"{text[:1].upper()}{text[1:]} {goal}" for text in found[:3]]


# --- reading answers -----------------------------------------------------------------------------------


def no_health(text: str) -> str:
    """Refuses text that names a diagnosis or treatment: a CV never carries health information."""
    if mentions_medical(text):
        raise Invalid("cv.no_health")
    return text


def read_language(text: str, entity: str | None) -> str:
    """Returns the CV language from a button (``language`` entity) or a typed language name."""
    if entity and i18n.is_supported(entity):
        return str(entity)
    typed = text.strip().lower()
    for code, language in i18n.languages().items():
        names = {code, language.native_name.lower()}
        names |= {Locale.parse(other).languages.get(code, "").lower() for other in i18n.languages()}
        if typed in names:
            return code
    raise Invalid("cv.invalid.language")


def read_phone(text: str) -> str:
    """Returns a phone number as typed, when it looks like one."""
    value = text.strip()
    if not PHONE.match(value) or sum(c.isdigit() for c in value) < 8:
        raise Invalid("cv.invalid.phone")
    return value


def read_email(text: str) -> str:
    """Returns an e-mail address, when it looks like one."""
    value = text.strip().strip("<>")
    if not EMAIL.match(value):
        raise Invalid("cv.invalid.email")
    return value


# Cyrillic and Greek letters that look like the Latin licence letters people mean
LOOKALIKES = str.maketrans("АВСЕМТДаевсмт", "ABCEMTDAEBCMT")


def read_licence(text: str) -> str:
    """Returns the licence categories named ("B", "B en C" → "B, C"; a Cyrillic "В" is a B)."""
    found = list(dict.fromkeys(LICENCES.findall(text.translate(LOOKALIKES).upper())))
    if not found:
        raise Invalid("cv.invalid.licence")
    return ", ".join(found)


def level_of(item: str, lang: str) -> str | None:
    """Returns the level a phrase names, in any supported language or as an English code.

    A word matches a level's label whole, or by a shared start of at least four
    letters ("basis" for "basiskennis", "fluent" for "vloeiend" in English).
    """
    languages = dict.fromkeys([lang, *i18n.languages()])  # the chat language first, then every other
    labels = {
        code: {code} | {i18n.t(x, key).lower() for x in languages} for code, key in cvdoc.LEVELS.items()
    }
    text = item.lower()
    words = re.findall(r"\w+", text)
    for code, names in labels.items():
        for name in names:
            if f" {name} " in f" {text} ":
                return code
            if any(len(w) >= 4 and (name.startswith(w) or w.startswith(name)) for w in words):
                return code
    return None


@functools.cache
def separators() -> str:
    """Returns the pattern that splits a list: commas (also Arabic), semicolons, lines, and "and".

    The word "and" of every supported language comes from CLDR's list patterns
    ("{0} en {1}", "{0} ve {1}"); a conjunction written onto the next word
    (Arabic "و") is left alone, Arabic lists use "،".
    """
    words = set()
    for code in i18n.languages():
        pattern = Locale.parse(code).list_patterns["standard"].get("2", "")
        middle = pattern.replace("{0}", "\0").replace("{1}", "\1")
        between = middle.partition("\0")[2].partition("\1")[0]
        if between.startswith(" ") and between.endswith(" ") and between.strip(" ,"):
            words.add(re.escape(between.strip(" ,")))
    conjunctions = "".join(f"| {w} " for w in sorted(words))
    return rf"[,;\n،؛]+{conjunctions}"


def read_languages(text: str, lang: str) -> list[dict[str, str]]:
    """Reads "Nederlands moedertaal, Engels goed" into languages with a level each."""
    found = []
    for item in re.split(separators(), text):
        item = " ".join(item.split()).strip(" .:-")
        if not item:
            continue
        level = level_of(item, lang)
        if level is None:
            raise Invalid("cv.invalid.languages")
        name = item.split()[0].strip(" .:-()")
        if len(name) < 2 or level_of(name, lang) is not None:
            raise Invalid("cv.invalid.languages")
        found.append({"language": name[:1].upper() + name[1:], "level": level})
    if not found:
        raise Invalid("cv.invalid.languages")
    return found[:10]


def read_text(text: str, minimum: int = 2) -> str:
    """Returns free text of sensible length, without health information."""
    value = " ".join(text.split()) if "\n" not in text else text.strip()
    if len(value) < minimum:
        raise Invalid("cv.invalid.short")
    if len(value) > MAX_TEXT:
        raise Invalid("cv.invalid.long", max=MAX_TEXT)
    return no_health(value)


# --- signed download links ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Download:
    """What a valid download link gives access to."""

    employee_id: int
    fmt: str


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="koers-cv-download")


def download_token(secret: str, employee_id: int, fmt: str) -> str:
    """Returns a signed token for one CV format of one employee."""
    return _serializer(secret).dumps({"e": employee_id, "f": fmt})


def read_token(secret: str, token: str, max_age_days: int = LINK_DAYS) -> Download | None:
    """Returns what a token gives access to; None when forged, malformed or expired."""
    try:
        data = _serializer(secret).loads(token, max_age=max_age_days * 86400)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict) or data.get("f") not in FORMATS or not isinstance(data.get("e"), int):
        return None
    return Download(employee_id=int(data["e"]), fmt=str(data["f"]))
