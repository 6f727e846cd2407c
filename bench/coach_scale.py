"""The coach's side at scale, on SQLite and PostgreSQL; writes ``bench/coach-scale-results.json``.

Run with ``make bench-coach``. For each database it seeds a throw-away copy
with ``koers seed``'s code (20 coaches, 2,000 employees, up to 104 weeks of
history each: about 1.5 million rows), then measures through the real web app
(Starlette's TestClient, logged in as the coach with the most employees: 100):

- the caseload: first page, page 2, each filter and a search;
- the employee page, for random employees of that coach;
- the admin-style query over all 2,000 employees: the product has no admin
  role, so this calls the caseload's query layer (``caseload_rows`` with
  ``coach_id=None``) directly, for the same views;
- the employer's monthly report as PDF for the employee with the full 104
  weeks of history, on the ``koers report`` code path (build, HTML,
  WeasyPrint) in this process, and the whole ``koers report`` command as a
  new process.

PostgreSQL is a private cluster started with ``scripts/postgres.sh`` in its
own folder and port (so a test run's server is never touched) and stopped and
removed afterwards; ``KOERS_BENCH_POSTGRES_URL`` uses an existing, empty
database instead. Sizes are options (``--employees``, ``--weeks`` …) so a
quick run stays quick. Exits non-zero only on an error; missed bars are
printed and recorded with ``met: false``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from starlette.testclient import TestClient

from bot import ROOT
from bot.config import load_settings
from bot.db import Database
from bot.models import Base, Coach, Employee
from bot.seed import SEED_PASSWORD, TABLES, seed
from bot.web.app import create_app
from bot.web.coach import caseload_rows, employee_ref

BARS = {
    "caseload_p95_ms": 300.0,
    "employee_page_p95_ms": 200.0,
    "all_employees_p95_ms": 300.0,
    "employee_page_all_p95_ms": 200.0,
    "report_pdf_seconds": 2.0,
}
VIEWS = {
    "first page": {},
    "page 2": {"page": "2"},
    "with signals": {"show": "signals"},
    "below target": {"show": "below_target"},
    "light": {"show": "light"},
    "intensive": {"show": "intensive"},
    "search": {"q": "jan"},
}
PG_DIR = Path(tempfile.gettempdir()) / f"koers-bench-pg-{os.getuid()}"
PG_PORT = "55439"
OUT = ROOT / "bench" / "coach-scale-results.json"


def percentiles(timings: list[float]) -> dict[str, float]:
    """Returns the median and the 95th percentile (nearest rank) in milliseconds."""
    ordered = sorted(timings)
    rank = max(1, -(-95 * len(ordered) // 100))
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[rank - 1], 1),
        "max_ms": round(ordered[-1], 1),
        "n": len(ordered),
    }


def timed(action: Callable[[], object], rounds: int, warmup: int = 1) -> list[float]:
    """Runs ``action`` a few times unmeasured, then ``rounds`` times; returns milliseconds."""
    for _ in range(warmup):
        action()
    timings = []
    for _ in range(rounds):
        begin = time.perf_counter()
        action()
        timings.append((time.perf_counter() - begin) * 1000)
    return timings


def path_of(params: dict[str, str]) -> str:
    """Returns the caseload URL of a view."""
    return "/coach/" + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


@contextmanager
def postgres() -> Iterator[str]:
    """Yields the URL of an empty PostgreSQL database: an existing one, or a private throw-away cluster."""
    given = os.environ.get("KOERS_BENCH_POSTGRES_URL")
    if given:
        yield given
        return
    env = {**os.environ, "KOERS_PG_DIR": str(PG_DIR), "KOERS_PG_PORT": PG_PORT}
    script = str(ROOT / "scripts" / "postgres.sh")
    url = subprocess.run(
        [script, "start"], env=env, check=True, capture_output=True, text=True
    ).stdout.strip()
    try:
        db = Database(url)
        with db.engine.begin() as conn:  # our own cluster: start from nothing
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        db.dispose()
        yield url
    finally:
        subprocess.run([script, "stop"], env=env, check=False, capture_output=True)
        shutil.rmtree(PG_DIR, ignore_errors=True)


def login(client: TestClient, email: str) -> None:
    """Logs a coach in with the seeded password."""
    form = client.get("/coach/login").text
    token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/coach/login", data={"email": email, "password": SEED_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303, (email, response.status_code)


def row_counts(db: Database) -> dict[str, int]:
    """Counts the rows of every seeded table."""
    with db.session() as s:
        return {
            name: int(s.scalar(select(func.count()).select_from(Base.metadata.tables[name])) or 0)
            for name in TABLES
        }


def measure(url: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """Seeds one database and measures every view on it."""
    os.environ["KOERS_VAR_DIR"] = str(tmp)
    os.environ["KOERS_DATABASE_URL"] = url
    settings = load_settings()
    db = Database(url)
    db.upgrade()
    print(f"  seeding {args.employees} employees, {args.weeks} weeks …", flush=True)
    seeded = seed(db, coaches=args.coaches, employees=args.employees, weeks=args.weeks, seed=args.seed)
    counts = row_counts(db)
    print(f"  {sum(counts.values())} rows in {seeded.seconds:.1f} s", flush=True)
    email = seeded.busiest_coach or seeded.coaches[0]
    with db.session() as s:
        coach = s.scalar(select(Coach).where(Coach.email == email))
        assert coach is not None
        mine = list(s.scalars(select(Employee.id).where(Employee.coach_id == coach.id).order_by(Employee.id)))
        coach_language = coach.language
    rng = random.Random(args.seed)
    result: dict[str, Any] = {
        "seed_seconds": round(seeded.seconds, 1),
        "rows": counts,
        "rows_total": sum(counts.values()),
        "coach": {"email": email, "employees": len(mine)},
    }
    app = create_app(settings, db, background=False)
    with ExitStack() as stack:
        clients = {}
        with db.session() as s:
            pairs = s.execute(select(Employee.id, Coach.email).join(Coach, Employee.coach_id == Coach.id))
            owners = {int(employee_id): str(address) for employee_id, address in pairs}
        for address in sorted(set(owners.values())):
            clients[address] = stack.enter_context(
                TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False)
            )
            login(clients[address], address)
        client = clients[email]
        secret = settings.secret_key

        def get(path: str, by: TestClient = client) -> Callable[[], object]:
            def fetch() -> object:
                response = by.get(path)
                assert response.status_code == 200, (path, response.status_code)
                return response

            return fetch

        def page(employee_id: int) -> Callable[[], object]:
            return get(f"/coach/employees/{employee_ref(secret, employee_id)}", clients[owners[employee_id]])

        result["caseload"] = {
            name: percentiles(timed(get(path_of(params)), args.rounds)) for name, params in VIEWS.items()
        }
        everyone = sorted(owners)
        for key, pool in (("employee_page", mine), ("employee_page_all", everyone)):
            chosen = [rng.choice(pool) for _ in range(args.rounds * 2)]
            page(chosen[0])()
            timings = []
            for employee_id in chosen:
                begin = time.perf_counter()
                page(employee_id)()
                timings.append((time.perf_counter() - begin) * 1000)
            result[key] = percentiles(timings)
        full = seeded.full_history_employee
        if full is not None:
            result["employee_page_full_history"] = percentiles(timed(page(full), args.rounds))

    def all_view(params: dict[str, str]) -> Callable[[], object]:
        def query() -> object:
            with db.session() as s, s.begin():
                people, total = caseload_rows(
                    s,
                    None,
                    params.get("q", ""),
                    params.get("show", ""),
                    int(params.get("page", "1")),
                    coach_language,
                    secret,
                )
            assert total and people, params
            return people

        return query

    result["all_employees"] = {
        name: percentiles(timed(all_view(params), args.rounds)) for name, params in VIEWS.items()
    }
    if full is not None:
        result["report_pdf"] = report_timings(db, full, tmp, url, args)
    db.dispose()
    return result


def report_timings(
    db: Database, employee_id: int, tmp: Path, url: str, args: argparse.Namespace
) -> dict[str, Any]:
    """Times the employer report as PDF: the code path in this process, and the whole command."""
    from bot.report import build, render_html, render_pdf

    today = dt.date.today()
    month = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")

    def code_path() -> object:
        with db.session() as s, s.begin():
            data = build(s, employee_id, month)
        pdf = render_pdf(render_html(data))
        assert pdf.startswith(b"%PDF")
        return pdf

    begin = time.perf_counter()
    code_path()
    first = time.perf_counter() - begin
    warm = timed(code_path, max(3, args.rounds // 6), warmup=0)
    out = tmp / "report.pdf"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "KOERS_VAR_DIR": str(tmp),
        "KOERS_DATABASE_URL": url,
    }
    commands = []
    for _ in range(5):
        begin = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bot.cli",
                "report",
                str(employee_id),
                "--month",
                month,
                "--format",
                "pdf",
                "--out",
                str(out),
            ],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        commands.append(time.perf_counter() - begin)
    assert out.read_bytes().startswith(b"%PDF")
    with db.session() as s:
        history_weeks = s.scalar(select(Employee.first_sick_day).where(Employee.id == employee_id))
    return {
        "employee": employee_id,
        "month": month,
        "history_from": history_weeks.isoformat() if history_weeks else None,
        "first_in_process_seconds": round(first, 2),
        "in_process_seconds": {
            key[:-3]: round(value / 1000, 2) for key, value in percentiles(warm).items() if key != "n"
        },
        "command_seconds": {
            "median": round(statistics.median(commands), 2),
            "best": round(min(commands), 2),
            "worst": round(max(commands), 2),
            "n": len(commands),
        },
    }


def bars_met(result: dict[str, Any]) -> dict[str, bool]:
    """Compares one database's numbers with the bars."""
    report = result.get("report_pdf", {})
    return {
        "caseload_p95_ms": max(v["p95_ms"] for v in result["caseload"].values()) <= BARS["caseload_p95_ms"],
        "employee_page_p95_ms": result["employee_page"]["p95_ms"] <= BARS["employee_page_p95_ms"],
        "all_employees_p95_ms": max(
            v["p95_ms"] for v in result["all_employees"].values() if isinstance(v, dict)
        )
        <= BARS["all_employees_p95_ms"],
        "employee_page_all_p95_ms": result["employee_page_all"]["p95_ms"] <= BARS["employee_page_all_p95_ms"],
        "report_pdf_seconds": bool(report)
        and max(report["in_process_seconds"]["p95"], report["command_seconds"]["median"])
        <= BARS["report_pdf_seconds"],
    }


def main(argv: list[str] | None = None) -> int:
    """Seeds, measures and writes the results; exits non-zero only on an error."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--coaches", type=int, default=20)
    parser.add_argument("--employees", type=int, default=2000)
    parser.add_argument("--weeks", type=int, default=104)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rounds", type=int, default=30, help="requests per view")
    parser.add_argument(
        "--databases", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql"
    )
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    wanted = [d.strip() for d in args.databases.split(",") if d.strip()]
    databases: dict[str, Any] = {}
    for name in wanted:
        print(f"==> {name}", flush=True)
        with tempfile.TemporaryDirectory() as folder:
            tmp = Path(folder)
            if name == "sqlite":
                databases[name] = measure(f"sqlite:///{tmp / 'bench.db'}", args, tmp)
            elif name in ("postgresql", "postgres"):
                with postgres() as url:
                    databases["postgresql"] = measure(url, args, tmp)
            else:
                print(f"unknown database {name!r} (sqlite, postgresql)", file=sys.stderr)
                return 2
    missed = []
    for name, result in databases.items():
        result["met"] = bars_met(result)
        missed += [f"{name}: {bar}" for bar, ok in result["met"].items() if not ok]
    report = {
        "measured_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "sizes": {
            "coaches": args.coaches,
            "employees": args.employees,
            "weeks": args.weeks,
            "seed": args.seed,
        },
        "rounds": args.rounds,
        "bars": {
            **BARS,
            "notes": {
                "caseload_p95_ms": "worst p95 over the caseload views of the coach with the most employees",
                "employee_page_p95_ms": "random employees of that coach",
                "all_employees_p95_ms": "worst p95 over the same views as one query over every employee",
                "employee_page_all_p95_ms": "random employees of all coaches, each through their own coach",
                "report_pdf_seconds": (
                    "the `koers report` command in a new process (median of 5: imports, database check, "
                    "build, WeasyPrint) and the warm in-process p95 (the dashboard's download)"
                ),
            },
        },
        "databases": databases,
        "met": not missed,
        "missed": missed,
    }
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({n: {"met": r["met"]} for n, r in databases.items()}, indent=2))
    print(f"results in {args.out}")
    if missed:
        print("missed bars: " + "; ".join(missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
