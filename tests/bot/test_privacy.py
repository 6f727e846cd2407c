"""Export shows everything; forget erases everything, tracker events included."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, text

from bot.db import Database
from bot.enrolment import redeem
from bot.models import (
    Application,
    ApplicationStatusChange,
    AuditEntry,
    ChannelIdentity,
    Employee,
    Reflection,
    Signal,
)
from bot.privacy import export, forget
from bot.signals import raise_signal
from tests.conftest import EXPORT_KEYS, create_rasa_events_table


def _fill(db: Database, employee_id: int) -> None:
    with db.session() as s, s.begin():
        redeem_code_sender = "web:piet"
        s.add(ChannelIdentity(employee_id=employee_id, sender_id=redeem_code_sender, channel="web"))
        app = Application(
            employee_id=employee_id,
            idempotency_key="m1",
            employer="PostNL",
            job_title="planner",
            applied_on=dt.date(2026, 11, 2),
            channel="vacancy_site",
        )
        app.history.append(ApplicationStatusChange(status="sent", changed_on=dt.date(2026, 11, 2)))
        s.add(app)
        s.add(Reflection(employee_id=employee_id, week_number=40, mood=3, answers={"miss": "x"}))
        raise_signal(s, employee_id, "crisis", "crisis:web:piet:m2")
        s.add(
            AuditEntry(
                employee_id=employee_id,
                coach_id=1,
                actor="coach A",
                action="view",
                target="employee page",
            )
        )


def test_export_holds_every_section(db: Database, people: dict[str, object]) -> None:
    _fill(db, int(people["piet"]))  # type: ignore[call-overload]
    with db.session() as s:
        data = export(s, int(people["piet"]))  # type: ignore[call-overload]
    assert set(data) >= EXPORT_KEYS
    assert data["profile"]["name"] == "Piet Jansen"
    assert data["applications"] == [
        {
            "employer": "PostNL",
            "job_title": "planner",
            "applied_on": "2026-11-02",
            "channel": "vacancy_site",
            "status": "sent",
            "vacancy_url": None,
            "contact_person": None,
            "note": None,
            "history": [{"status": "sent", "changed_on": "2026-11-02"}],
        }
    ]
    assert data["reflections"][0]["mood"] == 3
    assert data["signals"][0]["kind"] == "crisis"
    assert data["audit"][0]["who"] == "coach A"


def test_signals_are_idempotent(db: Database, people: dict[str, object]) -> None:
    with db.session() as s, s.begin():
        first = raise_signal(s, int(people["piet"]), "crisis", "k1")  # type: ignore[call-overload]
        again = raise_signal(s, int(people["piet"]), "crisis", "k1")  # type: ignore[call-overload]
        assert first.id == again.id
        assert s.scalar(select(func.count()).select_from(Signal)) == 1


def test_forget_erases_records_and_conversations(db: Database, people: dict[str, object]) -> None:
    piet = int(people["piet"])  # type: ignore[call-overload]
    _fill(db, piet)
    with db.session() as s, s.begin():
        redeem(s, "web:jane", str(people["jane_code"]))
    create_rasa_events_table(db)
    with db.engine.begin() as conn:
        for sender in ("web:piet", "web:piet", "web:jane"):
            conn.execute(text("INSERT INTO events (sender_id, type_name) VALUES (:s, 'user')"), {"s": sender})
    assert forget(db, piet) == 2
    with db.session() as s:
        assert s.get(Employee, piet) is None
        for model in (Application, Reflection, Signal, ChannelIdentity):
            count = s.scalar(select(func.count()).select_from(model).where(model.employee_id == piet))
            assert count == 0, model
        assert s.scalar(select(func.count()).select_from(ApplicationStatusChange)) == 0
        # other employees keep their data
        assert s.get(Employee, people["jane"]) is not None
    assert db.tracker_event_count("web:piet") == 0
    assert db.tracker_event_count("web:jane") == 1


def test_forget_leaves_no_trace_in_any_table(db: Database, people: dict[str, object]) -> None:
    """A canary planted in every place an employee's words can land is gone from every table."""
    from sqlalchemy import inspect

    from bot.models import (
        ApplicationDraft,
        AssignmentProgress,
        CoachMessage,
        CoachNote,
        CurriculumVitae,
        Reminder,
        Summary,
    )

    canary = "KANARIE-WIS-8841"
    piet = int(people["piet"])  # type: ignore[call-overload]
    _fill(db, piet)
    with db.session() as s, s.begin():
        employee = s.get(Employee, piet)
        assert employee is not None
        coach_id = employee.coach_id
        s.add(
            AssignmentProgress(
                employee_id=piet,
                assignment_key="wishes",
                catalogue_version=1,
                status="done",
                answers={"values": {"conditions": canary}},
            )
        )
        s.add(ApplicationDraft(employee_id=piet, token="t", values={"employer": canary}))
        s.add(CurriculumVitae(employee_id=piet, sections={"profile_text": canary}))
        s.add(Reflection(employee_id=piet, week_number=41, small_step=canary, answers={"miss": canary}))
        s.add(Summary(employee_id=piet, session_key="canary", language="nl", text=canary))
        s.add(CoachNote(employee_id=piet, coach_id=coach_id, text=canary))
        s.add(CoachMessage(employee_id=piet, coach_id=coach_id, text=canary))
        s.add(
            Reminder(
                employee_id=piet,
                kind="reflection",
                dedupe_key=canary,
                due_at=dt.datetime.now(dt.timezone.utc),
            )
        )
        raise_signal(s, piet, "low_mood", f"signal:{canary}", detail=canary)
    create_rasa_events_table(db)
    with db.engine.begin() as conn:
        conn.execute(
            text("INSERT INTO events (sender_id, type_name, data) VALUES ('web:piet', 'user', :d)"),
            {"d": f'{{"text": "{canary}"}}'},
        )
    forget(db, piet)
    leftovers = []
    with db.engine.connect() as conn:
        for table in inspect(db.engine).get_table_names():
            for row in conn.execute(text(f"SELECT * FROM {table}")):
                flat = " ".join(str(v) for v in row)
                if canary in flat or "Piet Jansen" in flat or "web:piet" in flat:
                    leftovers.append(f"{table}: {flat[:120]}")
    assert leftovers == []


def test_purge_after_the_retention_period_with_a_dry_run(
    db: Database, people: dict[str, object], settings: object, tmp_path: object
) -> None:
    from bot.privacy import expired, purge
    from tests.conftest import koers

    today = dt.date(2030, 1, 1)
    with db.session() as s, s.begin():
        old = s.get(Employee, people["piet"])
        assert old is not None
        # sick since April 2024: week 104 ended April 2026, more than two years before 2030
        old.first_sick_day = dt.date(2025, 6, 1) - dt.timedelta(days=400)
    assert expired(db, today=today) == [people["piet"]]
    assert purge(db, dry_run=True, today=today) == [people["piet"]]
    with db.session() as s:
        assert s.get(Employee, people["piet"]) is not None
    assert purge(db, today=today) == [people["piet"]]
    with db.session() as s:
        assert s.get(Employee, people["piet"]) is None and s.get(Employee, people["jane"]) is not None
    done = koers(tmp_path / "var", "purge", "--dry-run", "--json", database_url=settings.database_url)  # type: ignore[attr-defined,operator]
    assert done.returncode == 0, done.stderr
    assert '"dry_run": true' in done.stdout
    bad = koers(tmp_path / "var", "purge", "--older-than", "-1", database_url=settings.database_url)  # type: ignore[attr-defined,operator]
    assert bad.returncode != 0 and bad.stderr.count("\n") == 1
