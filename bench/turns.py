"""`make bench`: Koers side by side with a bare `rasa init` assistant, measured in one run.

Both assistants run on this machine at the same time of day, so every timing is
also given as a ratio to the bare engine (these machines are noisy; ratios are
what we compare against the bars in BENCHMARKS.md):

- turn latency p50/p95/p99 of scripted multi-turn conversations, one at a time;
- 20 and 100 conversations at once: throughput (turns/s) and p95;
- flat with conversation length: one employee's turns 1–20 against 481–500,
  spread over simulated days (the tracker's timestamps are moved back a day
  after every 10 turns, so each day is a new Rasa session as in real life);
- cost: training time, time until ready, resident memory of each process.

Results go to ``bench/results.json``; ``bench/report.py`` renders BENCHMARKS.md.
Set ``KOERS_BENCH_TRAIN=0`` to skip the (8-minute) training measurement: the
report then carries the last measured training time, with the date it was measured.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from bot import ROOT
from bot.nlueval import rasa_env
from bot.stack import Stack, make_stack

RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
BENCH_DIR = ROOT / "var" / "bench"
RESULTS = ROOT / "bench" / "results.json"
QUIET = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"}

SEQUENTIAL = int(os.environ.get("KOERS_BENCH_SEQUENTIAL", "20"))
CONCURRENCY = (20, 100)
LONG_TURNS = 500
TURNS_PER_DAY = 10

# moodbot, the assistant `rasa init` creates: greet, mood, affirm, bot challenge, goodbye
BARE_SCRIPT = ["hello there", "I am feeling very sad", "yes it did", "great", "are you a bot?", "bye"]
# an employee's ordinary visit: greet, menu, log an application in one sentence, progress, thanks
KOERS_SCRIPT = [
    "hoi",
    "wat kun je allemaal",
    "ik heb gisteren gesolliciteerd bij Jumbo als vakkenvuller",
    '/inform{"channel":"vacancy_site"}',
    "ja",
    "hoe sta ik ervoor",
    "dank je wel",
    "doei",
]
# a day of the long history: short, varied turns, one of them a logged application
LONG_DAY = [
    "hoi",
    "hoe sta ik ervoor",
    "wat kun je allemaal",
    "ik heb vandaag gesolliciteerd bij Bakkerij {n} als verkoper",
    '/inform{"channel":"open_application"}',
    "ja",
    "dank je",
    "hoe gaat het met mijn sollicitaties",
    "bedankt",
    "tot morgen",
]


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100) by linear interpolation; values in seconds, result in ms."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = (len(ordered) - 1) * q / 100
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return round((ordered[low] + (ordered[high] - ordered[low]) * (k - low)) * 1000, 1)


def summary(latencies: Sequence[float]) -> dict[str, float]:
    return {
        "turns": len(latencies),
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
    }


class Errors(list[str]):
    """Every unexpected answer seen; a benchmark with errors is reported as such."""


async def converse(
    client: httpx.AsyncClient,
    url: str,
    sender: str,
    script: Sequence[str],
    latencies: list[float],
    errors: Errors,
) -> None:
    for message in script:
        started = time.perf_counter()
        response = await client.post(
            f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=300
        )
        latencies.append(time.perf_counter() - started)
        if response.status_code != 200 or not response.json():
            errors.append(f"{sender}: {response.status_code} {response.text[:80]!r} on {message!r}")


async def drive(url: str, conversations: list[tuple[str, list[str]]], parallel: bool) -> dict[str, Any]:
    """Runs the conversations one after another or all at once; returns latency and throughput."""
    latencies: list[float] = []
    errors = Errors()
    limits = httpx.Limits(max_connections=max(len(conversations), 1))
    async with httpx.AsyncClient(limits=limits) as client:
        started = time.perf_counter()
        if parallel:
            await asyncio.gather(
                *(
                    converse(client, url, sender, script, latencies, errors)
                    for sender, script in conversations
                )
            )
        else:
            for sender, script in conversations:
                await converse(client, url, sender, script, latencies, errors)
        wall = time.perf_counter() - started
    return {
        **summary(latencies),
        "seconds": round(wall, 2),
        "turns_per_second": round(len(latencies) / wall, 2),
        "errors": len(errors),
        "first_errors": errors[:5],
    }


def rss_mb(pid: int, tree: bool = True) -> float:
    """Resident memory of a process (and, with ``tree``, all its descendants), in MB."""
    total = 0
    for p in [pid, *(descendants(pid) if tree else [])]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return round(total / 1024, 1)


def children_of() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return children


def descendants(pid: int) -> list[int]:
    children = children_of()
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def process_memory(stack: Stack) -> dict[str, float]:
    """RSS of the supervisor and of each process it runs (with its own children), named."""
    assert stack.proc is not None
    memory = {"supervisor": rss_mb(stack.proc.pid, tree=False)}
    names = {"rasa run": "rasa", "rasa_sdk": "actions", "uvicorn": "web", "telegram": "telegram"}
    for child in children_of().get(stack.proc.pid, []):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        name = next((name for needle, name in names.items() if needle in cmdline), f"pid {child}")
        memory[name] = rss_mb(child)
    memory["total"] = round(sum(memory.values()), 1)
    return memory


class BareRasa:
    """The engine with nothing of ours: `rasa init`'s moodbot served over REST."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None
        self.ready_seconds = 0.0
        self.train_seconds = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def create(self) -> None:
        """Scaffolds and trains the moodbot (rasa init); the time is the engine's training floor."""
        shutil.rmtree(self.folder, ignore_errors=True)
        shutil.rmtree(self.folder.parent / "bare-cache", ignore_errors=True)
        self.folder.mkdir(parents=True)  # rasa init wants the folder to exist
        started = time.monotonic()
        subprocess.run(
            [str(RASA), "init", "--no-prompt", "--init-dir", str(self.folder)],
            # its own empty cache, so both assistants train from scratch
            env={**QUIET, "RASA_CACHE_DIRECTORY": str(self.folder.parent / "bare-cache")},
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.train_seconds = round(time.monotonic() - started, 1)

    def start(self) -> None:
        started = time.monotonic()
        log = (self.folder / "rasa.log").open("wb")
        self.proc = subprocess.Popen(
            [str(RASA), "run", "--enable-api", "-i", "127.0.0.1", "-p", str(self.port), "--model", "models"],
            cwd=self.folder,
            env=QUIET,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = started + 300
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/status", timeout=2).json().get("model_file"):
                    break
            except (httpx.HTTPError, ValueError):
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"bare rasa stopped; see {self.folder / 'rasa.log'}")
            time.sleep(0.5)
        else:
            raise RuntimeError("bare rasa did not become ready in 300 s")
        self.ready_seconds = round(time.monotonic() - started, 1)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def enrol_many(stack: Stack, count: int, prefix: str) -> list[tuple[str, str]]:
    """Creates ``count`` employees directly in the database; returns (sender, invite code) pairs."""
    created = stack.enrol_many([f"Bench {prefix} {n}" for n in range(count)], "nl")
    return [(f"{prefix}-{n}", employee["invite_code"]) for n, employee in enumerate(created)]


async def bind(url: str, pairs: list[tuple[str, str]]) -> None:
    """Sends each sender's `/start CODE` (not timed: enrolment happens once in a life)."""
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=10)) as client:
        semaphore = asyncio.Semaphore(10)

        async def one(sender: str, code: str) -> None:
            async with semaphore:
                response = await client.post(
                    f"{url}/webhooks/rest/webhook",
                    json={"sender": sender, "message": f"/start {code}"},
                    timeout=300,
                )
                response.raise_for_status()

        await asyncio.gather(*(one(sender, code) for sender, code in pairs))


def koers_conversations(stack: Stack, count: int, prefix: str) -> list[tuple[str, list[str]]]:
    pairs = enrol_many(stack, count, prefix)
    asyncio.run(bind(stack.rasa, pairs))
    return [(sender, KOERS_SCRIPT) for sender, _ in pairs]


def move_back_a_day(database_url: str, sender: str) -> None:
    """Makes one sender's tracker a day older, as if a night had passed (SQLite tracker store)."""
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE events SET timestamp = timestamp - 86400, "
                "data = json_set(data, '$.timestamp', json_extract(data, '$.timestamp') - 86400) "
                "WHERE sender_id = :sender"
            ),
            {"sender": sender},
        )
    engine.dispose()


def long_history(stack: Stack) -> dict[str, Any]:
    """One employee's 500 turns over 50 simulated days: is turn 500 as fast as turn 10?"""
    ((sender, code),) = enrol_many(stack, 1, "long")
    asyncio.run(bind(stack.rasa, [(sender, code)]))
    latencies: list[float] = []
    errors = Errors()
    day = 0
    while len(latencies) < LONG_TURNS:
        script = [line.replace("{n}", str(day)) for line in LONG_DAY][: LONG_TURNS - len(latencies)]

        async def one_day(script: list[str] = script) -> None:
            async with httpx.AsyncClient() as client:
                await converse(client, stack.rasa, sender, script, latencies, errors)

        asyncio.run(one_day())
        move_back_a_day(stack.database_url, sender)
        day += 1
    engine = create_engine(stack.database_url)
    with engine.connect() as connection:
        events = connection.execute(
            text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": sender}
        ).scalar_one()
        sessions = connection.execute(
            text("SELECT count(*) FROM events WHERE sender_id = :s AND type_name = 'session_started'"),
            {"s": sender},
        ).scalar_one()
    engine.dispose()
    early = summary(latencies[:20])
    late = summary(latencies[-20:])
    return {
        "turns": len(latencies),
        "days": day,
        "sessions": sessions,
        "events_stored": events,
        "turns_1_20": early,
        "turns_481_500": late,
        "p50_ratio_500_to_10": round(late["p50_ms"] / early["p50_ms"], 2) if early["p50_ms"] else None,
        "errors": len(errors),
        "first_errors": errors[:5],
    }


def train_koers() -> float | None:
    """Full training of Koers' model into a scratch folder (the model in models/ is left alone)."""
    with tempfile.TemporaryDirectory() as out, tempfile.TemporaryDirectory() as cache:
        started = time.monotonic()
        subprocess.run(
            [
                str(RASA),
                "train",
                "--force",
                "--config",
                "nlu/config.yml",
                "--domain",
                "nlu/domain.yml",
                "--data",
                "nlu/data",
                "--out",
                out,
            ],
            cwd=ROOT,
            # an empty cache: Rasa would otherwise restore unchanged components instead of training them
            env={**rasa_env(), "RASA_CACHE_DIRECTORY": cache},
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return round(time.monotonic() - started, 1)


def previous_training() -> tuple[float | None, str]:
    """The training time of the last run that measured it, labelled with its date (KOERS_BENCH_TRAIN=0)."""
    try:
        last = json.loads(RESULTS.read_text())
    except (OSError, ValueError):
        return None, "not measured (KOERS_BENCH_TRAIN=0)"
    training = last.get("training_seconds") or {}
    if training.get("koers") is None:
        return None, "not measured (KOERS_BENCH_TRAIN=0)"
    source = training.get("source", "")
    measured = last["date"] if source == "this run" else source.removeprefix("the run of ")
    return training["koers"], f"the run of {measured}"


def ratio(ours: float, floor: float) -> float | None:
    return round(ours / floor, 2) if floor else None


def when_and_where() -> dict[str, Any]:
    """The date and machine every result file starts with."""
    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
        },
    }


def main() -> int:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = when_and_where()
    bare = BareRasa(BENCH_DIR / "bare", 16005)
    print("bench: training the bare `rasa init` assistant (the engine's floor)", flush=True)
    bare.create()
    if os.environ.get("KOERS_BENCH_TRAIN", "1") != "0":
        print("bench: training Koers' model from scratch (about 7 minutes)", flush=True)
        seconds, source = train_koers(), "this run"
    else:
        seconds, source = previous_training()
    results["training_seconds"] = {"koers": seconds, "bare": bare.train_seconds, "source": source}
    koers_var = BENCH_DIR / "koers"
    shutil.rmtree(koers_var, ignore_errors=True)
    koers_var.mkdir(parents=True)
    print("bench: starting both assistants", flush=True)
    bare.start()
    stack = make_stack(koers_var, f"sqlite:///{koers_var / 'koers.db'}", 17000)
    results["ready_seconds"] = {"koers": round(stack.ready_seconds, 1), "bare": bare.ready_seconds}
    try:
        turns: dict[str, Any] = {}
        print(f"bench: {SEQUENTIAL} conversations one at a time", flush=True)
        bare_seq = asyncio.run(drive(bare.url, [(f"seq-{n}", BARE_SCRIPT) for n in range(SEQUENTIAL)], False))
        koers_seq = asyncio.run(drive(stack.rasa, koers_conversations(stack, SEQUENTIAL, "seq"), False))
        turns["sequential"] = {
            "bare": bare_seq,
            "koers": koers_seq,
            "p50_ratio": ratio(koers_seq["p50_ms"], bare_seq["p50_ms"]),
            "p95_ratio": ratio(koers_seq["p95_ms"], bare_seq["p95_ms"]),
            "p99_ratio": ratio(koers_seq["p99_ms"], bare_seq["p99_ms"]),
        }
        memory: dict[str, Any] = {}
        for n in CONCURRENCY:
            print(f"bench: {n} conversations at once", flush=True)
            bare_par = asyncio.run(drive(bare.url, [(f"par{n}-{k}", BARE_SCRIPT) for k in range(n)], True))
            koers_par = asyncio.run(drive(stack.rasa, koers_conversations(stack, n, f"par{n}"), True))
            memory[f"under_{n}"] = {
                "koers": process_memory(stack),
                "bare_rasa": rss_mb(bare.proc.pid if bare.proc else 0),
            }
            turns[f"concurrent_{n}"] = {
                "bare": bare_par,
                "koers": koers_par,
                "p95_ratio": ratio(koers_par["p95_ms"], bare_par["p95_ms"]),
                "throughput_ratio": ratio(koers_par["turns_per_second"], bare_par["turns_per_second"]),
            }
        results["turns"] = turns
        results["memory_mb"] = memory
        print(f"bench: one employee, {LONG_TURNS} turns over simulated days", flush=True)
        results["long_history"] = long_history(stack)
    finally:
        stack.stop()
        bare.stop()
    results["bars"] = bars(results)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"bench: written to {RESULTS}")
    for name, bar in results["bars"].items():
        print(f"  {'meets' if bar['met'] else 'MISSES'}  {name}: {bar['value']} (bar {bar['bar']})")
    return 0


def bars(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The issue's bars, each with the measured value and whether it is met."""
    turns = results["turns"]
    checks: dict[str, tuple[Any, str, bool]] = {
        "p50 vs bare (sequential)": (
            turns["sequential"]["p50_ratio"],
            "≤ 1.3×",
            _le(turns["sequential"]["p50_ratio"], 1.3),
        ),
        "p95 vs bare (sequential)": (
            turns["sequential"]["p95_ratio"],
            "≤ 1.5×",
            _le(turns["sequential"]["p95_ratio"], 1.5),
        ),
    }
    for n in CONCURRENCY:
        run = turns[f"concurrent_{n}"]
        checks[f"p95 vs bare ({n} at once)"] = (run["p95_ratio"], "≤ 1.5×", _le(run["p95_ratio"], 1.5))
        checks[f"throughput vs bare ({n} at once)"] = (
            run["throughput_ratio"],
            "≥ 0.75×",
            run["throughput_ratio"] is not None and run["throughput_ratio"] >= 0.75,
        )
    long = results["long_history"]["p50_ratio_500_to_10"]
    checks["p50 turn 500 vs turn 10"] = (long, "≤ 1.3×", _le(long, 1.3))
    train = results["training_seconds"]["koers"]
    if train is not None:
        checks["training seconds"] = (train, "≤ 600", train <= 600)
    checks["ready seconds"] = (
        results["ready_seconds"]["koers"],
        "≤ 60",
        results["ready_seconds"]["koers"] <= 60,
    )
    total = results["memory_mb"][f"under_{CONCURRENCY[-1]}"]["koers"]["total"]
    checks["memory MB under load"] = (total, "≤ 2,500", total <= 2500)
    return {name: {"value": value, "bar": bar, "met": met} for name, (value, bar, met) in checks.items()}


def _le(value: float | None, bar: float) -> bool:
    return value is not None and value <= bar


if __name__ == "__main__":
    sys.exit(main())
