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
# Latin letters bare of diacritics, typed with or without them; case and offsets kept
for careful, quick in (
    ("Zażółć gęślą jaźń, Łódź", "Zazolc gesla jazn, Lodz"),
    ("İşimi değiştirmek istiyorum ışık", "Isimi degistirmek istiyorum isik"),
    ("Ik ben geïnteresseerd in één café", "Ik ben geinteresseerd in een cafe"),
):
    assert [t[:2] for t in tokens(careful)] == [t[:2] for t in tokens(quick)], (careful, quick)
    assert [careful[s:e] for _, _, s, e in tokens(careful)] == careful.replace(",", "").split()
# words without marks, and Cyrillic (й and ї are letters of their own), exactly as
# Rasa's whitespace tokenizer makes them
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer

plain = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
for text in ("Ik heb gesolliciteerd bij Jumbo!", "Я подав заявку й мрію про їжу", "Basvurdum. Wyslalem CV"):
    assert tokens(text) == tokens(text, plain), (tokens(text), tokens(text, plain))
print("ok")
"""


INTENTS = """
import tempfile
from pathlib import Path

import skops.io as sio
from koers_rasa.classifier import TfidfIntentClassifier
from koers_rasa.tokenizer import KoersTokenizer
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

storage = LocalModelStorage(Path(tempfile.mkdtemp()))
context = ExecutionContext(GraphSchema({}), "test")
tokenizer = KoersTokenizer(KoersTokenizer.get_default_config())
chars = {**CountVectorsFeaturizer.get_default_config(), "analyzer": "char_wb", "min_ngram": 2, "max_ngram": 4}
featurizer = CountVectorsFeaturizer.create(chars, storage, Resource("chars"), context)
examples = {
    "greet": ["hallo", "hoi", "goedemorgen", "hey daar", "hallo koers"],
    "stop": ["stop", "stoppen", "ik wil stoppen", "hou op met de vragen", "stop de vragenlijst"],
    "start_cv": ["mijn cv maken", "cv", "ik wil een cv", "cv downloaden", "help me met mijn cv"],
}
data = TrainingData([Message(data={"text": t, "intent": i}) for i, texts in examples.items() for t in texts])
tokenizer.process_training_data(data)
featurizer.train(data)
featurizer.process_training_data(data)


def read(classifier, text):
    message = Message(data={"text": text})
    tokenizer.process([message])
    featurizer.process([message])
    classifier.process([message])
    return message.get("intent"), message.get("intent_ranking")


config = TfidfIntentClassifier.get_default_config()
trained = TfidfIntentClassifier.create(config, storage, Resource("intents"), context)
trained.train(data)
loaded = TfidfIntentClassifier.load(config, storage, Resource("intents"), context)
for classifier in (trained, loaded):
    for text, expected in (("hallo daar", "greet"), ("stop ermee", "stop"), ("mijn cv", "start_cv")):
        intent, ranking = read(classifier, text)
        assert intent["name"] == expected, (text, intent)
        # probabilities: the ranking of all three intents sums to one, best first
        assert abs(sum(r["confidence"] for r in ranking) - 1) < 1e-6, ranking
        assert ranking[0]["name"] == expected and intent["confidence"] == ranking[0]["confidence"]
    assert read(classifier, "hallo")[0]["confidence"] > read(classifier, "hallo cv")[0]["confidence"]
# the loaded classifier is the trained one, not a fresh untrained one
assert read(loaded, "stop de cv")[1] == read(trained, "stop de cv")[1]
# a model file with a type nobody trusted fails the start instead of giving an untrained classifier
from fractions import Fraction

with storage.write_to(Resource("odd")) as folder:
    sio.dump({"odd": Fraction(1, 3)}, folder / "odd.skops")
try:
    TfidfIntentClassifier.load(config, storage, Resource("odd"), context)
except ValueError as error:
    assert "not trusted" in str(error), error
else:
    raise SystemExit("an untrusted model file was loaded")
print("ok")
"""


GATE = """
import asyncio

import koers_rasa
from koers_rasa import gated, outside_the_gate
from rasa.core.processor import MessageProcessor
from rasa.utils.endpoints import EndpointConfig

# installed on import: every turn passes the gate, every call to another server leaves it
assert MessageProcessor.handle_message.__qualname__.startswith("gated.")
assert EndpointConfig.request.__qualname__.startswith("outside_the_gate.")
assert koers_rasa.TURNS_AT_ONCE >= 1


async def scenario():
    log = []
    answer = {name: asyncio.Event() for name in "AEF"}  # the action server answers X
    finish = {name: asyncio.Event() for name in "ABCDEFG"}  # X's own work in the gate is done

    async def action_server(name):
        log.append(f"{name} asks")
        await answer[name].wait()
        answer[name].clear()

    def turns(patience):
        ask = outside_the_gate(action_server, patience)

        async def turn(name, calls):
            log.append(f"{name} works")
            for _ in range(calls):
                await ask(name)
                log.append(f"{name} back")
            await finish[name].wait()
            log.append(f"{name} done")

        return gated(turn, 1)

    handle = turns(patience=0.05)  # a call unanswered after 0.05 s is a slow one
    read = 0

    async def expect(*lines):
        nonlocal read
        for _ in range(50):
            await asyncio.sleep(0)
        assert log[read:] == list(lines), (log[read:], lines)
        read = len(log)

    tasks = {}
    for name, calls in (("A", 2), ("B", 0), ("C", 0), ("D", 0), ("E", 1)):
        tasks[name] = asyncio.create_task(handle(name, calls))
    # A waits for the action server; the place is A's until the call turns out slow
    await expect("A works", "A asks")
    await asyncio.sleep(0.2)
    # then A gives its place up and B comes in; C, D, E wait in order
    await expect("B works")
    answer["A"].set()  # A's answer is back while B still works: A waits, first in line
    await expect()
    tasks["D"].cancel()  # a message whose sender hung up leaves the line
    finish["B"].set()
    # A, started first, goes on before C, which came earlier than A's answer
    await expect("B done", "A back", "A asks")
    await asyncio.sleep(0.2)
    await expect("C works")
    finish["C"].set()
    await expect("C done", "E works", "E asks")  # D left the line: E is next
    await asyncio.sleep(0.2)
    # A and E both wait for a hanging action server; they hold no place, so a new turn goes through
    finish["F"].set()
    tasks["F"] = asyncio.create_task(handle("F", 0))
    await expect("F works", "F done")
    answer["E"].set()
    await expect("E back")
    answer["A"].set()  # E holds the place: A waits for it
    await expect()
    finish["E"].set()
    await expect("E done", "A back")
    finish["A"].set()
    await expect("A done")
    assert tasks["D"].cancelled()
    await asyncio.wait_for(asyncio.gather(*(t for n, t in tasks.items() if n != "D")), 5)
    # the one place is free again
    finish["G"].set()
    await asyncio.wait_for(handle("G", 0), 5)
    await expect("G works", "G done")
    # within its patience, a turn keeps its place while the action server works
    patient = turns(patience=30)
    for name in "ABF":
        finish[name].clear()
    first = asyncio.create_task(patient("F", 1))
    second = asyncio.create_task(patient("B", 0))
    await expect("F works", "F asks")
    await asyncio.sleep(0.2)
    await expect()  # B waits
    answer["F"].set()
    await expect("F back")
    finish["F"].set()
    finish["B"].set()
    await expect("F done", "B works", "B done")
    await asyncio.wait_for(asyncio.gather(first, second), 5)
    return log


log = asyncio.run(scenario())
print("ok")
"""


SESSIONS = """
import asyncio
import sqlite3
import tempfile

from koers_rasa.tracker_store import KoersTrackerStore
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

domain = Domain.from_yaml(\"""
version: "3.1"
intents: [greet]
slots:
  employee_id: {type: any, mappings: [{type: custom}]}
\""")
db = tempfile.mktemp(suffix=".db")
ours = KoersTrackerStore(domain, url=f"sqlite:///{db}")
KoersTrackerStore(domain, url=f"sqlite:///{db}")  # a second start finds its indexes there
rasas = SQLTrackerStore(domain, dialect="sqlite", db=db)


def day(start, n):
    return [
        ActionExecuted("action_session_start", timestamp=start),
        SessionStarted(timestamp=start + 1),
        SlotSet("employee_id", 7, timestamp=start + 2),
        *[UserUttered(f"hoi {n} {i}", {"name": "greet"}, timestamp=start + 3 + i) for i in range(5)],
    ]


async def check():
    for who in ("a", "b"):
        events = [e for n in range(30) for e in day(1_000_000 + n * 86_400, n)]
        await ours.save(DialogueStateTracker.from_events(who, events, domain.slots))
    for who in ("a", "b"):
        mine, theirs = await ours.retrieve(who), await rasas.retrieve(who)
        assert [e.as_dict() for e in mine.events] == [e.as_dict() for e in theirs.events]
        said = [e.text for e in mine.events if isinstance(e, UserUttered)]
        assert said == [f"hoi 29 {i}" for i in range(5)], said
        everything = await ours.retrieve_full_tracker(who)
        assert len(everything.events) == len((await rasas.retrieve_full_tracker(who)).events) == 30 * 8
    # saving again adds only what is new
    tracker = await ours.retrieve("a")
    tracker.update(UserUttered("nog eentje", {"name": "greet"}, timestamp=9_999_999))
    await ours.save(tracker)
    await ours.save(tracker)
    assert [e.text for e in (await rasas.retrieve("a")).events if isinstance(e, UserUttered)][-2:] == [
        "hoi 29 4",
        "nog eentje",
    ]
    # a sender without a session start: all events
    await ours.save(DialogueStateTracker.from_events("c", day(5, 0)[2:], domain.slots))
    assert len((await ours.retrieve("c")).events) == 6


asyncio.run(check())
with sqlite3.connect(db) as connection:
    names = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"ix_events_sender_type_time", "ix_events_sender_time"} <= names, names
    query = ours._statements["this_session"].compile(ours.engine)
    values = [{**query.params, "sender_id": "a"}[name] for name in query.positiontup]
    plan = " ".join(row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {query}", values))
    # the session's events are found by range, not by reading all of the sender's events
    assert "ix_events_sender_time (sender_id=? AND timestamp>?)" in plan, plan
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


def test_spelling_variants_become_the_same_tokens() -> None:
    run_in_rasa(TOKENS)


def test_the_intent_classifier_trains_loads_and_ranks_with_probabilities() -> None:
    run_in_rasa(INTENTS)


def test_the_tracker_store_reads_a_session_like_rasa_without_reading_all_history() -> None:
    run_in_rasa(SESSIONS)


def test_started_turns_finish_first_and_waiting_turns_hold_no_place() -> None:
    run_in_rasa(GATE)
