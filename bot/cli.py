"""The ``koers`` command: coaches, employees, exports, erasure, NLU evaluation, running.

Every command exits 0 on success and otherwise prints one line to stderr and
exits non-zero. ``--json`` prints one JSON document on stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings, load_settings
from bot.db import Database
from bot.enrolment import KoersError, add_coach, add_employee, issue_invite, trajectory_week
from bot.i18n import FALLBACK_LANGUAGE
from bot.models import AuditEntry, Employee
from bot.privacy import export, forget, get_employee


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _employee_id(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an employee id: {value!r}") from None
    if number <= 0:
        raise argparse.ArgumentTypeError(f"not an employee id: {value!r}")
    return number


def _print(data: Any, as_json: bool, text: str) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2) if as_json else text)


def _database(settings: Settings) -> Database:
    db = Database(settings.database_url)
    db.upgrade()
    return db


def _audit(session: Session, employee_id: int, action: str, target: str) -> None:
    """Records that an operator read an employee's data from the command line."""
    session.add(
        AuditEntry(
            employee_id=employee_id, coach_id=None, actor="operator (cli)", action=action, target=target
        )
    )


def cmd_coach_add(args: argparse.Namespace, settings: Settings) -> int:
    """Creates a coach; the password comes from stdin, never from the command line."""
    if not args.password_stdin:
        raise KoersError("give the password on stdin with --password-stdin")
    password = sys.stdin.readline().rstrip("\r\n")
    db = _database(settings)
    with db.session() as session, session.begin():
        coach = add_coach(session, args.email, args.name, password)
        data = {"id": coach.id, "email": coach.email, "name": coach.name}
    _print(data, args.json, f"coach {data['email']} created (id {data['id']})")
    return 0


def cmd_coach_totp(args: argparse.Namespace, settings: Settings) -> int:
    """Sets up (a new secret each time) or removes a coach's two-step login (TOTP)."""
    from bot import totp
    from bot.enrolment import coach_by_email

    db = _database(settings)
    with db.session() as session, session.begin():
        coach = coach_by_email(session, args.email)
        if coach is None:
            raise KoersError(f"unknown coach: {args.email}")
        email = coach.email
        coach.totp_last_step = None
        if args.disable:
            coach.totp_secret = None
            data: dict[str, str | None] = {"email": email, "secret": None, "uri": None}
        else:
            secret = totp.new_secret()
            coach.totp_secret = secret
            data = {"email": email, "secret": secret, "uri": totp.provisioning_uri(secret, email)}
    if args.disable:
        text = f"two-step login disabled for {email}"
    else:
        text = (
            f"two-step login enabled for {email}; add this to an authenticator app\n"
            f"{data['uri']}\nsecret: {data['secret']}"
        )
    _print(data, args.json, text)
    return 0


def cmd_employee_add(args: argparse.Namespace, settings: Settings) -> int:
    """Creates an employee and prints the one-time invite code."""
    db = _database(settings)
    with db.session() as session, session.begin():
        employee, code = add_employee(
            session,
            coach_email=args.coach,
            name=args.name,
            language=args.language,
            first_sick_day=args.first_sick_day,
            trajectory=args.trajectory,
            weekly_target=args.weekly_target,
            invite_days=settings.invite_days,
        )
        data = {"id": employee.id, "invite_code": code}
    link = f"http://{settings.web_host}:{settings.web_port}/chat?code={code}"
    _print(data, args.json, f"employee {data['id']} created; invite code {code}\n{link}")
    return 0


def cmd_employee_invite(args: argparse.Namespace, settings: Settings) -> int:
    """Issues a fresh invite code (for a second channel or an expired code)."""
    db = _database(settings)
    with db.session() as session, session.begin():
        employee = get_employee(session, args.id)
        code = issue_invite(employee, settings.invite_days)
        data = {"id": employee.id, "invite_code": code}
    _print(data, args.json, f"new invite code for employee {args.id}: {code}")
    return 0


def cmd_employee_list(args: argparse.Namespace, settings: Settings) -> int:
    """Lists employees, optionally of one coach."""
    db = _database(settings)
    with db.session() as session:
        stmt = select(Employee).order_by(Employee.id)
        employees = list(session.scalars(stmt))
        data = [
            {
                "id": e.id,
                "name": e.name,
                "coach": e.coach.email,
                "language": e.language,
                "trajectory": e.trajectory,
                "week": trajectory_week(e.first_sick_day),
                "enrolled": bool(e.identities),
            }
            for e in employees
            if not args.coach or e.coach.email == args.coach.strip().lower()
        ]
    text = "\n".join(f"{d['id']:>5}  {d['name']}  week {d['week']}  ({d['coach']})" for d in data)
    _print(data, args.json, text or "no employees")
    return 0


def cmd_employee_export(args: argparse.Namespace, settings: Settings) -> int:
    """Prints everything stored about one employee."""
    db = _database(settings)
    with db.session() as session, session.begin():
        data = export(session, args.id)
        _audit(session, args.id, "export", "full export")
    _print(data, True, "")
    return 0


def cmd_employee_forget(args: argparse.Namespace, settings: Settings) -> int:
    """Erases an employee and their conversations."""
    db = _database(settings)
    events = forget(db, args.id)
    _print(
        {"id": args.id, "erased": True, "tracker_events_deleted": events},
        args.json,
        f"employee {args.id} erased ({events} conversation events deleted)",
    )
    return 0


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    """Writes the employer's monthly progress report (activities only) as HTML or PDF."""
    from bot.report import build, render_html, render_pdf

    db = _database(settings)
    with db.session() as session, session.begin():
        data = build(session, args.id, args.month)
        _audit(session, args.id, "report", f"employer report {args.month}")
    html = render_html(data, args.language)
    out = Path(args.out)
    try:
        if args.format == "pdf":
            out.write_bytes(render_pdf(html))
        else:
            out.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise KoersError(f"cannot write {out}: {exc.strerror}") from None
    print(f"report written to {out}")
    return 0


def cmd_applications(args: argparse.Namespace, settings: Settings) -> int:
    """Writes every application with its status history as CSV or PDF (evidence for UWV)."""
    from bot.applications import export_csv, export_pdf

    db = _database(settings)
    with db.session() as session, session.begin():
        if session.get(Employee, args.id) is None:
            raise KoersError(f"unknown employee: {args.id}")
        if args.format == "csv":
            data: bytes = export_csv(session, args.id, args.language).encode("utf-8-sig")
        else:
            data = export_pdf(session, args.id, args.language)
        _audit(session, args.id, "export", f"applications {args.format}")
    if args.out in (None, "-"):
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return 0
    out = Path(args.out)
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise KoersError(f"cannot write {out}: {exc.strerror}") from None
    print(f"applications written to {out}")
    return 0


def cmd_purge(args: argparse.Namespace, settings: Settings) -> int:
    """Erases employees whose waiting period ended longer ago than the retention period."""
    from bot.privacy import purge

    if args.older_than < 0:
        raise KoersError(f"--older-than must be 0 or more days, not {args.older_than}")
    db = _database(settings)
    ids = purge(db, args.older_than, dry_run=args.dry_run)
    verb = "would erase" if args.dry_run else "erased"
    _print({"dry_run": args.dry_run, "employees": ids}, args.json, f"{verb} {len(ids)} employees: {ids}")
    return 0


def cmd_signals_refresh(args: argparse.Namespace, settings: Settings) -> int:
    """Runs the time rules (inactivity, target missed, milestones) for every employee."""
    from bot.signals import refresh_all

    db = _database(settings)
    with db.session() as session, session.begin():
        count = refresh_all(session)
    _print({"signals": count}, args.json, f"{count} signals raised or still open from the time rules")
    return 0


def cmd_seed(args: argparse.Namespace, settings: Settings) -> int:
    """Fills the database with demo coaches and a caseload with history (refuses one with employees)."""
    from bot.seed import SEED_PASSWORD, check, seed

    check(args.coaches, args.employees, args.weeks)
    password = sys.stdin.readline().rstrip("\r\n") if args.password_stdin else SEED_PASSWORD
    db = _database(settings)
    result = seed(
        db,
        coaches=args.coaches,
        employees=args.employees,
        weeks=args.weeks,
        seed=args.seed,
        password=password,
        force=args.force,
    )
    db.dispose()
    data = result.as_dict()
    rows = sum(result.rows.values())
    login = f"; log in as {result.coaches[0]}" + (f" with {SEED_PASSWORD!r}" if result.password else "")
    text = (
        f"seeded {data['coaches']} coaches and {data['employees']} employees with up to {args.weeks} weeks "
        f"of history ({rows} rows) in {data['seconds']} s{login}"
    )
    _print(data, args.json, text)
    return 0


def cmd_nlu_eval(args: argparse.Namespace, settings: Settings) -> int:
    """Evaluates the NLU on a held-out TSV file against a Rasa server, or by cross-validation."""
    from bot.nlueval import cross_validate, evaluate_file

    if args.cross_validation:
        return cross_validate(args.cross_validation, settings)
    if not args.file:
        raise KoersError("give a held-out TSV file, or --cross-validation K")
    result = evaluate_file(args.file, settings, rasa_url=args.rasa_url, with_errors=args.errors)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    """Creates or migrates the database."""
    _database(settings)
    print("database is up to date")
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Starts every process of Koers and supervises them."""
    from bot.supervisor import run

    return run(settings)


class KoersParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr (sub-commands inherit it)."""

    def error(self, message: str) -> NoReturn:
        """Prints one line and exits 2."""
        print(f"koers: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    """Returns the argument parser of the ``koers`` command."""
    parser = KoersParser(prog="koers", description="Koers: a spoor 2 companion and its dashboard.")
    sub = parser.add_subparsers(dest="command", required=True)

    coach = sub.add_parser("coach", help="manage coaches").add_subparsers(dest="action", required=True)
    p = coach.add_parser("add", help="create a coach account")
    p.add_argument("--email", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_coach_add)

    p = coach.add_parser("totp", help="set up (or --disable) a coach's two-step login")
    p.add_argument("--email", required=True)
    p.add_argument("--disable", action="store_true", help="remove the secret: password only again")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_coach_totp)

    emp = sub.add_parser("employee", help="manage employees").add_subparsers(dest="action", required=True)
    p = emp.add_parser("add", help="create an employee and an invite code")
    p.add_argument("--coach", required=True, help="the coach's email")
    p.add_argument("--name", required=True)
    p.add_argument("--language", default=FALLBACK_LANGUAGE)
    p.add_argument("--first-sick-day", required=True, type=_date)
    p.add_argument("--trajectory", default="light", choices=["light", "intensive"])
    p.add_argument("--weekly-target", type=int, default=2)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_employee_add)

    p = emp.add_parser("invite", help="issue a new invite code")
    p.add_argument("id", type=_employee_id)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_employee_invite)

    p = emp.add_parser("list", help="list employees")
    p.add_argument("--coach")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_employee_list)

    p = emp.add_parser("export", help="everything stored about an employee, as JSON")
    p.add_argument("id", type=_employee_id)
    p.add_argument("--json", action="store_true", help="(always JSON)")
    p.set_defaults(func=cmd_employee_export)

    p = emp.add_parser("forget", help="erase an employee and their conversations")
    p.add_argument("id", type=_employee_id)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_employee_forget)

    p = sub.add_parser("report", help="the employer's monthly progress report (no health data)")
    p.add_argument("id", type=_employee_id)
    p.add_argument("--month", required=True, help="YYYY-MM")
    p.add_argument("--format", choices=["html", "pdf"], default="html")
    p.add_argument("--out", required=True)
    p.add_argument("--language", default=FALLBACK_LANGUAGE, help="language of the report (default nl)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("purge", help="erase trajectories that ended longer ago than the retention period")
    p.add_argument("--older-than", type=int, default=730, help="days after the end of week 104 (default 730)")
    p.add_argument("--dry-run", action="store_true", help="only list who would be erased")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_purge)
    signals = sub.add_parser("signals", help="coach signals").add_subparsers(dest="action", required=True)
    p = signals.add_parser("refresh", help="run the time rules for every employee (daily)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_signals_refresh)
    p = sub.add_parser("applications", help="every application with its history, as CSV or PDF (evidence)")
    p.add_argument("id", type=_employee_id)
    p.add_argument("--format", choices=("csv", "pdf"), default="csv")
    p.add_argument("--out", help="file to write (default: stdout)")
    p.add_argument("--language", default=FALLBACK_LANGUAGE, help="language of the labels (default nl)")
    p.set_defaults(func=cmd_applications)
    p = sub.add_parser("seed", help="demo data: coaches and a caseload with history (empty database only)")
    p.add_argument("--coaches", type=int, default=20)
    p.add_argument("--employees", type=int, default=2000, help="spread round-robin over the coaches")
    p.add_argument("--weeks", type=int, default=104, help="the longest history, in trajectory weeks (1-104)")
    p.add_argument("--seed", type=int, default=42, help="the same seed gives the same data")
    p.add_argument("--force", action="store_true", help="also when employees exist (adds, deletes nothing)")
    p.add_argument("--password-stdin", action="store_true", help="coaches' password (default: a demo one)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_seed)
    p = sub.add_parser("nlu-eval", help="intent and entity scores on a held-out TSV, or cross-validation")
    p.add_argument("file", nargs="?")
    p.add_argument(
        "--cross-validation",
        type=int,
        metavar="K",
        help="K-fold cross-validation of the training data per language instead (K models are trained)",
    )
    p.add_argument("--rasa-url", help="a running Rasa server (default: start one)")
    p.add_argument("--errors", action="store_true", help="also list every misclassified utterance")
    p.set_defaults(func=cmd_nlu_eval)

    db = sub.add_parser("db", help="database").add_subparsers(dest="action", required=True)
    p = db.add_parser("upgrade", help="create or migrate the schema")
    p.set_defaults(func=cmd_db_upgrade)

    p = sub.add_parser("run", help="start Rasa, the action server, the web app (and Telegram)")
    p.set_defaults(func=cmd_run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace, Settings], int] = args.func
    try:
        return func(args, load_settings())
    except KoersError as exc:
        print(f"koers: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
