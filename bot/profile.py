"""The persoonsprofiel read back from stored assignment answers (employee, coach, export)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import i18n
from bot.catalogue import Assignment, Field, catalogue, self_assessment
from bot.models import AssignmentProgress


def rows(session: Session, employee_id: int) -> dict[str, AssignmentProgress]:
    """Returns the employee's assignment progress keyed by assignment."""
    found = session.scalars(select(AssignmentProgress).where(AssignmentProgress.employee_id == employee_id))
    return {r.assignment_key: r for r in found}


def assessment(progress: dict[str, AssignmentProgress]) -> dict[str, Any] | None:
    """Returns the self-check score and advice once the self-check is done."""
    row = progress.get("self_assessment")
    if row is None or row.status != "done":
        return None
    return self_assessment(row.answers.get("values", {}))


def show_value(lang: str, f: Field, value: Any) -> str:
    """Renders a stored answer for reading back."""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return i18n.t(lang, "button.yes") if value else i18n.t(lang, "button.no")
    if isinstance(value, dict) and "from" in value:
        end = i18n.t(lang, "assignment.now") if value["to"] == "now" else value["to"]
        return f"{value['from']} – {end}"
    return str(value)


def describe(lang: str, assignment: Assignment, row: AssignmentProgress) -> list[str]:
    """Returns readable lines of an assignment's answers (used by employee and coach)."""
    if assignment.repeat:
        lines = []
        for number, entry in enumerate(row.answers.get("entries", []), start=1):
            parts = [show_value(lang, f, entry[f.key]) for f in assignment.fields if f.key in entry]
            lines.append(f"{number}. " + " · ".join(parts))
        return lines
    values = row.answers.get("values", {})
    lines = [
        f"{i18n.t(lang, f'assignment.{assignment.key}.{f.key}.label')}: {show_value(lang, f, values[f.key])}"
        for f in assignment.fields
        if f.key in values
    ]
    if assignment.key == "self_assessment" and len(values) == len(assignment.fields):
        result = self_assessment(values)
        lines.append(
            i18n.t(lang, "assignment.self_assessment.score", score=result["score"], max=result["max"])
        )
    return lines


def profile(session: Session, employee_id: int, lang: str) -> list[dict[str, Any]]:
    """Returns every assignment with its status and readable answers."""
    progress = rows(session, employee_id)
    return [
        {
            "assignment": a.key,
            "title": i18n.t(lang, f"assignment.{a.key}.title"),
            "status": progress[a.key].status if a.key in progress else "not_started",
            "lines": describe(lang, a, progress[a.key]) if a.key in progress else [],
        }
        for a in catalogue().assignments
    ]
