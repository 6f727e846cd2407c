"""Measures NLU quality on the held-out files and writes ``bench/nlu-results.json``.

Run with ``make bench-nlu`` (it starts a temporary Rasa server with the trained
model). Every ``nlu/tests/heldout*.tsv`` is scored on its own. Exits 1 when a
set misses its goal: intent macro-F1 >= 0.95 for the first two languages
(Dutch and English), >= 0.93 for every language added later (issue #9), and
crisis recall 1.0 (intent or keyword net) everywhere.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import sys
from pathlib import Path

from bot import ROOT, i18n
from bot.config import load_settings
from bot.nlueval import evaluate_file

GOAL_MACRO_F1 = 0.95
GOAL_ADDED_LANGUAGE = 0.93


def goal(lang: str) -> float:
    """The macro-F1 goal of one language."""
    return GOAL_MACRO_F1 if lang in (i18n.FALLBACK_LANGUAGE, i18n.LINGUA_FRANCA) else GOAL_ADDED_LANGUAGE


def main() -> int:
    """Evaluates every held-out file and reports against the goals."""
    settings = load_settings()
    results = {}
    ok = True
    for path in sorted((ROOT / "nlu" / "tests").glob("heldout*.tsv")):
        for lang, scores in evaluate_file(str(path), settings, with_errors=True)["languages"].items():
            results[f"{path.name}:{lang}"] = scores
            scores["goal_macro_f1"] = goal(lang)
            passed = scores["intent_macro_f1"] >= goal(lang) and scores["crisis_recall"] == 1.0
            ok &= passed
            print(
                f"{path.name} {lang}: macro-F1 {scores['intent_macro_f1']:.4f}  "
                f"accuracy {scores['intent_accuracy']:.4f}  "
                f"entity F1 {scores['entity_f1']:.4f}  crisis recall {scores['crisis_recall']}  "
                f"{'meets' if passed else 'MISSES'} the goal"
            )
    out = Path(__file__).resolve().parent / "nlu-results.json"
    out.write_text(
        json.dumps(
            {
                "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "machine": platform.platform(),
                "goal": {
                    "intent_macro_f1": GOAL_MACRO_F1,
                    "intent_macro_f1_added_languages": GOAL_ADDED_LANGUAGE,
                    "crisis_recall": 1.0,
                },
                "sets": results,
            },
            ensure_ascii=False,
            indent=2,
        )
    )
    print(f"written to {out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
