"""`make bench-scale`: the production shape, on this machine.

Two Rasa servers and two action servers behind nginx (Debian's package, the
load balancer), PostgreSQL for Rasa's tracker store and our tables, Redis
(Debian's ``redis-server``) as Rasa's lock store, so that any Rasa server may
take any message of any conversation:

    clients ──► nginx :16000 ──► rasa 1 :16005 ─┐          ┌─► actions 1 :16055
                              └─► rasa 2 :16006 ─┴► nginx :16050 ─┴─► actions 2 :16056
                  both Rasa servers: lock store Redis :16379, tracker store PostgreSQL
                  both action servers: PostgreSQL

100 conversations at once each log applications through the balancer; then
the database is checked: every confirmed application stored exactly once, and
each conversation's messages stored in the order they were sent. The same
workload sent to one Rasa server directly gives the throughput to compare with.
Writes ``bench/scale-results.json``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select, text

from bench.turns import Errors, enrol_many, percentile, rss_mb
from bot import ROOT
from bot.config import load_settings
from bot.db import Database
from bot.enrolment import add_coach
from bot.models import Application
from bot.stack import Stack
from bot.supervisor import commands, rasa_tracker_url

WORK = ROOT / "var" / "bench" / "scale"
RESULTS = ROOT / "bench" / "scale-results.json"
PG_PORT = "55435"
REDIS_PORT = 16379
BALANCER = 16000
ACTIONS_BALANCER = 16050
RASA_PORTS = (16005, 16006)
ACTION_PORTS = (16055, 16056)
CONVERSATIONS = int(os.environ.get("KOERS_SCALE_CONVERSATIONS", "100"))
APPLICATIONS = int(os.environ.get("KOERS_SCALE_APPLICATIONS", "3"))
COACH = "coach@koers.test"


def application_script(who: str, n: int) -> list[str]:
    """The messages of one conversation: ``n`` applications, each typed and confirmed by buttons."""
    script: list[str] = []
    for k in range(n):
        script += [
            "/log_application",
            f"Werkgever {who} {k}",
            "medewerker",
            "vandaag",
            '/inform{"channel":"vacancy_site"}',
            "/affirm",
        ]
    return script


NGINX_CONF = """
worker_processes 1;
{user}
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
daemon off;
events {{ worker_connections 2048; }}
http {{
    access_log off;
    client_body_temp_path {work}/tmp/body;
    proxy_temp_path {work}/tmp/proxy;
    fastcgi_temp_path {work}/tmp/fastcgi;
    uwsgi_temp_path {work}/tmp/uwsgi;
    scgi_temp_path {work}/tmp/scgi;
    upstream rasa {{ least_conn; {rasa} keepalive 64; }}
    upstream actions {{ {actions} keepalive 64; }}
    server {{
        listen 127.0.0.1:{balancer};
        location / {{
            proxy_pass http://rasa;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_read_timeout 300s;
        }}
    }}
    server {{
        listen 127.0.0.1:{actions_balancer};
        client_max_body_size 20m;
        location / {{
            proxy_pass http://actions;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_read_timeout 300s;
        }}
    }}
}}
"""


class Group:
    """The processes of the deployment, stopped together."""

    def __init__(self) -> None:
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        log = (WORK / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def check(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} stopped (exit {proc.returncode}); see {WORK / (name + '.log')}")

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def wait_until(group: Group, url: str, params: dict[str, str] | None = None, seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        group.check()
        try:
            response = httpx.get(url, params=params, timeout=2)
            if response.status_code == 200 and (
                not url.endswith("/status") or response.json().get("model_file")
            ):
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(1)
    raise RuntimeError(f"{url} not ready after {seconds} s")


def postgres(command: str) -> str:
    env = {**os.environ, "KOERS_PG_DIR": f"/tmp/koers-pg-scale-{os.getuid()}", "KOERS_PG_PORT": PG_PORT}
    out = subprocess.run(
        [str(ROOT / "scripts" / "postgres.sh"), command], env=env, check=True, capture_output=True, text=True
    )
    return out.stdout.strip()


def deploy(group: Group, database_url: str, token: str) -> dict[str, float]:
    """Starts Redis, nginx, the action servers and the Rasa servers; returns seconds until ready."""
    started = time.monotonic()
    group.start(
        "redis",
        [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(REDIS_PORT),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        dict(os.environ),
    )
    (WORK / "tmp").mkdir(parents=True, exist_ok=True)
    conf = WORK / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            user="user root;" if os.geteuid() == 0 else "",
            work=WORK,
            rasa=" ".join(f"server 127.0.0.1:{p};" for p in RASA_PORTS),
            actions=" ".join(f"server 127.0.0.1:{p};" for p in ACTION_PORTS),
            balancer=BALANCER,
            actions_balancer=ACTIONS_BALANCER,
        )
    )
    group.start("nginx", [shutil.which("nginx") or "/usr/sbin/nginx", "-c", str(conf), "-p", str(WORK)], {})
    for n, (rasa_port, action_port) in enumerate(zip(RASA_PORTS, ACTION_PORTS, strict=True), start=1):
        env = {
            **os.environ,
            "KOERS_VAR_DIR": str(WORK / f"node{n}"),
            "KOERS_DATABASE_URL": database_url,
            "KOERS_RASA_URL": f"http://127.0.0.1:{rasa_port}",
            "KOERS_RASA_TOKEN": token,
            "KOERS_ACTION_PORT": str(action_port),
        }
        settings = load_settings(env)
        procs = commands(settings)
        endpoints = settings.var_dir / "endpoints.yml"
        endpoints.write_text(
            "# bench/scale.py: the production shape\n"
            "action_endpoint:\n"
            f"  url: http://127.0.0.1:{ACTIONS_BALANCER}/webhook\n"
            "tracker_store:\n"
            "  type: koers_rasa.tracker_store.KoersTrackerStore\n"
            f"  url: '{rasa_tracker_url(database_url)}'\n"
            "lock_store:\n"
            "  type: redis\n"
            "  url: 127.0.0.1\n"
            f"  port: {REDIS_PORT}\n"
            "  key_prefix: koers\n"
        )
        for name in ("actions", "rasa"):
            argv, extra = procs[name]
            group.start(f"{name}{n}", argv, {**env, **extra})
    for port in ACTION_PORTS:
        wait_until(group, f"http://127.0.0.1:{port}/health")
    for port in RASA_PORTS:
        wait_until(group, f"http://127.0.0.1:{port}/status", {"token": token})
    return {"ready_seconds": round(time.monotonic() - started, 1)}


async def run_conversations(url: str, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Binds each sender, then runs every conversation at once; returns latency and throughput."""
    latencies: list[float] = []
    errors = Errors()
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=len(pairs)), timeout=300) as client:

        async def say(who: str, message: str) -> None:
            started = time.perf_counter()
            response = await client.post(
                f"{url}/webhooks/rest/webhook", json={"sender": who, "message": message}
            )
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200 or not response.json():
                errors.append(f"{who}: {response.status_code} on {message!r}")

        await asyncio.gather(*(say(who, f"/start {code}") for who, code in pairs))
        latencies.clear()

        async def converse(who: str) -> None:
            for message in application_script(who, APPLICATIONS):
                await say(who, message)

        started = time.perf_counter()
        await asyncio.gather(*(converse(who) for who, _ in pairs))
        wall = time.perf_counter() - started
    return {
        "conversations": len(pairs),
        "turns": len(latencies),
        "seconds": round(wall, 1),
        "turns_per_second": round(len(latencies) / wall, 2),
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "errors": len(errors),
        "first_errors": errors[:5],
    }


def verify(database_url: str, pairs: list[tuple[str, str]], ids: list[int]) -> dict[str, Any]:
    """Counts stored applications against the confirmed ones and checks each conversation's order."""
    db = Database(database_url)
    with db.session() as s:
        stored = s.scalar(select(func.count(Application.id)).where(Application.employee_id.in_(ids))) or 0
        distinct = (
            s.scalar(
                select(func.count(func.distinct(Application.employer))).where(
                    Application.employee_id.in_(ids)
                )
            )
            or 0
        )
        out_of_order = 0
        for who, _ in pairs:
            said = s.execute(
                text("SELECT data FROM events WHERE sender_id = :who AND type_name = 'user' ORDER BY id"),
                {"who": who},
            ).scalars()
            texts = [json.loads(row).get("text") for row in said]
            expected = application_script(who, APPLICATIONS)
            if texts[-len(expected) :] != expected:
                out_of_order += 1
    db.dispose()
    expected_rows = len(pairs) * APPLICATIONS
    return {
        "expected": expected_rows,
        "stored": stored,
        "lost": max(0, expected_rows - distinct),
        "duplicated": stored - distinct,
        "conversations_out_of_order": out_of_order,
    }


def main() -> int:
    for program in ("nginx", "redis-server"):
        if shutil.which(program) is None and not Path(f"/usr/sbin/{program}").exists():
            print(f"bench-scale: {program} is missing (`make bench-scale` installs the Debian packages)")
            return 1
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    base = postgres("start")
    database_url = base.rsplit("/", 1)[0] + "/koers_e2e"
    db = Database(database_url)
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    db.upgrade()
    with db.session() as s, s.begin():
        add_coach(s, COACH, "Scale Coach", "a long scale password")
    db.dispose()
    token = secrets.token_hex(16)
    group = Group()
    results: dict[str, Any] = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "shape": "nginx → 2 Rasa (Redis lock store, PostgreSQL tracker store) → nginx → 2 action servers",
        "applications_per_conversation": APPLICATIONS,
    }
    try:
        print("bench-scale: starting PostgreSQL, Redis, nginx, 2 action servers, 2 Rasa servers", flush=True)
        results.update(deploy(group, database_url, token))
        stack = Stack(var=WORK, env={"KOERS_DATABASE_URL": database_url}, rasa_port=BALANCER, web_port=0)
        for leg, url in (
            ("one_rasa_server", f"http://127.0.0.1:{RASA_PORTS[0]}"),
            ("two_behind_nginx", f"http://127.0.0.1:{BALANCER}"),
        ):
            print(f"bench-scale: {CONVERSATIONS} conversations at once, {leg}", flush=True)
            pairs = enrol_many(stack, CONVERSATIONS, leg)
            run = asyncio.run(run_conversations(url, pairs))
            db = Database(database_url)
            with db.session() as s:
                ids = list(
                    s.scalars(
                        text("SELECT id FROM employees WHERE name LIKE :p").bindparams(p=f"Bench {leg} %")
                    )
                )
            db.dispose()
            run["check"] = verify(database_url, pairs, ids)
            results[leg] = run
        results["throughput_ratio_two_to_one"] = round(
            results["two_behind_nginx"]["turns_per_second"] / results["one_rasa_server"]["turns_per_second"],
            2,
        )
        results["memory_mb"] = {name: rss_mb(proc.pid) for name, proc in group.procs.items()}
    finally:
        group.stop()
        postgres("stop")
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    ok = all(
        results[leg]["check"]["lost"] == 0
        and results[leg]["check"]["duplicated"] == 0
        and results[leg]["check"]["conversations_out_of_order"] == 0
        and results[leg]["errors"] == 0
        for leg in ("one_rasa_server", "two_behind_nginx")
    )
    print(json.dumps({k: v for k, v in results.items() if k != "memory_mb"}, indent=2))
    print(f"bench-scale: written to {RESULTS}; {'nothing lost, doubled or reordered' if ok else 'PROBLEMS'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
