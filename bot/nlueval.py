"""``koers nlu-eval``: per-language intent accuracy, macro-F1 and entity F1 on a TSV file.

The file has one utterance per line: ``lang<TAB>intent<TAB>text``, where the
text may carry Rasa entity markup (``[PostNL](employer)``). Each text is parsed
by a Rasa server (``/model/parse``); without one running, a temporary server is
started on a free local port with ``models/koers.tar.gz``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bot import ROOT, i18n
from bot.config import Settings
from bot.enrolment import KoersError
from bot.supervisor import RASA_ENV

MARKUP = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<entity>[^)]+)\)|(?P<json>\{[^}]*\}))")
FALLBACK = "nlu_fallback"


@dataclass(frozen=True)
class Example:
    """One held-out utterance with its gold intent and entity spans."""

    lang: str
    intent: str
    text: str
    entities: frozenset[tuple[int, int, str]]


def parse_markup(marked: str) -> tuple[str, frozenset[tuple[int, int, str]]]:
    """Returns the plain text and the (start, end, entity) spans of Rasa markup."""
    out, spans, pos = [], set(), 0
    for match in MARKUP.finditer(marked):
        out.append(marked[pos : match.start()])
        start = sum(len(part) for part in out)
        value = match.group("text")
        out.append(value)
        label = match.group("entity")
        if label is None:
            label = json.loads(match.group("json")).get("entity", "")
        spans.add((start, start + len(value), label.split(":")[0]))
        pos = match.end()
    out.append(marked[pos:])
    return "".join(out), frozenset(spans)


def read_examples(path: Path) -> list[Example]:
    """Reads the TSV file; raises a one-line error on a malformed line."""
    if not path.is_file():
        raise KoersError(f"no such file: {path}")
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            raise KoersError(f"{path}:{number}: expected lang<TAB>intent<TAB>text")
        lang, intent, marked = (p.strip() for p in parts)
        text, entities = parse_markup(marked)
        examples.append(Example(lang, intent, text, entities))
    if not examples:
        raise KoersError(f"{path}: no examples")
    return examples


def _f1(tp: int, fp: int, fn: int) -> float:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def score(
    examples: list[Example], predictions: list[dict[str, Any]], with_errors: bool = False
) -> dict[str, Any]:
    """Computes the per-language scores from gold examples and Rasa parse results."""
    by_lang: dict[str, list[tuple[Example, dict[str, Any]]]] = defaultdict(list)
    for example, prediction in zip(examples, predictions, strict=True):
        by_lang[example.lang].append((example, prediction))
    report: dict[str, Any] = {}
    for lang, pairs in sorted(by_lang.items()):
        gold_intents = [e.intent for e, _ in pairs]
        predicted = [_top_intent(p) for _, p in pairs]
        labels = sorted(set(gold_intents) | set(predicted))
        per_intent = {}
        for label in labels:
            tp = sum(g == label and p == label for g, p in zip(gold_intents, predicted, strict=True))
            fp = sum(g != label and p == label for g, p in zip(gold_intents, predicted, strict=True))
            fn = sum(g == label and p != label for g, p in zip(gold_intents, predicted, strict=True))
            per_intent[label] = {
                "f1": round(_f1(tp, fp, fn), 4),
                "support": gold_intents.count(label),
            }
        gold_labels = sorted(set(gold_intents))
        macro = sum(per_intent[label]["f1"] for label in gold_labels) / len(gold_labels)
        ent_tp = ent_fp = ent_fn = 0
        for example, prediction in pairs:
            found = {
                (int(e["start"]), int(e["end"]), str(e["entity"]))
                for e in prediction.get("entities", [])
                if e.get("entity") in {"employer", "job_title", "language"}
            }
            ent_tp += len(found & example.entities)
            ent_fp += len(found - example.entities)
            ent_fn += len(example.entities - found)
        crisis = [(e, p) for e, p in pairs if e.intent == "crisis"]
        caught_by_intent = sum(_top_intent(p) == "crisis" for _, p in crisis)
        caught = sum(_top_intent(p) == "crisis" or i18n.is_crisis_text(e.text) for e, p in crisis)
        # the net answers with the help lines whatever the intent: on other lines that is a false alarm
        false_alarms = sum(e.intent != "crisis" and i18n.is_crisis_text(e.text) for e, _ in pairs)
        confusions = Counter((g, p) for g, p in zip(gold_intents, predicted, strict=True) if g != p)
        report[lang] = {
            "examples": len(pairs),
            "intent_accuracy": round(
                sum(g == p for g, p in zip(gold_intents, predicted, strict=True)) / len(pairs), 4
            ),
            "intent_macro_f1": round(macro, 4),
            "entity_f1": round(_f1(ent_tp, ent_fp, ent_fn), 4),
            "crisis_recall": round(caught / len(crisis), 4) if crisis else None,
            "crisis_intent_recall": round(caught_by_intent / len(crisis), 4) if crisis else None,
            "crisis_net_false_alarms": false_alarms,
            "fallback_rate": round(sum(_raw_intent(p) == FALLBACK for _, p in pairs) / len(pairs), 4),
            "per_intent": per_intent,
            "confusions": [
                {"gold": g, "predicted": p, "count": n} for (g, p), n in confusions.most_common(10)
            ],
        }
        if with_errors:
            report[lang]["errors"] = [
                {"text": e.text, "gold": e.intent, "predicted": _top_intent(p)}
                for e, p in pairs
                if _top_intent(p) != e.intent
            ]
    return report


def _raw_intent(prediction: dict[str, Any]) -> str:
    return str((prediction.get("intent") or {}).get("name") or "")


def _top_intent(prediction: dict[str, Any]) -> str:
    """Returns the classifier's best intent, looking past the low-confidence fallback."""
    for item in prediction.get("intent_ranking") or []:
        if item.get("name") != FALLBACK:
            return str(item.get("name"))
    return _raw_intent(prediction)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _up(url: str, token: str) -> bool:
    try:
        response = httpx.get(f"{url}/status", params={"token": token}, timeout=3)
        return response.status_code == 200 and bool(response.json().get("model_file"))
    except (httpx.HTTPError, ValueError):
        return False


def rasa_env() -> dict[str, str]:
    """This process's environment with the Rasa processes' settings (``supervisor.RASA_ENV``)."""
    return {**os.environ, **RASA_ENV}


def cross_validate(folds: int, settings: Settings) -> int:
    """K-fold cross-validation per language, writing ``bench/nlu-cv-results.json``.

    ``koers_rasa.crossval`` trains the folds' models and parses the held-back
    examples in the Rasa environment; they are scored here by :func:`score`,
    with the same rules as the held-out files. Returns the exit code.
    """
    if folds < 2:
        raise KoersError("cross-validation needs at least 2 folds")
    python = ROOT / ".venv-rasa" / "bin" / "python"
    if not python.is_file():
        raise KoersError("no Rasa environment: run `make setup` first")
    out = ROOT / "bench" / "nlu-cv-results.json"
    command = [str(python), "-m", "koers_rasa.crossval", "--folds", str(folds), "--out", str(out)]
    code = subprocess.run(command, cwd=ROOT, env=rasa_env(), check=False).returncode
    if code == 0:
        report = score_cross_validation(json.loads(out.read_text(encoding="utf-8")))
        out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        for lang, scores in report["languages"].items():
            print(
                f"{lang}: macro-F1 {scores['intent_macro_f1']:.4f}  "
                f"accuracy {scores['intent_accuracy']:.4f}  entity F1 {scores['entity_f1']:.4f}  "
                f"crisis recall {scores['crisis_recall']}"
            )
    return code


def score_cross_validation(raw: dict[str, Any]) -> dict[str, Any]:
    """The cross-validation's parse results scored per language; the run's facts kept."""
    predictions = raw.pop("predictions")
    examples = [
        Example(p["lang"], p["intent"], p["text"], frozenset((s, e, label) for s, e, label in p["entities"]))
        for p in predictions
    ]
    return {**raw, "languages": score(examples, [p["parse"] for p in predictions])}


@contextlib.contextmanager
def rasa_server(settings: Settings, rasa_url: str | None) -> Iterator[str]:
    """Yields the URL of a Rasa server with the model loaded, starting one if needed."""
    if rasa_url:
        if not _up(rasa_url.rstrip("/"), settings.rasa_token):
            raise KoersError(f"no Rasa server with a model at {rasa_url}")
        yield rasa_url.rstrip("/")
        return
    if _up(settings.rasa_url, settings.rasa_token):
        yield settings.rasa_url
        return
    model = ROOT / "models" / "koers.tar.gz"
    rasa = ROOT / ".venv-rasa" / "bin" / "rasa"
    if not model.is_file() or not rasa.is_file():
        raise KoersError("no trained model: run `make model` first")
    port = _free_port()
    env = rasa_env()
    log = (settings.var_dir / "nlu-eval-rasa.log").open("w")
    proc = subprocess.Popen(
        [
            str(rasa),
            "run",
            "--enable-api",
            "--model",
            str(model),
            "-i",
            "127.0.0.1",
            "-p",
            str(port),
            "--auth-token",
            settings.rasa_token,
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while not _up(url, settings.rasa_token):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise KoersError(f"Rasa did not start; see {log.name}")
            time.sleep(1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def evaluate_file(
    path: str, settings: Settings, rasa_url: str | None = None, with_errors: bool = False
) -> dict[str, Any]:
    """Parses every example of the file and returns the scores per language."""
    examples = read_examples(Path(path))
    with rasa_server(settings, rasa_url) as url, httpx.Client(timeout=60) as client:

        def parse(example: Example) -> dict[str, Any]:
            response = client.post(
                f"{url}/model/parse",
                params={"token": settings.rasa_token},
                json={"text": example.text},
            )
            response.raise_for_status()
            result: dict[str, Any] = response.json()
            return result

        with ThreadPoolExecutor(max_workers=4) as pool:
            predictions = list(pool.map(parse, examples))
    return {"file": str(path), "languages": score(examples, predictions, with_errors)}
