"""Koers' extensions inside the Rasa server's own environment (.venv-rasa)."""

from __future__ import annotations

import os
import subprocess

import pytest

from bot import ROOT

pytestmark = pytest.mark.rasa

CHECK = """
import jsonschema
import koers_rasa
import koers_rasa.tracker_store  # Rasa would fall back to a store in memory if this failed
from rasa.core.actions.action import RemoteAction

assert RemoteAction._validate_action_result is koers_rasa._validate_action_result
action = RemoteAction("x", None)
good = {"events": [{"event": "slot", "name": "a", "value": 1}], "responses": [{"text": "hi"}]}
assert action._validate_action_result(good)
for bad in ({"events": [{"event": "slot"}]}, {"responses": "nope"}, {"events": "x"}):
    try:
        action._validate_action_result(bad)
    except jsonschema.ValidationError as error:
        assert "Failed to validate Action server response" in error.message
    else:
        raise SystemExit(f"accepted {bad}")
from rasa.core.channels.rest import RestInput


class Request:
    json = {"message": "x" * 100_000}


assert len(RestInput()._extract_message(Request())) == koers_rasa.MAX_MESSAGE
print("ok")
"""


TOKENS = """
from koers_rasa.tokenizer import KoersTokenizer
from rasa.shared.nlu.training_data.message import Message

tokenizer = KoersTokenizer(KoersTokenizer.get_default_config())


def tokens(text, tokenizer=tokenizer):
    found = tokenizer.tokenize(Message(data={"text": text}), "text")
    return [(t.text, t.lemma, t.start, t.end) for t in found]


# the same words, spelled the careful and the quick way, give the same tokens
careful = tokens("أرسلتُ سيرتي الذاتيّة إلى الشركة ٣ مرات")
quick = tokens("ارسلت سيرتي الذاتيه الي الشركه 3 مرات")
assert [t[:2] for t in careful] == [t[:2] for t in quick], (careful, quick)
# clitics: "and the company", "the company" and "company" share the word feature
assert len({tokens(w)[0][1] for w in ("والشركة", "الشركة", "شركة")}) == 1
# offsets point into the original text, whatever was folded
text = "قدّمتُ على وظيفةٍ"
assert [text[s:e] for _, _, s, e in tokens(text)] == text.split()
# a pasted long text is read up to its first 100 tokens
assert len(tokens("woord " * 1000)) == 100
# other scripts exactly as Rasa's whitespace tokenizer makes them
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer

plain = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
for text in ("Ik heb gesolliciteerd bij Jumbo!", "Zażółć gęślą jaźń", "Я подав заявку", "Başvurdum."):
    assert tokens(text) == tokens(text, plain), (tokens(text), tokens(text, plain))
print("ok")
"""


def run_in_rasa(code: str) -> None:
    """Runs ``code`` with the Rasa environment's Python and Koers' extensions on the path."""
    done = subprocess.run(
        [str(ROOT / ".venv-rasa" / "bin" / "python"), "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT / "nlu"), "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("ok")


def test_action_responses_are_validated_once_and_messages_are_bounded() -> None:
    run_in_rasa(CHECK)


def test_arabic_spelling_variants_become_the_same_tokens() -> None:
    run_in_rasa(TOKENS)
