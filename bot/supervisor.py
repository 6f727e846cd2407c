"""``koers run``: starts every process of Koers as one supervised group.

Rasa (in ``.venv-rasa``), the action server and the web app (in ``.venv``), and
the Telegram bot when a token is set. If one process dies the others are
stopped with a clear message; Ctrl-C stops all of them cleanly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from urllib.parse import urlparse

import httpx
from sqlalchemy.engine import make_url

from bot import ROOT
from bot.config import Settings
from bot.db import Database

MODEL = ROOT / "models" / "koers.tar.gz"
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
READY_TIMEOUT = 420


@dataclass
class Child:
    """One supervised process and the log it writes to."""

    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    log_start: int = 0  # the log's size when this run started (logs are appended to)

    def logged_since_start(self) -> str:
        """What the process wrote to its log in this run."""
        with self.log.open("rb") as handle:
            handle.seek(self.log_start)
            return handle.read().decode("utf-8", "replace")


# Rasa falls back to a tracker store in memory when ours cannot be loaded; every
# conversation would then be lost at the next restart, so Koers refuses to run
NO_TRACKER_STORE = "Using `InMemoryTrackerStore` instead"


def rasa_tracker_url(database_url: str) -> str:
    """Returns the database URL in the form Rasa's SQLAlchemy 1.4 understands."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        url = url.set(drivername="postgresql+psycopg2")
    return url.render_as_string(hide_password=False)


def write_rasa_config(settings: Settings) -> tuple[Path, Path]:
    """Writes the endpoints and credentials files Rasa reads; returns their paths."""
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    endpoints = settings.var_dir / "endpoints.yml"
    credentials = settings.var_dir / "credentials.yml"
    endpoints.write_text(
        "# written by `koers run` from the KOERS_ settings; edits are overwritten\n"
        "action_endpoint:\n"
        f"  url: http://127.0.0.1:{settings.action_port}/webhook\n"
        "tracker_store:\n"
        "  type: koers_rasa.tracker_store.KoersTrackerStore\n"
        f"  url: '{rasa_tracker_url(settings.database_url)}'\n",
        encoding="utf-8",
    )
    credentials.write_text("rest:\n", encoding="utf-8")
    os.chmod(endpoints, 0o600)
    return endpoints, credentials


# every Rasa process: no telemetry, no TensorFlow chatter, Koers' components on the path
RASA_ENV = {"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT / "nlu")}


def commands(settings: Settings) -> dict[str, tuple[list[str], dict[str, str]]]:
    """Returns the command line and extra environment of every process."""
    endpoints, credentials = write_rasa_config(settings)
    rasa_port = str(urlparse(settings.rasa_url).port or 5005)
    procs: dict[str, tuple[list[str], dict[str, str]]] = {
        "rasa": (
            [
                str(RASA),
                "run",
                "--model",
                str(MODEL),
                "--enable-api",
                # one argument: a token may start with "-" (token_urlsafe), which would read as an option
                f"--auth-token={settings.rasa_token}",
                "--endpoints",
                str(endpoints),
                "--credentials",
                str(credentials),
                "-i",
                "127.0.0.1",
                "-p",
                rasa_port,
            ],
            RASA_ENV,
        ),
        "actions": (
            [
                sys.executable,
                "-m",
                "rasa_sdk",
                "--actions",
                "actions",
                "-p",
                str(settings.action_port),
            ],
            {"SANIC_HOST": "127.0.0.1"},
        ),
        "web": (
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bot.web.app:create_app",
                "--factory",
                "--host",
                settings.web_host,
                "--port",
                str(settings.web_port),
                "--no-access-log",
                "--ws",
                "none",
            ],
            {},
        ),
    }
    if settings.telegram_token:
        procs["telegram"] = ([sys.executable, "-m", "bot.telegram"], {})
    return procs


def _say(text: str) -> None:
    print(f"koers: {text}", flush=True)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _stop(children: list[Child]) -> None:
    for child in children:
        if child.proc.poll() is None:
            child.proc.terminate()
    deadline = time.monotonic() + 15
    for child in children:
        remaining = max(0.1, deadline - time.monotonic())
        try:
            child.proc.wait(timeout=remaining)
        except subprocess.TimeoutExpired:
            child.proc.kill()
            child.proc.wait()


def _ready(settings: Settings) -> bool:
    checks: tuple[tuple[str, dict[str, str]], ...] = (
        (f"{settings.rasa_url}/status", {"token": settings.rasa_token}),
        (f"http://127.0.0.1:{settings.action_port}/health", {}),
        (f"http://{settings.web_host}:{settings.web_port}/healthz", {}),
    )
    try:
        return all(httpx.get(url, params=params, timeout=2).status_code == 200 for url, params in checks)
    except httpx.HTTPError:
        return False


def run(settings: Settings) -> int:
    """Starts everything, waits until it is ready and supervises until stopped."""
    if not MODEL.is_file():
        _say(f"no trained model at {MODEL}; run `make run` (it trains first)")
        return 1
    _say("preparing the database")
    db = Database(settings.database_url)
    db.upgrade()
    db.dispose()
    logs = settings.var_dir / "log"
    logs.mkdir(parents=True, exist_ok=True)
    children: list[Child] = []
    stopping = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    for name, (argv, extra_env) in commands(settings).items():
        log = logs / f"{name}.log"
        handle = log.open("ab")
        log_start = handle.tell()
        proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**os.environ, **extra_env},
            stdout=handle,
            stderr=subprocess.STDOUT,
            # own process group: Ctrl-C reaches only us, and we stop the children in order
            start_new_session=True,
        )
        handle.close()
        children.append(Child(name, proc, log, log_start))
        _say(f"started {name} (pid {proc.pid}, log {log})")
    _say("loading the language model; this takes about a minute…")
    started = time.monotonic()
    announced = False
    exit_code = 0
    while not stopping:
        dead = next((c for c in children if c.proc.poll() is not None), None)
        if dead is not None:
            _say(
                f"{dead.name} stopped unexpectedly (exit code {dead.proc.returncode}); "
                f"stopping the others. Last lines of {dead.log}:"
            )
            print(_tail(dead.log), file=sys.stderr, flush=True)
            exit_code = 1
            break
        if not announced:
            if _ready(settings):
                rasa = next(c for c in children if c.name == "rasa")
                if NO_TRACKER_STORE in rasa.logged_since_start():
                    _say(f"Rasa could not load Koers' tracker store; stopping. See {rasa.log}")
                    exit_code = 1
                    break
                announced = True
                _say(
                    f"ready after {time.monotonic() - started:.0f} s: "
                    f"web chat http://{settings.web_host}:{settings.web_port}/chat, "
                    f"coach dashboard http://{settings.web_host}:{settings.web_port}/coach/ "
                    "(Ctrl-C stops everything)"
                )
            elif time.monotonic() - started > READY_TIMEOUT:
                _say(f"not ready after {READY_TIMEOUT} s; stopping. See the logs in {logs}")
                exit_code = 1
                break
        time.sleep(1)
    _say("stopping all processes")
    _stop(children)
    _say("stopped")
    return exit_code
