"""Measures the coach's caseload with 2,000 employees and writes ``bench/caseload-results.json``.

Run with ``make bench-caseload``. Builds a throw-away SQLite database (or uses
``KOERS_BENCH_DATABASE_URL``) with one coach, 2,000 employees, five
applications and a few signals each, then requests the caseload pages a coach
uses (first page, a later page, each filter, a search) through the real web
app and reports the median and 95th percentile. Exits 1 when a page's p95
exceeds the goal (300 ms).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from starlette.testclient import TestClient

from bot import ROOT
from bot.config import load_settings
from bot.db import Database
from bot.enrolment import add_coach
from bot.models import Application, Employee, Signal
from bot.signals import URGENCY
from bot.web.app import create_app

EMPLOYEES = 2000
FIRST = ("Piet", "Anna", "Sara", "Omar", "Lena")
LAST = ("Jansen", "Bakker", "Visser", "Smit")
ROUNDS = 20
GOAL_P95_MS = 300.0
PAGES = {
    "first page": "/coach/",
    "page 20": "/coach/?page=20",
    "with signals": "/coach/?show=signals",
    "below target": "/coach/?show=below_target",
    "intensive": "/coach/?show=intensive",
    "search": "/coach/?q=jansen",
}


def fill(db: Database) -> None:
    """Creates the coach and the caseload in bulk."""
    rng = random.Random(42)
    today = dt.date.today()
    with db.session() as s, s.begin():
        coach = add_coach(s, "bench@koers.test", "Bench Coach", "a long bench password")
        employees = [
            Employee(
                coach_id=coach.id,
                name=f"{rng.choice(FIRST)} {rng.choice(LAST)} {n}",
                language="nl",
                first_sick_day=today - dt.timedelta(days=rng.randint(30, 700)),
                trajectory=rng.choice(["light", "light", "intensive"]),
                weekly_target=2,
                last_activity_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=rng.randint(0, 20)),
            )
            for n in range(EMPLOYEES)
        ]
        s.add_all(employees)
        s.flush()
        for e in employees:
            for k in range(5):
                s.add(
                    Application(
                        employee_id=e.id,
                        idempotency_key=f"bench:{e.id}:{k}",
                        employer=f"Werkgever {k}",
                        job_title="medewerker",
                        applied_on=today - dt.timedelta(days=rng.randint(0, 60)),
                        channel="vacancy_site",
                        status="sent",
                    )
                )
            for kind in rng.sample(list(URGENCY), rng.randint(0, 2)):
                s.add(
                    Signal(
                        employee_id=e.id, kind=kind, urgency=URGENCY[kind], dedupe_key=f"bench:{e.id}:{kind}"
                    )
                )


def main() -> int:
    """Fills a database, times each caseload page and writes the results."""
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("KOERS_BENCH_DATABASE_URL") or f"sqlite:///{tmp}/bench.db"
        os.environ["KOERS_VAR_DIR"] = tmp
        os.environ["KOERS_DATABASE_URL"] = url
        settings = load_settings()
        db = Database(url)
        db.upgrade()
        started = time.perf_counter()
        fill(db)
        fill_seconds = time.perf_counter() - started
        app = create_app(settings, db, background=False)
        results: dict[str, dict[str, float]] = {}
        with TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False) as client:
            form = client.get("/coach/login").text
            token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            login = client.post(
                "/coach/login",
                data={"email": "bench@koers.test", "password": "a long bench password", "csrf_token": token},
            )
            assert login.status_code == 303, login.status_code
            assert "2000" in client.get("/coach/").text  # the caseload itself, not the login page
            for name, path in PAGES.items():
                timings = []
                for _ in range(ROUNDS):
                    begin = time.perf_counter()
                    response = client.get(path)
                    timings.append((time.perf_counter() - begin) * 1000)
                    assert response.status_code == 200, (path, response.status_code)
                timings.sort()
                results[name] = {
                    "p50_ms": round(statistics.median(timings), 1),
                    "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 1),
                }
        db.dispose()
    ok = all(r["p95_ms"] <= GOAL_P95_MS for r in results.values())
    report = {
        "measured_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "database": url.split(":", 1)[0],
        "employees": EMPLOYEES,
        "applications": EMPLOYEES * 5,
        "fill_seconds": round(fill_seconds, 1),
        "rounds": ROUNDS,
        "goal_p95_ms": GOAL_P95_MS,
        "pages": results,
        "ok": ok,
    }
    out = ROOT / "bench" / "caseload-results.json"
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main())
