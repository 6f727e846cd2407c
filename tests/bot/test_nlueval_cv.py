"""Cross-validation's crisis recall counts the keyword net, as a real turn does."""

from __future__ import annotations

from bot.nlueval import with_crisis_net


def test_lines_the_net_catches_count_as_caught() -> None:
    report = {
        "languages": {
            "en": {
                "crisis_intent_recall": 0.5,
                "crisis_examples": 4,
                "crisis_missed": ["I want to end my life", "the sky is grey for me"],
            },
            "nl": {"crisis_intent_recall": 1.0, "crisis_examples": 3, "crisis_missed": []},
            "tr": {"crisis_intent_recall": None, "crisis_examples": 0, "crisis_missed": []},
        }
    }
    scored = with_crisis_net(report)["languages"]
    assert scored["en"]["crisis_missed_by_both"] == ["the sky is grey for me"]
    assert scored["en"]["crisis_recall"] == 0.75
    assert scored["nl"]["crisis_recall"] == 1.0
    assert "crisis_recall" not in scored["tr"]
