"""The supervisor's guard against Rasa silently keeping conversations in memory."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bot import ROOT
from bot.supervisor import NO_TRACKER_STORE, Child


def test_the_guard_matches_rasas_own_warning() -> None:
    # the sentence Rasa 3.6 logs when it cannot load a configured tracker store
    rasa = next((ROOT / ".venv-rasa" / "lib").glob("python3*/site-packages/rasa/core/tracker_store.py"))
    assert NO_TRACKER_STORE in rasa.read_text(encoding="utf-8")


def test_only_this_runs_log_is_read(tmp_path: Path) -> None:
    log = tmp_path / "rasa.log"
    log.write_text(f"an earlier run: {NO_TRACKER_STORE}\n")
    with log.open("ab") as handle:
        child = Child("rasa", subprocess.Popen(["true"]), log, handle.tell())
        handle.write(b"Starting Rasa server\n")
    child.proc.wait()
    assert child.logged_since_start() == "Starting Rasa server\n"
