"""The employer report: allow-listed activities only; planted health canaries never appear."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pypdf
import pytest

from bot import i18n
from bot.config import Settings
from bot.db import Database
from bot.enrolment import KoersError
from bot.models import Application, AssignmentProgress, Reflection, Summary, WeekNote
from bot.report import build, month_bounds, render_html, render_pdf
from tests.conftest import koers

CANARIES = ("KANARIE-REFLECTIE-7731", "KANARIE-BEPERKING-4410", "KANARIE-VERSLAG-9902")


@pytest.fixture
def filled(db: Database, people: dict[str, object]) -> int:
    piet = int(people["piet"])  # type: ignore[call-overload]
    with db.session() as s, s.begin():
        for day, employer, title, status in (
            (dt.date(2026, 10, 5), "PostNL", "planner", "interview"),
            (dt.date(2026, 10, 7), "Gemeente <Utrecht>", "beleidsmedewerker", "rejected"),
            (dt.date(2026, 9, 30), "Oud BV", "te vroeg", "sent"),
        ):
            s.add(
                Application(
                    employee_id=piet,
                    idempotency_key=f"k{employer}",
                    employer=employer,
                    job_title=title,
                    applied_on=day,
                    channel="vacancy_site",
                    status=status,
                )
            )
        s.add(WeekNote(employee_id=piet, iso_year=2026, iso_week=42, reason="illness"))
        s.add(
            Reflection(
                employee_id=piet,
                week_number=40,
                mood=1,
                small_step=CANARIES[0],
                answers={"miss": CANARIES[0]},
                completed_at=dt.datetime.now(dt.timezone.utc),
            )
        )
        s.add(
            AssignmentProgress(
                employee_id=piet,
                assignment_key="capacities",
                status="done",
                answers={"values": {"limitations": CANARIES[1], "hours_per_week": 20}},
            )
        )
        s.add(Summary(employee_id=piet, session_key="s1", language="nl", text=CANARIES[2]))
    return piet


def test_month_bounds() -> None:
    assert month_bounds("2026-02") == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert month_bounds("2028-02")[1] == dt.date(2028, 2, 29)
    with pytest.raises(KoersError):
        month_bounds("2026-13")


def test_html_has_activities_and_no_health_content(db: Database, filled: int) -> None:
    with db.session() as s:
        html = render_html(build(s, filled, "2026-10"))
    assert "PostNL" in html and "planner" in html
    assert "Gemeente &lt;Utrecht&gt;" in html  # escaped, never markup
    assert "Oud BV" not in html  # another month
    assert i18n.t("nl", "report.status.interview") in html
    # a low week's reason is given, but a health setback reads as personal circumstances
    assert i18n.t("nl", "report.reason.personal") in html
    assert i18n.t("nl", "report.reason.illness") not in html
    assert i18n.t("nl", "assignment.capacities.title") in html  # that it was done, not what was said
    for canary in CANARIES:
        assert canary not in html


def test_pdf_text_has_activities_and_no_canaries(db: Database, filled: int) -> None:
    with db.session() as s:
        pdf = render_pdf(render_html(build(s, filled, "2026-10")))
    # layout breaks lines; compare with white space folded
    text = " ".join(" ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages).split())
    assert "PostNL" in text and i18n.t("nl", "report.title") in text
    for canary in CANARIES:
        assert canary not in text


def test_cli_writes_html_and_pdf(tmp_path: Path, settings: Settings, filled: int) -> None:
    for fmt in ("html", "pdf"):
        out = tmp_path / f"r.{fmt}"
        done = koers(
            tmp_path / "var",
            "report",
            str(filled),
            "--month",
            "2026-10",
            "--format",
            fmt,
            "--out",
            str(out),
            database_url=settings.database_url,
        )
        assert done.returncode == 0, done.stderr
        assert out.stat().st_size > 500
    bad = koers(
        tmp_path / "var",
        "report",
        str(filled),
        "--month",
        "oktober",
        "--out",
        str(tmp_path / "x"),
        database_url=settings.database_url,
    )
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "not a month" in bad.stderr
