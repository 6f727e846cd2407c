"""Cross-validation's parse results are scored like the held-out files."""

from __future__ import annotations

from typing import Any

from bot.nlueval import score_cross_validation


def parse(intent: str, ranking: list[str] | None = None, entities: list[Any] | None = None) -> dict[str, Any]:
    return {
        "intent": {"name": intent, "confidence": 0.9},
        "intent_ranking": [{"name": name} for name in ranking or [intent]],
        "entities": [{"start": s, "end": e, "entity": label} for s, e, label in entities or []],
    }


def test_the_same_rules_as_the_held_out_files() -> None:
    raw = {
        "folds": 3,
        "timings": [{"fold": 0, "seconds": 1}],
        "predictions": [
            # the model missed it, the keyword net catches it: caught, as in a real turn
            {
                "lang": "en",
                "intent": "crisis",
                "text": "I want to end my life",
                "entities": [],
                "parse": parse("inform"),
            },
            # missed by both
            {
                "lang": "en",
                "intent": "crisis",
                "text": "the sky is grey for me",
                "entities": [],
                "parse": parse("inform"),
            },
            # below the fallback threshold, the best intent behind it counts
            {
                "lang": "en",
                "intent": "greet",
                "text": "hiya",
                "entities": [],
                "parse": parse("nlu_fallback", ["nlu_fallback", "greet"]),
            },
            # not a crisis, but the net would answer it with the help lines: a false alarm
            {
                "lang": "en",
                "intent": "inform",
                "text": "I want to kill myself laughing",
                "entities": [],
                "parse": parse("inform"),
            },
            {
                "lang": "nl",
                "intent": "log_application",
                "text": "bij Jumbo",
                "entities": [[4, 9, "employer"]],
                "parse": parse("log_application", entities=[[4, 9, "employer"]]),
            },
        ],
    }
    report = score_cross_validation(raw)
    assert "predictions" not in report and report["folds"] == 3 and report["timings"]
    en, nl = report["languages"]["en"], report["languages"]["nl"]
    assert en["crisis_recall"] == 0.5 and en["crisis_intent_recall"] == 0.0
    assert en["crisis_net_false_alarms"] == 1 and nl["crisis_net_false_alarms"] == 0
    assert en["per_intent"]["greet"]["f1"] == 1.0
    assert nl["intent_accuracy"] == 1.0 and nl["entity_f1"] == 1.0
