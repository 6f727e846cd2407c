"""`make bench-gate`: how many turns should the Rasa server work on at once?

Starts Koers once per setting of ``KOERS_RASA_TURNS_AT_ONCE`` (0 = no limit,
as Rasa runs by itself) and sends the same rush each time: 100 employees'
visits of 8 turns at once (``bench/turns.py``'s script), three rounds on one
stack. Reports per round the p50/p95 of all turns and the throughput; the
choice of the default (``koers_rasa.TURNS_AT_ONCE``) rests on these numbers.
Results go to ``bench/gate-results.json``; ``bench/report.py`` renders them.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.turns import BENCH_DIR, drive, koers_conversations, when_and_where
from bot import ROOT
from bot.stack import make_stack

RESULTS = ROOT / "bench" / "gate-results.json"
SETTINGS = [int(n) for n in os.environ.get("KOERS_GATE_SETTINGS", "0,1,2,3").split(",")]
ROUNDS = int(os.environ.get("KOERS_GATE_ROUNDS", "3"))
CONVERSATIONS = 100


def measure(at_once: int) -> list[dict[str, Any]]:
    """Starts Koers with ``at_once`` places and sends ``ROUNDS`` rushes of 100 conversations."""
    os.environ["KOERS_RASA_TURNS_AT_ONCE"] = str(at_once)
    folder = BENCH_DIR / f"gate-{at_once}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    stack = make_stack(folder, f"sqlite:///{folder / 'koers.db'}", 17200)
    try:
        rounds = []
        for n in range(ROUNDS):
            conversations = koers_conversations(stack, CONVERSATIONS, f"g{at_once}r{n}")
            result = _drive(stack.rasa, conversations)
            print(f"bench-gate: {at_once} at once, round {n + 1}: {result}", flush=True)
            rounds.append(result)
        return rounds
    finally:
        stack.stop()


def _drive(url: str, conversations: list[tuple[str, list[str]]]) -> dict[str, Any]:
    result = asyncio.run(drive(url, conversations, parallel=True))
    keys = ("turns", "p50_ms", "p95_ms", "p99_ms", "seconds", "turns_per_second", "errors")
    return {key: result[key] for key in keys}


def main() -> int:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        **when_and_where(),
        "conversations": CONVERSATIONS,
        "rounds": ROUNDS,
        "settings": {str(n): measure(n) for n in SETTINGS},
    }
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"written {RESULTS}")
    errors = sum(r["errors"] for rounds in results["settings"].values() for r in rounds)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
