"""K-fold cross-validation of the NLU, scored per language.

Run in the Rasa environment: ``make bench-nlu-cv`` or ``koers nlu-eval
--cross-validation 3`` (both call ``python -m koers_rasa.crossval`` with
``PYTHONPATH=nlu``). Every training example of ``nlu/data/nlu/<language>/`` is
put in one of K folds, stratified by language and intent with a fixed seed;
for each fold a model is trained with ``nlu/config.yml`` on the other folds
and parses the held-back fold. Rasa's own ``rasa test nlu --cross-validation``
reports one number for all languages together. This writes every held-back
example with the model's parse result to the JSON file given with ``--out``;
``koers nlu-eval`` then scores them per language with the same rules as the
held-out files (``bot.nlueval.score``: the best intent past the fallback, the
keyword net for crisis recall, entity F1, confusions).
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
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
NLU_DATA = ROOT / "nlu" / "data" / "nlu"
CONFIG = ROOT / "nlu" / "config.yml"


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


async def run(k: int, seed: int, work: Path) -> dict[str, Any]:
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.training_data import TrainingData

    split = folds(examples_by_language(), k, seed)
    predictions = []
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
            predictions.append(
                {
                    "lang": lang,
                    "intent": message.get("intent"),
                    "text": message.get("text"),
                    "entities": [[e["start"], e["end"], e["entity"]] for e in message.get("entities") or []],
                    "parse": {key: parsed.get(key) for key in ("intent", "intent_ranking", "entities")},
                }
            )
        timings.append({"fold": n, "train": len(train), "test": len(test), "seconds": round(trained)})
        print(f"fold {n + 1}/{k}: trained on {len(train)} in {trained:.0f} s, tested {len(test)}", flush=True)
    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": platform.platform(),
        "folds": k,
        "seed": seed,
        "timings": timings,
        "predictions": predictions,
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
    args.out.write_text(json.dumps(report, ensure_ascii=False, default=float) + "\n")
    print(f"{len(report['predictions'])} predictions written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
