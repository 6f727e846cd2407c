"""The preparation assignments that build the persoonsprofiel (``start_assignments``).

State per assignment lives in ``assignment_progress``: the answers, the step
being asked and the status. A list assignment (work history, education) keeps
``entries`` plus the ``draft`` being filled; a plain one keeps ``values``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rasa_sdk.events import ActiveLoop, EventType
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions import messages as m
from actions.base import KoersAction, Turn, stop_turn
from actions.questionnaire import Question, short_answer, start
from actions.runtime import database
from bot import i18n
from bot.catalogue import Assignment, Field, Invalid, catalogue, mentions_medical, parse, self_assessment
from bot.models import AssignmentProgress, Summary
from bot.profile import describe, rows

MORE = "more"


def payload(**entities: object) -> str:
    """Returns a button payload for ``start_assignments`` with entities."""
    import json

    return "/start_assignments" + (json.dumps(entities, separators=(",", ":")) if entities else "")


def get_row(session: Session, employee_id: int, key: str) -> AssignmentProgress:
    """Returns the progress row of one assignment, creating it at its first question."""
    row = session.scalar(
        select(AssignmentProgress).where(
            AssignmentProgress.employee_id == employee_id, AssignmentProgress.assignment_key == key
        )
    )
    if row is None:
        assignment = catalogue().assignment(key)
        assert assignment is not None
        row = AssignmentProgress(
            employee_id=employee_id,
            assignment_key=key,
            catalogue_version=catalogue().version,
            status="in_progress",
            current_step=assignment.fields[0].key,
            answers={"entries": [], "draft": {}} if assignment.repeat else {"values": {}},
        )
        session.add(row)
        session.flush()
    return row


def done_count(progress: dict[str, AssignmentProgress]) -> int:
    """Counts the finished assignments."""
    return sum(1 for r in progress.values() if r.status == "done")


@dataclass
class AssignmentFlow:
    """One assignment run through the questionnaire form."""

    assignment: Assignment

    @classmethod
    def for_key(cls, key: str) -> AssignmentFlow | None:
        """Returns the flow of an assignment key, or None for an unknown key."""
        assignment = catalogue().assignment(key)
        return cls(assignment) if assignment else None

    def question(self, session: Session, turn: Turn) -> Question | None:
        """Returns the question of the current step, with progress and buttons."""
        row = get_row(session, turn.employee_id, self.assignment.key)
        step = row.current_step
        if step is None:
            return None
        key = self.assignment.key
        if step == MORE:
            return Question(
                f"assignment.{key}.more",
                buttons=m.yes_no(turn.lang),
                params={"count": len(row.answers["entries"])},
            )
        f = self.assignment.field(step)
        position = [x.key for x in self.assignment.fields].index(step) + 1
        buttons: list[m.Button] = []
        if f.type == "scale":
            buttons = [{"title": str(n), "payload": str(n)} for n in range(1, 6)]
        elif f.type == "yesno":
            buttons = m.yes_no(turn.lang)
        return Question(
            f"assignment.{key}.{f.key}",
            buttons=buttons,
            note=i18n.t(turn.lang, "assignment.step", n=position, total=len(self.assignment.fields))
            if position == 1 or f.type != "scale"
            else None,
        )

    def answer(self, session: Session, turn: Turn, text: str) -> None:
        """Stores the answer to the current step and moves to the next one."""
        row = get_row(session, turn.employee_id, self.assignment.key)
        answers = dict(row.answers)
        fields = [f.key for f in self.assignment.fields]
        step = row.current_step
        if step is None:
            return
        if step == MORE:
            more = parse(Field(MORE, "yesno"), text, turn.intent)
            row.current_step = fields[0] if more else None
            row.answers = answers
            return
        f = self.assignment.field(step)
        value = parse(f, text, turn.intent)
        if self.assignment.functional and isinstance(value, str | list) and mentions_medical(str(value)):
            raise Invalid("assignment.functional_only")
        if self.assignment.repeat:
            draft = {**answers.get("draft", {}), step: value}
            following = [k for k in fields if k not in draft]
            if following:
                answers["draft"] = draft
                row.current_step = following[0]
            else:
                entries = list(answers.get("entries", []))
                editing = answers.get("editing")
                if isinstance(editing, int) and 0 <= editing < len(entries):
                    entries[editing] = draft
                else:
                    entries.append(draft)
                answers.update(entries=entries, draft={}, editing=None)
                row.current_step = MORE
        else:
            values = {**answers.get("values", {}), step: value}
            answers["values"] = values
            following = [k for k in fields if k not in values]
            row.current_step = None if answers.pop("edit_only", False) or not following else following[0]
        row.answers = answers  # a new dict, so the JSON column is written

    def claims(self, session: Session, turn: Turn) -> bool:
        """Takes a few words at a text or list question as the answer ("medewerker")."""
        row = get_row(session, turn.employee_id, self.assignment.key)
        step = row.current_step
        if step is None or step == MORE:
            return False
        return self.assignment.field(step).type in ("text", "list") and short_answer(turn)

    def finish(self, session: Session, turn: Turn) -> None:
        """Marks the assignment done, reads the answers back and offers what is next."""
        row = get_row(session, turn.employee_id, self.assignment.key)
        row.status = "done"
        key = self.assignment.key
        progress = rows(session, turn.employee_id)
        total = len(catalogue().assignments)
        turn.say("assignment.done", title=i18n.t(turn.lang, f"assignment.{key}.title"))
        lines = describe(turn.lang, self.assignment, row)
        if lines:
            turn.say("assignment.readback", lines="\n".join(lines))
        write_summary(session, turn, self.assignment, row)
        turn.say(
            "assignment.progress",
            buttons=next_buttons(turn.lang, progress, key),
            done=done_count(progress),
            total=total,
        )


def write_summary(session: Session, turn: Turn, assignment: Assignment, row: AssignmentProgress) -> None:
    """Stores a readable summary of the finished assignment for the coach."""
    from bot.summaries import coach_language

    lang = coach_language(session, turn.employee_id)
    title = i18n.t(lang, f"assignment.{assignment.key}.title")
    text = (
        i18n.t(lang, "summary.assignment_done", title=title)
        + "\n"
        + "\n".join(describe(lang, assignment, row))
    )
    if assignment.key == "self_assessment":
        result = self_assessment(row.answers.get("values", {}))
        text += "\n" + i18n.t(lang, f"summary.advice.{result['advice']}")
    key = f"assignment:{row.id}:{row.updated_at.isoformat() if row.updated_at else ''}:{turn.message_id}"
    if session.scalar(select(Summary.id).where(Summary.session_key == key)) is None:
        session.add(Summary(employee_id=turn.employee_id, session_key=key, language=lang, text=text))


def next_buttons(lang: str, progress: dict[str, AssignmentProgress], current: str | None) -> list[m.Button]:
    """Returns buttons for the next open assignment, changing answers, and the profile."""
    buttons: list[m.Button] = []
    open_ = [
        a for a in catalogue().assignments if progress.get(a.key) is None or progress[a.key].status != "done"
    ]
    if open_:
        buttons.append(
            {
                "title": i18n.t(
                    lang, "assignment.button.next", title=i18n.t(lang, f"assignment.{open_[0].key}.title")
                ),
                "payload": payload(assignment=open_[0].key),
            }
        )
    if current:
        buttons.append(
            {
                "title": i18n.t(lang, "assignment.button.change"),
                "payload": payload(assignment=current, op="review"),
            }
        )
    buttons.append(
        {"title": i18n.t(lang, "assignment.button.profile"), "payload": payload(assignment="profile")}
    )
    return buttons


class ActionStartAssignments(KoersAction):
    """Starts, resumes, reviews or corrects an assignment, or shows the overview."""

    interrupts_forms = True

    def name(self) -> str:
        return "action_start_assignments"

    async def act(self, turn: Turn, domain: dict[str, Any]) -> list[EventType]:
        events = self._act(turn)
        if any(isinstance(e, dict) and e.get("event") == "followup" for e in events):
            return events
        # no questionnaire starts: the turn ends here (the rule would start the form)
        paused: list[EventType] = [ActiveLoop(None)] if turn.tracker.active_loop_name else []
        return stop_turn(paused + events)

    def _act(self, turn: Turn) -> list[EventType]:
        key = turn.entity("assignment")
        op = turn.entity("op")
        with database().session() as session, session.begin():
            progress = rows(session, turn.employee_id)
            if key == "profile":
                show_profile(turn, progress)
                return []
            assignment = catalogue().assignment(key)
            if assignment is None:
                current = next((r for r in progress.values() if r.status != "done"), None)
                if current is None:
                    return overview(turn, progress)
                assignment = catalogue().assignment(current.assignment_key)
                assert assignment is not None
                turn.say("assignment.resume", title=i18n.t(turn.lang, f"assignment.{assignment.key}.title"))
                return start(f"assignment:{assignment.key}")
            row = progress.get(assignment.key)
            if op == "review" and row is not None:
                return review(turn, assignment, row)
            if op in ("edit", "remove") and row is not None:
                return change(turn, assignment, row, op, turn.entity("field"), turn.entity("entry"))
            if row is None:
                turn.say(f"assignment.{assignment.key}.intro")
                get_row(session, turn.employee_id, assignment.key)
            elif row.status == "done" and assignment.repeat:
                row.status, row.current_step = "in_progress", assignment.fields[0].key
            elif row.status == "done":
                return review(turn, assignment, row)
            else:
                turn.say("assignment.resume", title=i18n.t(turn.lang, f"assignment.{assignment.key}.title"))
        return start(f"assignment:{assignment.key}")


def overview(turn: Turn, progress: dict[str, AssignmentProgress]) -> list[EventType]:
    """Shows how many assignments are done and a button for each."""
    total = len(catalogue().assignments)
    turn.say("assignment.overview", done=done_count(progress), total=total)
    buttons = []
    for a in catalogue().assignments:
        row = progress.get(a.key)
        mark = "✓ " if row is not None and row.status == "done" else ""
        buttons.append(
            {
                "title": mark + i18n.t(turn.lang, f"assignment.{a.key}.title"),
                "payload": payload(assignment=a.key),
            }
        )
    buttons.append(
        {"title": i18n.t(turn.lang, "assignment.button.profile"), "payload": payload(assignment="profile")}
    )
    turn.say("assignment.choose", buttons=buttons)
    return []


def review(turn: Turn, assignment: Assignment, row: AssignmentProgress) -> list[EventType]:
    """Reads the answers back with a button to change each one (or entry)."""
    lines = describe(turn.lang, assignment, row)
    turn.say("assignment.readback", lines="\n".join(lines) or "–")
    buttons: list[m.Button] = []
    if assignment.repeat:
        for number, entry in enumerate(row.answers.get("entries", []), start=1):
            first = str(entry.get(assignment.fields[0].key, number))
            buttons.append(
                {
                    "title": i18n.t(turn.lang, "assignment.button.edit_entry", n=number, name=first),
                    "payload": payload(assignment=assignment.key, op="edit", entry=str(number)),
                }
            )
            buttons.append(
                {
                    "title": i18n.t(turn.lang, "assignment.button.remove_entry", n=number, name=first),
                    "payload": payload(assignment=assignment.key, op="remove", entry=str(number)),
                }
            )
        buttons.append(
            {
                "title": i18n.t(turn.lang, "assignment.button.add"),
                "payload": payload(assignment=assignment.key),
            }
        )
    else:
        for f in assignment.fields:
            buttons.append(
                {
                    "title": i18n.t(
                        turn.lang,
                        "assignment.button.edit_field",
                        field=i18n.t(turn.lang, f"assignment.{assignment.key}.{f.key}.label"),
                    ),
                    "payload": payload(assignment=assignment.key, op="edit", field=f.key),
                }
            )
    turn.say("assignment.what_to_change", buttons=buttons)
    return []


def change(
    turn: Turn, assignment: Assignment, row: AssignmentProgress, op: str, field: str | None, entry: str | None
) -> list[EventType]:
    """Re-asks one answer or entry, or removes an entry."""
    answers = dict(row.answers)
    if assignment.repeat:
        entries = list(answers.get("entries", []))
        try:
            index = int(entry or "") - 1
        except ValueError:
            index = -1
        if not 0 <= index < len(entries):
            turn.say("assignment.no_such_entry")
            return review(turn, assignment, row)
        if op == "remove":
            removed = entries.pop(index)
            answers["entries"] = entries
            row.answers = answers
            turn.say("assignment.removed", name=str(removed.get(assignment.fields[0].key, "")))
            return review(turn, assignment, row)
        answers.update(editing=index, draft={})
        row.answers = answers
        row.current_step = assignment.fields[0].key
        return start(f"assignment:{assignment.key}")
    if field not in [f.key for f in assignment.fields]:
        return review(turn, assignment, row)
    answers["edit_only"] = True
    row.answers = answers
    row.current_step = field
    return start(f"assignment:{assignment.key}")


def show_profile(turn: Turn, progress: dict[str, AssignmentProgress]) -> None:
    """Shows the persoonsprofiel assembled from every assignment."""
    parts = []
    for a in catalogue().assignments:
        row = progress.get(a.key)
        lines = describe(turn.lang, a, row) if row is not None else []
        title = i18n.t(turn.lang, f"assignment.{a.key}.title")
        parts.append(f"{title}\n" + ("\n".join(lines) if lines else i18n.t(turn.lang, "profile.not_yet")))
    turn.say("profile.header", done=done_count(progress), total=len(catalogue().assignments))
    turn.say(
        "profile.body",
        body="\n\n".join(parts),
        buttons=next_buttons(turn.lang, progress, None)[:-1] or m.menu(turn.lang),
    )
