"""Applications: matching updates, status words, exactly-once saving and the evidence exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pypdf
import pytest
from sqlalchemy import func, select

from bot import applications as apps
from bot.config import Settings
from bot.db import Database
from bot.models import Application, ApplicationStatusChange, WeekNote
from tests.conftest import koers

GOLDEN = Path(__file__).resolve().parent.parent / "golden"


@pytest.mark.parametrize(
    ("text", "lang", "status"),
    [
        ("PostNL heeft me afgewezen", "nl", "rejected"),
        ("weer een afwijzing van Jumbo", "nl", "rejected"),
        ("ik mag op gesprek komen bij Coolblue", "nl", "interview"),
        ("het gesprek ging goed, ik krijg een tweede ronde", "nl", "second_interview"),
        ("ik ben aangenomen!!", "nl", "hired"),
        ("nooit iets gehoord van de gemeente", "nl", "no_response"),
        ("I have an interview at Coolblue", "en", "interview"),
        ("second interview at Booking.com", "en", "second_interview"),
        ("PostNL rejected me", "en", "rejected"),
        ("I got the job!", "en", "hired"),
        # a Dutch word in an English chat still counts (every language's list is read)
        ("I got an afwijzing from Rabobank", "en", "rejected"),
        ("nieuws over PostNL", "nl", None),
    ],
)
def test_detect_status(text: str, lang: str, status: str | None) -> None:
    assert apps.detect_status(text, lang) == status


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("PostNL", "postnl", True),
        ("Albert Heijn B.V.", "albert heijn", True),
        ("Coolblue", "Coolbleu", True),
        ("Gemeente Utrecht", "Utrecht", True),
        ("Café de Kroon", "cafe de kroon", True),
        ("PostNL", "Jumbo", False),
        ("ING", "KPN", False),
    ],
)
def test_similar_names(a: str, b: str, same: bool) -> None:
    assert apps.similar(a, b) is same


def add(s: object, employee_id: int, employer: str, title: str, day: dt.date, **extra: str) -> Application:
    a = Application(
        employee_id=employee_id,
        idempotency_key=f"t:{employer}:{title}:{day}",
        employer=employer,
        job_title=title,
        applied_on=day,
        channel=extra.pop("channel", "vacancy_site"),
        status="sent",
        **extra,
    )
    a.history.append(ApplicationStatusChange(status="sent", changed_on=day))
    s.add(a)  # type: ignore[attr-defined]
    return a


def test_matching_prefers_open_applications_and_own_rows(db: Database, people: dict[str, object]) -> None:
    piet, olga = int(people["piet"]), int(people["other"])  # type: ignore[call-overload]
    day = dt.date(2026, 11, 2)
    with db.session() as s, s.begin():
        old = add(s, piet, "Coolblue", "magazijn", day)
        old.status = "rejected"
        add(s, piet, "Coolblue", "klantenservice", day)
        add(s, piet, "PostNL", "chauffeur", day)
        add(s, olga, "PostNL", "sorteerder", day)
        s.flush()
        found = apps.matches(s, piet, "Coolblue belde", employer="Coolblue")
        assert [a.job_title for a in found] == ["klantenservice", "magazijn"]
        assert [a.job_title for a in apps.matches(s, piet, "postnl heeft gebeld")] == ["chauffeur"]
        assert [
            a.job_title for a in apps.matches(s, piet, "x", employer="Postnl", job_title="chauffeur")
        ] == ["chauffeur"]
        # nothing named: every application is a candidate, the open ones first
        assert len(apps.matches(s, piet, "ik heb nieuws")) == 3


def test_change_status_keeps_dated_history_once(db: Database, people: dict[str, object]) -> None:
    piet = int(people["piet"])  # type: ignore[call-overload]
    with db.session() as s, s.begin():
        a = add(s, piet, "ASML", "operator", dt.date(2026, 11, 2))
        s.flush()
        assert apps.change_status(s, a, "interview", dt.date(2026, 11, 9))
        assert not apps.change_status(s, a, "interview", dt.date(2026, 11, 10))
        assert apps.change_status(s, a, "offer", dt.date(2026, 11, 16))
        assert [(h.status, h.changed_on.day) for h in a.history] == [
            ("sent", 2),
            ("interview", 9),
            ("offer", 16),
        ]


def test_save_draft_is_exactly_once(db: Database, people: dict[str, object]) -> None:
    piet = int(people["piet"])  # type: ignore[call-overload]
    values = {"employer": "HEMA", "job_title": "verkoper", "applied_on": "2026-11-20", "channel": "phone"}
    with db.session() as s, s.begin():
        draft = apps.new_draft(s, piet, values)
        token = draft.token
        apps.save_draft(s, draft)
    # the draft's deletion was lost (e.g. a replayed transaction): saving it again finds the row
    with db.session() as s, s.begin():
        again = apps.new_draft(s, piet, values)
        again.token = token
        saved = apps.save_draft(s, again)
        assert saved.employer == "HEMA"
    with db.session() as s:
        assert s.scalar(select(func.count(Application.id))) == 1
        assert apps.get_draft(s, piet) is None


def test_week_progress_counts_iso_week_and_agencies(db: Database, people: dict[str, object]) -> None:
    piet = int(people["piet"])  # type: ignore[call-overload]
    wednesday = dt.date(2026, 11, 25)
    with db.session() as s, s.begin():
        add(s, piet, "A", "x", dt.date(2026, 11, 23))  # Monday: this week
        add(s, piet, "B", "x", dt.date(2026, 11, 29))  # Sunday: this week
        add(s, piet, "C", "x", dt.date(2026, 11, 22), channel="agency")  # last Sunday
        add(s, piet, "D", "x", dt.date(2026, 11, 20), channel="agency")
        s.flush()
        from bot.models import Employee

        employee = s.get(Employee, piet)
        assert employee is not None
        week = apps.week_progress(s, employee, wednesday)
        assert (week.count, week.target, week.agencies, week.key) == (2, 2, 2, "2026-W48")
        assert not week.below
        last = apps.week_progress(s, employee, wednesday - dt.timedelta(days=7))
        assert last.count == 2 and last.key == "2026-W47"
        apps.record_reason(s, piet, 2026, 47, "illness")
        apps.record_reason(s, piet, 2026, 47, "training")
        assert s.scalar(select(func.count(WeekNote.id))) == 1
        with pytest.raises(Exception, match="unknown reason"):
            apps.record_reason(s, piet, 2026, 47, "lazy")


@pytest.fixture
def evidence(db: Database, people: dict[str, object]) -> int:
    piet = int(people["piet"])  # type: ignore[call-overload]
    with db.session() as s, s.begin():
        a = add(
            s,
            piet,
            "PostNL",
            "planner",
            dt.date(2026, 10, 5),
            vacancy_url="https://werkenbij.postnl.nl/123",
            contact_person="Mevr. de Boer",
        )
        s.flush()
        apps.change_status(s, a, "interview", dt.date(2026, 10, 12))
        add(
            s,
            piet,
            "=cmd|' /C calc'!A0",
            "+31 klantenservice",
            dt.date(2026, 10, 7),
            note="-2+3",
            channel="agency",
        )
        s.add(WeekNote(employee_id=piet, iso_year=2026, iso_week=41, reason="no_vacancies"))
    return piet


def test_csv_matches_golden_file_and_is_formula_safe(db: Database, evidence: int) -> None:
    with db.session() as s:
        text = apps.export_csv(s, evidence, "nl")
    assert text == (GOLDEN / "applications_nl.csv").read_bytes().decode("utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    for row in rows[1:]:
        for cell in row:
            assert cell[:1] not in ("=", "+", "-", "@"), cell


def test_pdf_has_every_application_and_history(db: Database, evidence: int) -> None:
    with db.session() as s:
        pdf = apps.export_pdf(s, evidence, "nl", today=dt.date(2026, 11, 1))
    text = " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages).split())
    for expected in (
        "Overzicht sollicitaties",
        "Piet Jansen",
        "PostNL",
        "planner",
        "uitgenodigd",
        "12 okt 2026",
    ):
        assert expected in text, expected
    assert "=cmd" in text  # a PDF shows the text as typed
    assert "geen passende vacatures" in text


def test_cli_exports_csv_and_pdf(tmp_path: Path, settings: Settings, evidence: int) -> None:
    done = koers(
        tmp_path / "var", "applications", str(evidence), "--format", "csv", database_url=settings.database_url
    )
    assert done.returncode == 0, done.stderr
    assert "PostNL" in done.stdout and "'=cmd" in done.stdout
    out = tmp_path / "a.pdf"
    done = koers(
        tmp_path / "var",
        "applications",
        str(evidence),
        "--format",
        "pdf",
        "--out",
        str(out),
        database_url=settings.database_url,
    )
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"%PDF")
    bad = koers(tmp_path / "var", "applications", "424242", database_url=settings.database_url)
    assert bad.returncode != 0 and bad.stderr.count("\n") == 1 and "unknown employee" in bad.stderr
