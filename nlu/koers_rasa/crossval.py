"""K-fold cross-validation of the NLU, scored per language.

Run in the Rasa environment: ``make bench-nlu-cv`` or ``koers nlu-eval
--cross-validation 3`` (both call ``python -m koers_rasa.crossval`` with
``PYTHONPATH=nlu``). Every training example of ``nlu/data/nlu/<language>/`` is
put in one of K folds, stratified by language and intent with a fixed seed;
for each fold a model is trained with ``nlu/config.yml`` on the other folds
and parses the held-back fold. Rasa's own ``rasa test nlu --cross-validation``
reports one number for all languages together; this reports per language:
intent accuracy and macro-F1, crisis recall (the intent only: the keyword net
lives in the app), entity F1 (exact span and type) and the most frequent
confusion pairs. Writes JSON to the path given with ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import platform
import random
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
NLU_DATA = ROOT / "nlu" / "data" / "nlu"
CONFIG = ROOT / "nlu" / "config.yml"
CRISIS = "crisis"
FALLBACK = "nlu_fallback"


def examples_by_language() -> dict[str, list[Any]]:
    """The training examples of every language folder (Rasa ``Message`` objects)."""
    from rasa.shared.nlu.training_data.loading import load_data

    found = {}
    for folder in sorted(p for p in NLU_DATA.iterdir() if p.is_dir()):
        data = load_data(str(folder))
        found[folder.name] = [m for m in data.intent_examples if m.get("text")]
    return found


def folds(examples: dict[str, list[Any]], k: int, seed: int) -> list[list[tuple[str, Any]]]:
    """K folds, each holding about 1/k of every (language, intent) group."""
    rng = random.Random(seed)
    groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for lang, messages in examples.items():
        for message in messages:
            groups[(lang, message.get("intent"))].append(message)
    out: list[list[tuple[str, Any]]] = [[] for _ in range(k)]
    offset = 0
    for (lang, _intent), members in sorted(groups.items()):
        rng.shuffle(members)
        for n, message in enumerate(members):
            out[(n + offset) % k].append((lang, message))
        offset += len(members)  # small groups do not all start in fold 0
    return out


def f1(tp: int, fp: int, fn: int) -> float:
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def spans(entities: list[dict[str, Any]]) -> set[tuple[int, int, str]]:
    return {(e["start"], e["end"], e["entity"]) for e in entities or []}


def scores(results: list[tuple[str, str, set[Any], set[Any]]]) -> dict[str, Any]:
    """Accuracy, macro-F1 over the gold intents, crisis recall, entity F1 and confusions."""
    intents = sorted({gold for gold, _, _, _ in results})
    per_intent = {}
    for intent in intents:
        tp = sum(1 for g, p, _, _ in results if g == intent and p == intent)
        fp = sum(1 for g, p, _, _ in results if g != intent and p == intent)
        fn = sum(1 for g, p, _, _ in results if g == intent and p != intent)
        per_intent[intent] = round(f1(tp, fp, fn), 4)
    crisis = [p for g, p, _, _ in results if g == CRISIS]
    etp = sum(len(gs & ps) for _, _, gs, ps in results)
    efp = sum(len(ps - gs) for _, _, gs, ps in results)
    efn = sum(len(gs - ps) for _, _, gs, ps in results)
    confusions = Counter((g, p) for g, p, _, _ in results if g != p)
    return {
        "examples": len(results),
        "intent_accuracy": round(sum(g == p for g, p, _, _ in results) / len(results), 4),
        "intent_macro_f1": round(sum(per_intent.values()) / len(per_intent), 4),
        "crisis_intent_recall": round(sum(p == CRISIS for p in crisis) / len(crisis), 4) if crisis else None,
        "crisis_examples": len(crisis),
        "entity_f1": round(f1(etp, efp, efn), 4),
        "fallback_rate": round(sum(p == FALLBACK for _, p, _, _ in results) / len(results), 4),
        "confusions": [{"gold": g, "predicted": p, "count": n} for (g, p), n in confusions.most_common(10)],
        "per_intent_f1": per_intent,
    }


async def run(k: int, seed: int, work: Path) -> dict[str, Any]:
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.training_data import TrainingData

    examples = examples_by_language()
    split = folds(examples, k, seed)
    results: dict[str, list[tuple[str, str, set[Any], set[Any]]]] = defaultdict(list)
    # crisis lines the model missed: the app checks them against its keyword net
    missed: dict[str, list[str]] = defaultdict(list)
    timings = []
    for n, test in enumerate(split):
        train = [m for i, fold in enumerate(split) if i != n for _, m in fold]
        data_file = work / f"fold{n}.yml"
        RasaYAMLWriter().dump(data_file, TrainingData(training_examples=train))
        started = time.monotonic()
        model = train_nlu(str(CONFIG), str(data_file), str(work), fixed_model_name=f"fold{n}")
        trained = time.monotonic() - started
        processor = Agent.load(model).processor
        for lang, message in test:
            parsed = await processor.parse_message(_user_message(message.get("text")))
            predicted = (parsed.get("intent") or {}).get("name") or FALLBACK
            gold = spans(message.get("entities"))
            results[lang].append((message.get("intent"), predicted, gold, spans(parsed.get("entities"))))
            if message.get("intent") == CRISIS and predicted != CRISIS:
                missed[lang].append(message.get("text"))
        timings.append({"fold": n, "train": len(train), "test": len(test), "seconds": round(trained)})
        print(f"fold {n + 1}/{k}: trained on {len(train)} in {trained:.0f} s, tested {len(test)}", flush=True)
    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": platform.platform(),
        "folds": k,
        "seed": seed,
        "timings": timings,
        "languages": {
            lang: {**scores(found), "crisis_missed": missed[lang]} for lang, found in sorted(results.items())
        },
    }


def _user_message(text: str) -> Any:
    from rasa.core.channels.channel import UserMessage

    return UserMessage(text)


def quiet() -> None:
    """Rasa's warnings and errors only: no line per parsed message."""
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "nlu-cv-results.json")
    args = parser.parse_args()
    # the folds' components would fill Rasa's training cache with nothing reusable
    os.environ["RASA_MAX_CACHE_SIZE"] = "0"
    quiet()
    with tempfile.TemporaryDirectory(prefix="koers-cv-") as work:
        report = asyncio.run(run(args.folds, args.seed, Path(work)))
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    for lang, found in report["languages"].items():
        print(
            f"{lang}: macro-F1 {found['intent_macro_f1']:.4f}  accuracy {found['intent_accuracy']:.4f}  "
            f"entity F1 {found['entity_f1']:.4f}  crisis recall {found['crisis_intent_recall']}"
        )
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
