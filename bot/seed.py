"""``koers seed``: a realistic caseload for demonstrations and the coach-side benchmark.

Creates coaches (``coach01@koers.test`` …) and employees spread round-robin
over them, each somewhere in the 104-week waiting period, with the history
real use would have left since they enrolled: about three applications a week
with their dated status history, reasons for most low weeks, assignment
progress and the persoonsprofiel answers, weekly reflections with a mood and
their reminders, session and reflection summaries, signals (crisis, contact
requests, low mood, two low weeks, inactivity, milestones; most resolved by
the coach with a note), coach notes and messages, a CV for some, and the audit
rows of the coach's views, downloads and changes.

Deterministic: the same ``seed`` and moment give the same rows, and each
employee has a random stream of their own, so a run minutes later differs only
where time itself does (what is already resolved, summarised or sent). The first
employee of the first coach always has the full ``weeks`` of history (the
benchmark's employer report uses them).

Fast: rows are written with SQLAlchemy core ``executemany`` in batches, with
ids assigned here (and PostgreSQL's sequences moved past them afterwards), and
the coaches' password is hashed once and shared. 2,000 employees with 104
weeks take well under a minute on SQLite.

Decision: seeding refuses a database that already has employees, so demo data
never mixes with real data by accident. ``force=True`` (``--force``) adds the
data next to what is there and never deletes anything; coaches whose e-mail
already exists are reused. Run it on an idle database: ids are taken from the
highest id at the start.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
import random
import time
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.orm import Session

from bot import i18n
from bot.catalogue import catalogue
from bot.db import Database
from bot.enrolment import KoersError
from bot.models import AssignmentProgress, Base, Coach, Employee
from bot.passwords import MIN_LENGTH, hash_password
from bot.profile import describe
from bot.signals import AUTO_RESOLVED, URGENCY

AMSTERDAM = zoneinfo.ZoneInfo("Europe/Amsterdam")
# the documented password of seeded coaches (demo and benchmark data only; --password-stdin sets another)
SEED_PASSWORD = "koers demo wachtwoord"
EMAIL = "coach{number:02d}@koers.test"
MAX_WEEKS = 104
BATCH = 20_000
# parents before children: the order rows are written in
TABLES = (
    "coaches",
    "employees",
    "channel_identities",
    "cvs",
    "assignment_progress",
    "applications",
    "application_status_changes",
    "week_notes",
    "reflections",
    "reminders",
    "summaries",
    "signals",
    "coach_notes",
    "coach_messages",
    "audit_log",
)

FIRST_NAMES = (
    "Jan", "Piet", "Kees", "Henk", "Gerrit", "Willem", "Bram", "Daan", "Ruben", "Thomas", "Stijn", "Bas",
    "Jeroen", "Marco", "Erik", "Sander", "Dennis", "Rob", "Ronald", "Arjen", "Anna", "Emma", "Sophie",
    "Julia", "Lotte", "Fleur", "Sanne", "Lisa", "Eva", "Iris", "Marieke", "Ingrid", "Petra", "Monique",
    "Linda", "Anouk", "Femke", "Esther", "Yvonne", "Wendy", "Mohamed", "Fatima", "Youssef", "Khadija",
    "Mehmet", "Ayşe", "Emre", "Zeynep", "Piotr", "Katarzyna", "Tomasz", "Agnieszka", "Olena", "Oleksandr",
    "Priya", "Samira", "Nadia", "Ahmet", "Hatice", "Rachid",
)  # fmt: skip
LAST_NAMES = (
    "Jansen", "de Jong", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser", "Smit",
    "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen",
    "Dekker", "Brouwer", "de Wit", "Dijkstra", "Smits", "de Graaf", "van der Meer", "van der Linden",
    "Kok", "Jacobs", "de Haan", "Vermeulen", "van den Heuvel", "van der Veen", "van den Broek",
    "de Bruijn", "van der Heijden", "Schouten", "van Beek", "Willems", "van Vliet", "Hoekstra", "Maas",
    "Verhoeven", "Koster", "van Dam", "Prins", "Blom", "Huisman", "el Amrani", "Bennani", "Yılmaz",
    "Kaya", "Demir", "Çelik", "Kowalski", "Nowak", "Wiśniewska", "Kovalenko", "Shevchenko", "Ramdin",
    "Sewnarain",
)  # fmt: skip
COACH_NAMES = (
    "Carla de Vries", "Marco Jansen", "Saskia van Dijk", "Hans Bakker", "Nicole Visser", "Erik Smit",
    "Ilse Meijer", "Frank de Boer", "Mirjam Mulder", "Wouter de Groot", "Brenda Bos", "Jasper Vos",
    "Karin Peters", "Dirk Hendriks", "Naima el Idrissi", "Tim van Leeuwen", "Hanneke Dekker",
    "Joost Brouwer", "Aylin Öztürk", "Marloes Dijkstra",
)  # fmt: skip
EMPLOYERS = (
    "PostNL", "Albert Heijn", "Jumbo", "Coolblue", "bol.com", "Rabobank", "ING", "ABN AMRO",
    "Gemeente Utrecht", "Gemeente Amsterdam", "Gemeente Rotterdam", "NS", "Philips", "Heineken", "KPN",
    "HEMA", "Action", "Kruidvat", "Gamma", "Praxis", "IKEA", "DHL", "Picnic", "Achmea", "Eneco", "Arriva",
    "Connexxion", "Sodexo", "CSU", "Blokker", "Heijmans", "BAM", "Buurtzorg", "Humanitas", "Vitens",
    "Zilveren Kruis", "Intratuin", "Thuisbezorgd", "Lidl", "Aldi", "Van der Valk", "Stedin", "Bouwmaat",
    "Technische Unie", "Vattenfall", "Gemeente Den Haag", "Hogeschool Utrecht", "UMC Utrecht",
)  # fmt: skip
AGENCIES = ("Randstad", "Tempo-Team", "Start People", "Adecco", "Olympia", "YoungCapital", "Manpower")
JOB_TITLES = (
    "chauffeur", "orderpicker", "magazijnmedewerker", "administratief medewerker",
    "klantenservicemedewerker", "receptionist", "schoonmaker", "postbezorger", "vakkenvuller",
    "kassamedewerker", "planner", "monteur", "beveiliger", "conciërge", "facilitair medewerker",
    "medewerker backoffice", "medewerker inkoop", "financieel administratief medewerker",
    "productiemedewerker", "heftruckchauffeur", "buschauffeur", "bezorger", "servicemedewerker",
    "gastvrouw", "kok", "zorgassistent", "onderwijsassistent", "verkoopmedewerker", "officemanager",
    "HR-assistent", "medewerker klantcontact", "telefonist", "archiefmedewerker", "teamleider logistiek",
)  # fmt: skip
PLACES = ("Utrecht", "Amersfoort", "Zeist", "Nieuwegein", "Houten", "Woerden", "Amsterdam", "Almere",
          "Rotterdam", "Den Haag", "Gouda", "Hilversum", "Veenendaal", "Ede", "Arnhem")  # fmt: skip
CHANNEL_WEIGHTS = {
    "vacancy_site": 55,
    "open_application": 10,
    "network": 10,
    "agency": 12,
    "phone": 5,
    "via_coach": 8,
}
REASON_WEIGHTS = {"no_vacancies": 35, "appointments": 20, "illness": 20, "training": 15, "other": 10}
RESOLUTION_NOTES = (
    "Gebeld, gaat weer wat beter.",
    "Besproken in ons gesprek van deze week.",
    "Afspraak gemaakt voor volgende week.",
    "Mail gestuurd en antwoord gekregen.",
    "Samen een plan gemaakt voor de komende weken.",
    "Doorgesproken met de werkgever (zonder medische details).",
    "Via Telegram contact gehad, geen actie nodig.",
    None,
)
CRISIS_NOTES = (
    "Direct gebeld; huisarts is ingeschakeld en 113 besproken.",
    "Dezelfde dag gesproken, veiligheidsplan gemaakt.",
)
COACH_NOTES = (
    "Wil graag parttime werken, hooguit 24 uur.",
    "Sterk in klantcontact, twijfelt over zichzelf.",
    "Rijbewijs C verlopen; kijken of verlengen kan.",
    "Zoekt werk dichter bij huis, reistijd max 30 minuten.",
    "Goede energie in het gesprek, meer structuur in de week.",
    "Werkgever vraagt om een update voor de eerstejaarsevaluatie.",
    "Open sollicitaties werken beter dan vacaturesites.",
)
COACH_MESSAGES = (
    "Goed bezig deze week!",
    "Denk je aan de terugblik van deze week?",
    "Ik heb een vacature voor je doorgestuurd per mail.",
    "Zullen we donderdag even bellen?",
    "Mooi dat je bij het uitzendbureau bent ingeschreven.",
)
REFLECTION_ANSWERS = (
    "Het contact met mijn collega's.",
    "Dat ik niet meer terug kan naar mijn oude werk.",
    "Ik kan nog steeds goed plannen en organiseren.",
    "Een baan waar ik weer iets kan betekenen.",
    "Dat ik elke dag een wandeling maak.",
    "Het sollicitatiegesprek bij de gemeente.",
    "Geduld, en dat ik om hulp durf te vragen.",
    "Misschien iets in de logistiek of de zorg.",
    "Meer rust in mijn hoofd dan een maand geleden.",
    "Mijn partner en mijn zus steunen me.",
    "Wisselend, de ochtenden zijn beter.",
    "Een nieuwe start, met andere taken.",
)
SMALL_STEPS = (
    "Twee vacatures bekijken op werk.nl.",
    "Mijn cv laten lezen door mijn zus.",
    "Bellen met een uitzendbureau.",
    "Een open sollicitatie schrijven.",
    "Mijn LinkedIn-profiel bijwerken.",
    "Een uur wandelen op dinsdag en vrijdag.",
    "Een netwerkgesprek met een oud-collega plannen.",
)
ANSWER_TEXT = {
    "tasks": ("Planning van de ritten en contact met klanten", "Orders verzamelen en controleren",
              "Administratie bijhouden en facturen verwerken", "Klanten helpen aan de balie"),
    "can_do": ("Zittend werk, afwisselend met lopen", "Werk achter de computer, met pauzes",
               "Klantcontact aan de telefoon", "Licht fysiek werk in eigen tempo"),
    "limitations": ("Niet langer dan een uur achter elkaar staan", "Niet zwaar tillen (boven 10 kilo)",
                    "Geen nachtdiensten", "Niet meer dan vier uur per dag achter een scherm"),
    "conditions": ("Vaste werktijden overdag", "Een rustige werkplek", "Mogelijkheid om thuis te werken"),
    "drivers": ("Mensen helpen", "Dingen goed regelen", "Samenwerken in een team",
                "Iets maken met mijn handen"),
}  # fmt: skip
LIST_TEXT = {
    "sectors": ("logistiek", "zorg", "overheid", "detailhandel", "administratie", "techniek", "onderwijs"),
    "kinds_of_work": ("planner", "administratief werk", "klantenservice", "receptie", "magazijn",
                      "begeleiding"),
    "strengths": ("betrouwbaar", "nauwkeurig", "klantgericht", "collegiaal", "oplossingsgericht", "geduldig"),
}  # fmt: skip
EDUCATION = (
    ("MBO Logistiek niveau 2", "ROC Midden Nederland"),
    ("MBO Administratief medewerker", "ROC van Amsterdam"),
    ("VMBO techniek", "Het Nieuwe Lyceum"),
    ("HBO Bedrijfskunde", "Hogeschool Utrecht"),
    ("MBO Helpende zorg en welzijn", "Albeda"),
    ("Heftruckcertificaat", "TCT Opleidingen"),
)
LANGUAGE_NAMES = ("Nederlands", "Engels", "Duits", "Turks", "Arabisch", "Pools", "Oekraïens")


@dataclass
class SeedResult:
    """What :func:`seed` wrote: the coaches' e-mails, the row counts and how long it took."""

    coaches: list[str]
    employees: int
    rows: dict[str, int]
    seconds: float
    full_history_employee: int | None
    password: str | None = None
    busiest_coach: str | None = None
    per_coach: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Returns the result as JSON-ready data."""
        return {
            "coaches": len(self.coaches),
            "coach_emails": self.coaches,
            "employees": self.employees,
            "rows": self.rows,
            "seconds": round(self.seconds, 1),
            "full_history_employee": self.full_history_employee,
            "password": self.password,
            "busiest_coach": self.busiest_coach,
            "busiest_coach_employees": self.per_coach.get(self.busiest_coach or "", 0),
        }


class Rows:
    """Buffers rows per table and writes them with ``executemany`` in parent-before-child order.

    Ids are assigned here, from the highest id in the table at the start, so
    children can point at parents before anything is written.
    """

    def __init__(self, session: Session, batch: int = BATCH) -> None:
        self.session = session
        self.batch = batch
        self.tables: dict[str, Table] = {name: Base.metadata.tables[name] for name in TABLES}
        self.blank: dict[str, dict[str, Any]] = {
            name: {c.name: None for c in table.columns} for name, table in self.tables.items()
        }
        self.next_id = {
            name: int(session.scalar(select(func.max(table.c.id))) or 0) + 1
            for name, table in self.tables.items()
        }
        self.buffers: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
        self.counts = dict.fromkeys(TABLES, 0)
        self.pending = 0

    def add(self, table: str, **values: Any) -> int:
        """Queues one row; returns its id."""
        row_id = self.next_id[table]
        self.next_id[table] = row_id + 1
        row = dict(self.blank[table])
        row.update(values)
        row["id"] = row_id
        self.buffers[table].append(row)
        self.counts[table] += 1
        self.pending += 1
        if self.pending >= self.batch:
            self.flush()
        return row_id

    def flush(self) -> None:
        """Writes every queued row."""
        connection = self.session.connection()
        for name in TABLES:
            rows = self.buffers[name]
            if rows:
                connection.execute(insert(self.tables[name]), rows)
                self.buffers[name] = []
        self.pending = 0

    def fix_sequences(self) -> None:
        """Moves PostgreSQL's id sequences past the ids written here."""
        connection = self.session.connection()
        if connection.dialect.name != "postgresql":
            return
        for name in TABLES:
            if self.counts[name]:
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT MAX(id) FROM {name}))"
                    )
                )


def poisson(rng: random.Random, mean: float) -> int:
    """Returns a Poisson-distributed count (Knuth; small means only)."""
    if mean <= 0:
        return 0
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def weighted(rng: random.Random, weights: dict[str, int]) -> str:
    """Returns one key, chosen by weight."""
    return rng.choices(list(weights), weights=list(weights.values()))[0]


@functools.lru_cache(maxsize=4096)
def medium_date(lang: str, day: dt.date) -> str:
    """Formats a date like the summaries do (cached: babel is slow for a million rows)."""
    return i18n.format_date(lang, day, "medium")


@functools.lru_cache(maxsize=4096)
def midnight(day: dt.date) -> dt.datetime:
    """Returns the start of a day in Amsterdam, in UTC (cached: a million rows ask)."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=AMSTERDAM).astimezone(dt.timezone.utc)


def iso_key(day: dt.date) -> str:
    """Returns the ISO week of a day as ``YYYY-Www``."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


class Caseload:
    """Writes one employee after another, with everything real use would have left."""

    def __init__(self, rows: Rows, rng: random.Random, weeks: int, now: dt.datetime) -> None:
        self.rows = rows
        self.rng = rng
        self.weeks = weeks
        self.now = now
        self.today = now.astimezone(AMSTERDAM).date()
        self.lang = i18n.FALLBACK_LANGUAGE
        self.others = [code for code in i18n.languages() if code != i18n.FALLBACK_LANGUAGE]
        self.cat = catalogue()

    # --- time ---------------------------------------------------------------------------------------

    def at(self, day: dt.date, hour: float) -> dt.datetime:
        """Returns a moment on a day (hours after Amsterdam's midnight, as UTC), never after now."""
        return min(midnight(day) + dt.timedelta(hours=hour), self.now)

    def office(self, day: dt.date) -> dt.datetime:
        """Returns a moment in office hours on the first weekday from ``day`` on."""
        while day.weekday() >= 5:
            day += dt.timedelta(days=1)
        return self.at(day, self.rng.uniform(8.5, 17.5))

    # --- one employee --------------------------------------------------------------------------------

    def employee(self, coach_id: int, coach_name: str, full_history: bool) -> int:
        """Writes one employee and their history; returns the id."""
        rng, rows, today = self.rng, self.rows, self.today
        week_now = self.weeks if full_history else rng.randint(1, self.weeks)
        first_sick_day = today - dt.timedelta(days=7 * (week_now - 1) + rng.randint(0, 6))
        enrolled_on = min(
            today, first_sick_day + dt.timedelta(days=0 if full_history else rng.randint(0, 10))
        )
        enrolled = full_history or rng.random() > 0.03
        trajectory = "intensive" if rng.random() < 0.35 else "light"
        target = rng.choice((2, 3, 3, 3, 4)) if trajectory == "light" else rng.choice((1, 2, 2, 3))
        inactivity_days = rng.choice((7, 7, 7, 7, 10, 14))
        language = rng.choice(self.others) if self.others and rng.random() < 0.15 else self.lang
        created = self.at(enrolled_on, rng.uniform(9, 16))
        gap = (
            rng.randint(inactivity_days + 1, 40)
            if enrolled and not full_history and rng.random() < 0.08
            else 0
        )
        if gap:
            last_active = max(created, self.now - dt.timedelta(days=gap, hours=rng.uniform(0, 10)))
        elif enrolled:
            last_active = max(created, self.now - dt.timedelta(hours=rng.uniform(1, 96)))
        else:
            last_active = None
        employee_id = rows.next_id["employees"]
        secret = f"{employee_id}:{rng.getrandbits(64)}"
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        rows.add(
            "employees",
            coach_id=coach_id,
            name=name,
            language=language,
            first_sick_day=first_sick_day,
            trajectory=trajectory,
            weekly_target=target,
            invite_code_hash=hashlib.sha256(secret.encode()).hexdigest(),
            invite_expires_at=created + dt.timedelta(days=14),
            invite_used_at=created + dt.timedelta(minutes=rng.randint(5, 600)) if enrolled else None,
            created_at=created,
            last_activity_at=last_active,
            inactivity_days=inactivity_days,
        )
        if not enrolled or last_active is None:
            return employee_id
        on_telegram = rng.random() < 0.6
        sender = (
            f"telegram:{100_000_000 + employee_id * 10 + rng.randint(0, 9)}"
            if on_telegram
            else f"web:{employee_id:x}{rng.getrandbits(96):024x}"
        )
        rows.add(
            "channel_identities",
            employee_id=employee_id,
            sender_id=sender,
            channel="telegram" if on_telegram else "web",
            created_at=created + dt.timedelta(minutes=5),
        )
        history = History(
            self, employee_id, name, coach_id, coach_name, sender, on_telegram, created, last_active
        )
        history.write(first_sick_day, enrolled_on, target, inactivity_days, trajectory, gap)
        return employee_id


class History:
    """The history of one enrolled employee: conversations, applications, signals, the coach's work."""

    def __init__(
        self,
        caseload: Caseload,
        employee_id: int,
        name: str,
        coach_id: int,
        coach_name: str,
        sender: str,
        on_telegram: bool,
        created: dt.datetime,
        last_active: dt.datetime,
    ) -> None:
        self.c = caseload
        self.rng = caseload.rng
        self.rows = caseload.rows
        self.lang = caseload.lang
        self.employee_id = employee_id
        self.name = name
        self.coach_id = coach_id
        self.actor = f"coach {coach_name}"
        self.sender = sender
        self.on_telegram = on_telegram
        self.created = created
        self.last_active = last_active
        self.last_day = last_active.astimezone(AMSTERDAM).date()
        # what each conversation day held, for its summary: applications, moods, signals
        self.days: dict[dt.date, dict[str, Any]] = {}

    def day(self, day: dt.date) -> dict[str, Any]:
        """Returns the record of one conversation day (its time of day is fixed once)."""
        if day not in self.days:
            self.days[day] = {"hour": self.rng.uniform(8, 21), "applications": 0, "lines": []}
        return self.days[day]

    def audit(self, when: dt.datetime, action: str, target: str) -> None:
        """Writes one audit row of the coach."""
        self.rows.add(
            "audit_log",
            employee_id=self.employee_id,
            coach_id=self.coach_id,
            actor=self.actor,
            action=action,
            target=target,
            created_at=min(when, self.c.now),
        )

    def signal(
        self,
        kind: str,
        key: str,
        raised: dt.datetime,
        detail: str | None = None,
        open_for_days: float = 3.0,
        note: str | None = "",
    ) -> None:
        """Writes a signal; one older than ``open_for_days`` is resolved by the coach (audited)."""
        resolved_at, resolution = None, None
        if raised <= self.c.now - dt.timedelta(days=open_for_days):
            resolved_at = raised + dt.timedelta(hours=self.rng.uniform(1, 24 * open_for_days))
            resolution = self.rng.choice(RESOLUTION_NOTES) if note == "" else note
        signal_id = self.rows.add(
            "signals",
            employee_id=self.employee_id,
            kind=kind,
            urgency=URGENCY[kind],
            dedupe_key=key,
            detail=detail,
            created_at=raised,
            resolved_at=resolved_at,
            resolution_note=resolution,
        )
        if resolved_at is not None and resolution != AUTO_RESOLVED:
            self.audit(resolved_at - dt.timedelta(minutes=2), "view", "employee page")
            self.audit(resolved_at, "resolve", f"signal #{signal_id} ({kind})")

    def write(
        self,
        first_sick_day: dt.date,
        enrolled_on: dt.date,
        target: int,
        inactivity_days: int,
        trajectory: str,
        gap: int,
    ) -> None:
        """Writes the whole history, from enrolment until now."""
        self.assignments(enrolled_on, trajectory)
        self.applications(enrolled_on, target)
        self.reflections(enrolled_on, first_sick_day)
        self.milestones(first_sick_day, enrolled_on)
        self.events(enrolled_on)
        if gap:
            raised = self.last_active + dt.timedelta(days=inactivity_days, minutes=self.rng.randint(1, 59))
            if raised <= self.c.now:
                self.signal(
                    "inactivity",
                    f"inactivity:{self.employee_id}:{self.last_active.date().isoformat()}",
                    raised,
                    detail=str((self.c.now - self.last_active).days),
                    open_for_days=10_000,
                )
        self.coach_work(enrolled_on, target, inactivity_days)
        self.summaries()

    # --- assignments and the CV -----------------------------------------------------------------------

    def answer(self, key: str, kind: str, low: int, high: int) -> Any:
        """Returns a plausible stored answer for one field."""
        rng = self.rng
        if kind == "text":
            return rng.choice(ANSWER_TEXT.get(key) or ANSWER_TEXT["tasks"])
        if kind == "list":
            return rng.sample(LIST_TEXT.get(key) or LIST_TEXT["strengths"], 2)
        if kind == "scale":
            return rng.randint(2, 5)
        if kind == "number":
            return rng.randint(max(low, 8), min(high, 32)) if high > 8 else rng.randint(low, high)
        return None

    def entries(self, key: str) -> list[dict[str, Any]]:
        """Returns the entries of a list assignment (work history, education)."""
        rng, year = self.rng, self.c.today.year
        if key == "work_history":
            start = rng.randint(1990, year - 6)
            found = []
            for number in range(rng.randint(1, 3)):
                end: int | str = "now" if number == 0 else start
                begin = start if number == 0 else max(1980, start - rng.randint(2, 8))
                found.append(
                    {
                        "employer": rng.choice(EMPLOYERS),
                        "role": rng.choice(JOB_TITLES),
                        "period": {"from": begin, "to": end},
                        "tasks": rng.choice(ANSWER_TEXT["tasks"]),
                    }
                )
                start = begin
            return found
        name, institution = rng.choice(EDUCATION)
        return [
            {
                "name": name,
                "institution": institution,
                "diploma": rng.random() < 0.8,
                "year": rng.randint(1985, year - 2),
            }
        ]

    def assignments(self, enrolled_on: dt.date, trajectory: str) -> None:
        """Writes assignment progress: the first ones done, the next in progress, with summaries."""
        rng, today = self.rng, self.c.today
        weeks_in = max(0, (min(today, self.last_day) - enrolled_on).days // 7)
        done = min(
            len(self.c.cat.assignments),
            weeks_in // (3 if trajectory == "intensive" else 2) + rng.randint(0, 2),
        )
        day = enrolled_on
        for index, assignment in enumerate(self.c.cat.assignments):
            if index > done:
                break
            day = min(self.last_day, day + dt.timedelta(days=rng.randint(2, 9)))
            fields = assignment.fields
            if assignment.repeat:
                answers: dict[str, Any] = {"entries": self.entries(assignment.key)}
            else:
                answers = {"values": {f.key: self.answer(f.key, f.type, f.min, f.max) for f in fields}}
            finished = index < done
            step = None
            if not finished:
                step = fields[rng.randrange(len(fields))].key
                if not assignment.repeat:
                    keys = [f.key for f in fields]
                    answers["values"] = {
                        k: v for k, v in answers["values"].items() if keys.index(k) < keys.index(step)
                    }
            when = self.at_day(day)
            row_id = self.rows.add(
                "assignment_progress",
                employee_id=self.employee_id,
                assignment_key=assignment.key,
                catalogue_version=self.c.cat.version,
                status="done" if finished else "in_progress",
                current_step=step,
                answers=answers,
                updated_at=when,
            )
            record = self.day(day)
            status = i18n.t(self.lang, f"summary.status.{'done' if finished else 'in_progress'}")
            title = i18n.t(self.lang, f"assignment.{assignment.key}.title")
            record["lines"].append(i18n.t(self.lang, "summary.line.assignment", title=title, status=status))
            if finished:
                lines = describe(self.lang, assignment, AssignmentProgress(answers=answers))
                self.rows.add(
                    "summaries",
                    employee_id=self.employee_id,
                    session_key=f"assignment:{row_id}:{when.isoformat()}:{rng.getrandbits(64):016x}",
                    language=self.lang,
                    text="\n".join([i18n.t(self.lang, "summary.assignment_done", title=title), *lines]),
                    created_at=when,
                )
        work = self.c.cat.assignments[0].key
        if done >= 2 and weeks_in > 8 and rng.random() < 0.6:
            self.rows.add(
                "cvs",
                employee_id=self.employee_id,
                language=self.lang,
                sections={
                    "personal": {
                        "name": self.name,
                        "place": rng.choice(PLACES),
                        "phone": f"06 {rng.randint(10_000_000, 99_999_999)}",
                        "email": None,
                    },
                    "profile_text": "Betrouwbare en nauwkeurige kracht die graag weer aan de slag gaat.",
                    "skills": rng.sample(LIST_TEXT["strengths"], 3),
                    "languages": [
                        {"language": LANGUAGE_NAMES[0], "level": "native"},
                        {"language": rng.choice(LANGUAGE_NAMES[1:]), "level": rng.choice(("good", "basic"))},
                    ],
                    "driving_licence": rng.choice(("B", "B", "C", None)),
                    "order": [work, "education", "skills", "languages", "profile_text", "driving_licence"],
                },
                updated_at=self.at_day(
                    min(self.last_day, enrolled_on + dt.timedelta(days=rng.randint(30, 60)))
                ),
            )

    def at_day(self, day: dt.date) -> dt.datetime:
        """Returns the conversation moment of a day."""
        return self.c.at(day, self.day(day)["hour"])

    # --- applications, low weeks, two low weeks in a row ------------------------------------------------

    def applications(self, enrolled_on: dt.date, target: int) -> None:
        """Writes about three applications a week with their history, reasons and target signals."""
        rng, today = self.rng, self.c.today
        rate = rng.uniform(2.2, 3.8) if target >= 2 else rng.uniform(1.6, 3.0)
        monday = enrolled_on - dt.timedelta(days=enrolled_on.weekday())
        previous: tuple[dt.date, int] | None = None
        while monday <= today:
            sunday = monday + dt.timedelta(days=6)
            first, last = max(monday, enrolled_on), min(sunday, today, self.last_day)
            count = 0
            if first <= last:
                share = ((last - first).days + 1) / 7
                count = poisson(rng, rate * share)
                # logged in one or two sittings a week
                sittings = sorted(
                    {first + dt.timedelta(days=rng.randint(0, (last - first).days)) for _ in range(2)}
                )
                for _ in range(count):
                    logged = rng.choice(sittings)
                    applied = max(first, logged - dt.timedelta(days=rng.randint(0, 2)))
                    self.application(applied, logged)
            finished = sunday < today
            if finished and count < target and first <= last and rng.random() < 0.7:
                asked = min(self.last_day, sunday + dt.timedelta(days=rng.randint(1, 4)))
                if asked > sunday:
                    year, week, _ = monday.isocalendar()
                    self.rows.add(
                        "week_notes",
                        employee_id=self.employee_id,
                        iso_year=year,
                        iso_week=week,
                        reason=weighted(rng, REASON_WEIGHTS),
                        created_at=self.at_day(asked),
                    )
            # the hourly rule: the last two whole weeks below target, both after enrolment
            raised = self.c.at(sunday + dt.timedelta(days=1), rng.uniform(0.1, 1.0))
            if (
                finished
                and count < target
                and previous
                and previous[1] < target
                and enrolled_on <= previous[0]
                and raised < self.c.now
            ):
                self.signal(
                    "target_missed",
                    f"target_missed:{self.employee_id}:{iso_key(monday)}",
                    raised,
                    detail=f"{previous[1]}/{target}, {count}/{target}",
                    open_for_days=5,
                )
            previous = (monday, count) if finished else previous
            monday += dt.timedelta(days=7)

    def application(self, applied: dt.date, logged: dt.date) -> None:
        """Writes one application and its dated status history."""
        rng, today = self.rng, self.c.today
        channel = weighted(rng, CHANNEL_WEIGHTS)
        employer = rng.choice(AGENCIES) if channel == "agency" else rng.choice(EMPLOYERS)
        steps = [("sent", applied)]
        age = (today - applied).days

        def later(low: int, high: int) -> dt.date | None:
            start = steps[-1][1]
            room = (today - start).days
            return start + dt.timedelta(days=rng.randint(low, min(high, room))) if room >= low else None

        roll = rng.random()
        if age >= 4:
            if roll < 0.40:
                day = later(3, 28)
                if day:
                    steps.append(("rejected", day))
            elif roll < 0.56:
                day = later(4, 21)
                if day:
                    steps.append(("interview", day))
                    roll2 = rng.random()
                    nxt = later(3, 14)
                    if nxt and roll2 < 0.55:
                        steps.append(("rejected", nxt))
                    elif nxt and roll2 < 0.8:
                        steps.append(("second_interview", nxt))
                        final = later(3, 14)
                        if final:
                            steps.append((rng.choice(("rejected", "rejected", "offer", "hired")), final))
                    elif nxt and roll2 < 0.85:
                        steps.append(("withdrawn", nxt))
            elif roll < 0.60:
                day = later(2, 14)
                if day:
                    steps.append(("withdrawn", day))
            elif age >= 42 and roll < 0.9:
                steps.append(("no_response", applied + dt.timedelta(days=42)))
        logged_at = self.at_day(logged) + dt.timedelta(minutes=rng.randint(1, 20))
        application_id = self.rows.add(
            "applications",
            employee_id=self.employee_id,
            idempotency_key=f"draft:{self.employee_id:x}{rng.getrandbits(96):024x}",
            employer=employer,
            job_title=rng.choice(JOB_TITLES),
            applied_on=applied,
            channel=channel,
            status=steps[-1][0],
            vacancy_url=f"https://werk.example/vacature/{rng.randint(100_000, 999_999)}"
            if rng.random() < 0.3
            else None,
            contact_person=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            if rng.random() < 0.15
            else None,
            note="Via de buurvrouw gehoord" if rng.random() < 0.03 else None,
            created_at=logged_at,
        )
        self.days[logged]["applications"] += 1
        for status, on in steps:
            self.rows.add(
                "application_status_changes",
                application_id=application_id,
                status=status,
                changed_on=on,
                created_at=max(logged_at, self.c.at(on, 12)),
            )

    # --- reflections, low mood, reminders ------------------------------------------------------------------

    def reflections(self, enrolled_on: dt.date, first_sick_day: dt.date) -> None:
        """Writes roughly weekly reflections with a mood, their summaries, reminders and low-mood signals."""
        rng = self.rng
        sets = self.c.cat.reflection_sets
        skip = rng.uniform(0.1, 0.5)
        mood_base = rng.choice((2, 3, 3, 3, 4, 4, 5))
        day = enrolled_on + dt.timedelta(days=rng.randint(1, 6))
        previous: tuple[int, int | None, str | None] | None = None  # id, mood, small step
        due_keys: set[str] = set()
        while day <= self.last_day:
            if rng.random() < skip:
                day += dt.timedelta(days=7)
                continue
            week = (day - first_sick_day).days // 7 + 1
            question_set = week % len(sets)
            steps = ["mood", *sets[question_set], "small_step"]
            if previous and previous[2]:
                steps.insert(0, "last_step")
            answers: dict[str, Any] = {"_steps": steps}
            for step in steps:
                if step != "mood":
                    answers[step] = rng.choice(REFLECTION_ANSWERS)
            small = rng.choice(SMALL_STEPS)
            answers["small_step"] = small
            started = self.at_day(day)
            open_one = day >= self.c.today - dt.timedelta(days=2) and rng.random() < 0.3
            mood = max(1, min(5, mood_base + rng.choice((-1, 0, 0, 1))))
            reflection_id = self.rows.add(
                "reflections",
                employee_id=self.employee_id,
                week_number=week,
                question_set=question_set,
                current_step=steps[len(steps) // 2] if open_one else None,
                answers=answers,
                mood=mood,
                small_step=None if open_one else small,
                started_at=started,
                completed_at=None if open_one else started + dt.timedelta(minutes=rng.randint(5, 15)),
            )
            record = self.day(day)
            if open_one:
                record["lines"].append(i18n.t(self.lang, "summary.line.reflection_open"))
                break
            record["lines"].append(i18n.t(self.lang, "summary.line.reflection", mood=mood))
            lines = [i18n.t(self.lang, "summary.reflection_header", week=week, mood=mood)]
            if previous and previous[1] is not None:
                lines.append(
                    i18n.t(
                        self.lang,
                        "summary.mood_change",
                        before=previous[1],
                        change=f"{mood - previous[1]:+d}",
                    )
                )
            for step in steps:
                if step not in ("mood", "small_step"):
                    label = (
                        "reflection.last_step.label"
                        if step == "last_step"
                        else f"reflection.set{question_set + 1}.{step}.label"
                    )
                    lines.append(f"• {i18n.t(self.lang, label)}: {answers[step]}")
            lines.append(i18n.t(self.lang, "summary.small_step", step=small))
            completed = started + dt.timedelta(minutes=15)
            self.rows.add(
                "summaries",
                employee_id=self.employee_id,
                session_key=f"reflection:{reflection_id}",
                language=self.lang,
                text="\n".join(lines),
                created_at=completed,
            )
            if previous and previous[1] is not None and previous[1] <= 2 and mood <= 2:
                self.signal(
                    "low_mood",
                    f"low_mood:{previous[0]}:{reflection_id}",
                    completed,
                    detail=i18n.t(self.lang, "signal.low_mood_detail", first=previous[1], second=mood),
                )
                record["lines"].append(self.signal_line("low_mood"))
            due_local = completed.astimezone(AMSTERDAM) + dt.timedelta(days=7)
            if due_local.weekday() == 6:
                due_local += dt.timedelta(days=1)
            due = due_local.replace(hour=10, minute=0, second=0, microsecond=0).astimezone(dt.timezone.utc)
            key = f"reflection:{self.employee_id}:{due.date().isoformat()}"
            if key not in due_keys:
                due_keys.add(key)
                self.rows.add(
                    "reminders",
                    employee_id=self.employee_id,
                    kind="reflection",
                    dedupe_key=key,
                    due_at=due,
                    sent_at=due + dt.timedelta(seconds=rng.randint(5, 90))
                    if self.on_telegram and due < self.c.now
                    else None,
                )
            previous = (reflection_id, mood, small)
            day += dt.timedelta(days=rng.randint(7, 10))

    def signal_line(self, kind: str) -> str:
        """Returns a summary line naming a signal."""
        return i18n.t(self.lang, "summary.line.signal", signal=i18n.t(self.lang, f"coach.signal.{kind}"))

    # --- milestones, crisis, contact requests ------------------------------------------------------------

    def milestones(self, first_sick_day: dt.date, enrolled_on: dt.date) -> None:
        """Writes the milestone signals the hourly rule raised two weeks before each milestone."""
        for week, key in self.c.cat.milestones:
            starts = first_sick_day + dt.timedelta(days=7 * (week - 1))
            if starts + dt.timedelta(days=6) < enrolled_on:
                continue
            notice = max(enrolled_on, starts - dt.timedelta(days=14))
            if notice > self.c.today:
                break
            raised = self.c.at(notice, self.rng.uniform(0.1, 1.0))
            if raised < self.created:
                raised = self.created + dt.timedelta(minutes=30)
            self.signal(
                "milestone",
                f"milestone:{self.employee_id}:{key}",
                raised,
                detail=f"{week}:{key}",
                open_for_days=12,
            )

    def events(self, enrolled_on: dt.date) -> None:
        """Writes the rare crisis and the occasional request to talk to the coach."""
        rng = self.rng
        span = (self.last_day - enrolled_on).days
        if span < 1:
            return
        kinds = ["coach_contact"] * poisson(rng, span / 100)
        if rng.random() < 0.04:
            kinds.append("crisis")
        for kind in kinds:
            day = enrolled_on + dt.timedelta(days=rng.randint(1, span))
            when = self.at_day(day)
            note = rng.choice(CRISIS_NOTES) if kind == "crisis" else ""
            self.signal(
                kind, f"{kind}:{self.sender}:{rng.getrandbits(128):032x}", when, note=note, open_for_days=2
            )
            self.day(day)["lines"].append(self.signal_line(kind))

    # --- the coach's side ------------------------------------------------------------------------------

    def coach_work(self, enrolled_on: dt.date, target: int, inactivity_days: int) -> None:
        """Writes the coach's views, report downloads, notes, messages and settings, each audited."""
        rng, today, now = self.rng, self.c.today, self.c.now
        if target != 2 or inactivity_days != 7:
            self.audit(
                self.c.office(enrolled_on + dt.timedelta(days=1)),
                "settings",
                f"weekly target {target}, inactivity {inactivity_days} days",
            )
        monday = enrolled_on - dt.timedelta(days=enrolled_on.weekday())
        while monday <= today:
            days = [d for d in (monday + dt.timedelta(days=n) for n in range(5)) if enrolled_on <= d <= today]
            if days and rng.random() < 0.35:
                self.audit(self.c.office(rng.choice(days)), "view", "employee page")
            if days and rng.random() < 0.12:
                when = self.c.office(rng.choice(days))
                self.rows.add(
                    "coach_notes",
                    employee_id=self.employee_id,
                    coach_id=self.coach_id,
                    text=rng.choice(COACH_NOTES),
                    created_at=when,
                )
                self.audit(when, "note", "coach note added")
            if days and rng.random() < 0.15:
                when = self.c.office(rng.choice(days))
                sent = when + dt.timedelta(seconds=rng.randint(20, 90))
                self.rows.add(
                    "coach_messages",
                    employee_id=self.employee_id,
                    coach_id=self.coach_id,
                    text=rng.choice(COACH_MESSAGES),
                    created_at=when,
                    telegram_sent_at=sent if self.on_telegram and sent < now else None,
                )
                self.audit(when, "message", "message to the employee")
            monday += dt.timedelta(days=7)
        month = enrolled_on.replace(day=1)
        while True:
            following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            if following > today:
                break
            if rng.random() < 0.8:
                self.audit(self.c.office(following), "download", f"employer report {month:%Y-%m} (pdf)")
            if rng.random() < 0.1:
                self.audit(self.c.office(following), "download", "applications (pdf)")
            month = following

    def summaries(self) -> None:
        """Writes the summary of every conversation day (what the session-end summary would say)."""
        rng = self.rng
        for day in sorted(self.days):
            record = self.days[day]
            lines = list(record["lines"])
            if record["applications"]:
                lines.append(i18n.t(self.lang, "summary.line.applications", count=record["applications"]))
            if not lines:
                lines.append(i18n.t(self.lang, "summary.line.talked", count=rng.randint(2, 9)))
            start = self.c.at(day, record["hour"])
            if start <= self.created:
                start = self.created + dt.timedelta(minutes=10)
            end = start + dt.timedelta(minutes=rng.randint(3, 25))
            if end + dt.timedelta(minutes=30) > self.c.now:
                continue  # the session has not ended yet: no summary
            header = i18n.t(
                self.lang,
                "summary.session_header",
                date=medium_date(self.lang, start.date()),
                start=start.strftime("%H:%M"),
                end=end.strftime("%H:%M"),
            )
            self.rows.add(
                "summaries",
                employee_id=self.employee_id,
                session_key=f"session:{self.sender}:{start.timestamp()}",
                language=self.lang,
                text=header + "\n" + "\n".join(f"• {line}" for line in lines),
                created_at=end + dt.timedelta(minutes=rng.randint(30, 35)),
            )


def check(coaches: int, employees: int, weeks: int) -> None:
    """Refuses sizes that make no sense, with a one-line reason."""
    if not 1 <= coaches <= 99:
        raise KoersError("--coaches must be between 1 and 99")
    if employees < 1:
        raise KoersError("--employees must be at least 1")
    if not 1 <= weeks <= MAX_WEEKS:
        raise KoersError(f"--weeks must be between 1 and {MAX_WEEKS}")


def seed(
    db: Database,
    *,
    coaches: int = 20,
    employees: int = 2000,
    weeks: int = MAX_WEEKS,
    seed: int = 42,
    password: str = SEED_PASSWORD,
    force: bool = False,
    now: dt.datetime | None = None,
) -> SeedResult:
    """Fills the (migrated) database with coaches and a caseload of employees; returns what it wrote.

    Employees go round-robin to the coaches, so coach 1 has
    ``ceil(employees / coaches)`` of them. Refuses a database that already has
    employees unless ``force``; deletes nothing.
    """
    check(coaches, employees, weeks)
    if len(password) < MIN_LENGTH:
        raise KoersError(f"password too short: at least {MIN_LENGTH} characters")
    started = time.perf_counter()
    now = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
    password_hash = hash_password(password)  # once: argon2 is slow on purpose
    with db.session() as session, session.begin():
        existing = session.scalar(select(func.count(Employee.id))) or 0
        if existing and not force:
            raise KoersError(
                f"the database already has {existing} employees; koers seed fills an empty one "
                "(--force adds the demo data anyway and deletes nothing)"
            )
        rows = Rows(session)
        coach_ids: list[tuple[int, str, str]] = []
        for number in range(1, coaches + 1):
            email = EMAIL.format(number=number)
            found = session.execute(select(Coach.id, Coach.name).where(Coach.email == email)).first()
            if found is not None:
                coach_ids.append((found.id, found.name, email))
                continue
            name = COACH_NAMES[(number - 1) % len(COACH_NAMES)]
            coach_id = rows.add(
                "coaches",
                email=email,
                name=name,
                password_hash=password_hash,
                language=i18n.FALLBACK_LANGUAGE,
                totp_secret=None,
                totp_last_step=None,
                created_at=now - dt.timedelta(days=7 * weeks + 30),
            )
            coach_ids.append((coach_id, name, email))
        caseload = Caseload(rows, random.Random(seed), weeks, now)
        full_history = None
        per_coach: dict[str, int] = {}
        for index in range(employees):
            coach_id, name, email = coach_ids[index % coaches]
            # a stream per employee: one employee's history does not shift everyone after it
            caseload.rng = random.Random(f"{seed}:{index}")
            employee_id = caseload.employee(coach_id, name, full_history=index == 0)
            if index == 0:
                full_history = employee_id
            per_coach[email] = per_coach.get(email, 0) + 1
        rows.flush()
        rows.fix_sequences()
        counts = {name: rows.counts[name] for name in TABLES}
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as connection:
            connection.execute(text("ANALYZE"))  # a bulk load leaves the planner without statistics
    return SeedResult(
        coaches=[email for _, _, email in coach_ids],
        employees=employees,
        rows=counts,
        seconds=time.perf_counter() - started,
        full_history_employee=full_history,
        password=password if password == SEED_PASSWORD else None,
        busiest_coach=max(per_coach, key=lambda e: per_coach[e]) if per_coach else None,
        per_coach=per_coach,
    )
