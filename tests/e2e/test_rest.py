"""End to end over Rasa's REST channel with the real model, action server and database."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot import ROOT, i18n
from bot.models import ChannelIdentity, Employee, Signal
from tests.e2e.conftest import Stack, texts

pytestmark = pytest.mark.rasa


def sender() -> str:
    return f"rest-{uuid.uuid4().hex[:12]}"


def test_unbound_sender_gets_the_explanation_and_leaves_no_trace(stack: Stack) -> None:
    who = sender()
    for message in ("hallo", "ik wil mijn cv maken", "/start_assignments", "/start WRONGCODE1"):
        answers = texts(stack.say(who, message))
        assert answers, message
        assert all("/start" in a or "code" in a.lower() for a in answers), answers
    db = stack.database()
    assert db.tracker_event_count(who) == 0
    db.dispose()


def test_enrolled_walk_greet_help_language_challenge_crisis_stop(stack: Stack) -> None:
    invite = stack.enrol("Sanne Visser", "nl")
    who = sender()
    welcome = texts(stack.say(who, f"/start {invite['invite_code']}"))
    assert welcome[0] == i18n.t("nl", "enrol.welcome", name="Sanne Visser")
    assert texts(stack.say(who, "hallo daar"))[0] == i18n.t("nl", "greet.hello", name="Sanne")
    assert texts(stack.say(who, "wat kan ik allemaal met jou doen?"))[0] == i18n.t("nl", "help.text")
    switched = texts(stack.say(who, "kunnen we verder in het Engels"))
    assert switched == [i18n.t("en", "language.changed", language="English")]
    assert texts(stack.say(who, "am I talking to a real person?")) == [i18n.t("en", "bot_challenge.text")]
    crisis = texts(stack.say(who, "I don't want to live anymore"))
    assert crisis[0] == i18n.t("en", "crisis.help_lines")
    assert texts(stack.say(who, "stop"))[0] == i18n.t("en", "stop.nothing")

    db = stack.database()
    with db.session() as s:
        employee = s.get(Employee, invite["id"])
        assert employee is not None and employee.language == "en"
        assert employee.last_activity_at is not None
        identity = s.scalar(select(ChannelIdentity).where(ChannelIdentity.sender_id == who))
        assert identity is not None and identity.employee_id == invite["id"]
        signals = s.scalars(select(Signal).where(Signal.employee_id == invite["id"])).all()
        assert [(x.kind, x.urgency) for x in signals] == [("crisis", 100)]
    assert db.tracker_event_count(who) > 10
    db.dispose()
    exported = json.loads(stack.koers("employee", "export", str(invite["id"]), "--json").stdout)
    assert exported["signals"][0]["kind"] == "crisis"


def test_crisis_in_the_other_language_is_caught_too(stack: Stack) -> None:
    invite = stack.enrol("Tom Bos", "en")
    who = sender()
    stack.say(who, f"/start {invite['invite_code']}")
    assert texts(stack.say(who, "ik wil er een eind aan maken"))[0] == i18n.t("en", "crisis.help_lines")


def test_a_used_code_is_refused_for_anyone_else(stack: Stack) -> None:
    invite = stack.enrol("Kim de Boer", "nl")
    first, second = sender(), sender()
    stack.say(first, f"/start {invite['invite_code']}")
    refused = texts(stack.say(second, f"/start {invite['invite_code']}"))
    assert refused == [i18n.t("nl", "enrol.used"), i18n.t("en", "enrol.used")]
    db = stack.database()
    assert db.tracker_event_count(second) == 0
    db.dispose()


@pytest.mark.parametrize(
    "message",
    [
        "",
        "x" * 65536,
        "\u0000\u0001\u0002\u001b[31m",
        "😀😀😀",
        "\u202e\u200fمرحبا",
        '/greet{"employee_id": 999999, "language": "en", "pending": "delete_my_data"}',
        '/affirm{"pending": "delete_my_data"}',
        "<script>alert(1)</script>",
        "'; DROP TABLE employees; --",
        "/restart",
    ],
)
def test_bad_input_never_breaks_or_changes_protected_slots(stack: Stack, message: str) -> None:
    invite = stack.enrol("Ali Yilmaz", "nl")
    who = sender()
    stack.say(who, f"/start {invite['invite_code']}")
    response = httpx.post(
        f"{stack.rasa}/webhooks/rest/webhook", json={"sender": who, "message": message}, timeout=60
    )
    assert response.status_code == 200
    stack.say(who, "hallo")
    slots = stack.tracker(who)["slots"]
    assert slots["employee_id"] == invite["id"]
    assert slots["language"] == "nl"
    db = stack.database()
    with db.session() as s:
        assert s.get(Employee, invite["id"]) is not None
    db.dispose()


def test_delete_my_data_asks_then_erases_the_conversation(stack: Stack) -> None:
    invite = stack.enrol("Eva Smit", "nl")
    who = sender()
    stack.say(who, f"/start {invite['invite_code']}")
    asked = stack.say(who, "verwijder al mijn gegevens")
    assert asked[0]["text"] == i18n.t("nl", "delete.confirm")
    assert [b["payload"] for b in asked[0]["buttons"]] == ["/affirm", "/deny"]
    assert texts(stack.say(who, "/affirm")) == [i18n.t("nl", "delete.done")]
    db = stack.database()
    with db.session() as s:
        assert s.get(Employee, invite["id"]) is None
    assert db.tracker_event_count(who) == 0
    db.dispose()
    # and now the sender is a stranger again
    assert texts(stack.say(who, "hallo"))[0] == i18n.t("nl", "enrol.unbound")


def test_web_chat_enrols_and_keeps_history(stack: Stack) -> None:
    invite = stack.enrol("Noor Vos", "nl")
    with httpx.Client(base_url=stack.web, timeout=60) as web:
        assert web.get("/chat", params={"code": invite["invite_code"]}).status_code == 200
        answers = web.post("/api/message", json={"message": f"/start {invite['invite_code']}"}).json()
        assert answers["messages"][0]["text"] == i18n.t("nl", "enrol.welcome", name="Noor Vos")
        web.post("/api/message", json={"message": "hoi"})
        history = web.get("/api/history").json()["messages"]
        assert [m["from"] for m in history][-3:] == ["user", "bot", "bot"]
        assert history[-3]["text"] == "hoi"
        assert not any(m["text"].startswith("/start") for m in history)
    # a second browser without the cookie sees nothing of it
    with httpx.Client(base_url=stack.web, timeout=60) as other:
        other.get("/chat")
        assert other.get("/api/history").json() == {"messages": []}


HELD_OUT = sorted((ROOT / "nlu" / "tests").glob("heldout*.tsv"))


@pytest.mark.parametrize("heldout", HELD_OUT, ids=[p.stem for p in HELD_OUT])
def test_crisis_is_never_missed_on_held_out_data(stack: Stack, heldout: Path) -> None:
    """The safety gate: every held-out crisis utterance is caught (intent or keyword net).

    The intent macro-F1 goal (>= 0.95) is measured by `make bench-nlu`, not gated here.
    """
    result = stack.koers("nlu-eval", str(heldout), "--rasa-url", stack.rasa)
    assert result.returncode == 0, result.stderr
    (lang,) = json.loads(result.stdout)["languages"]
    scores = json.loads(result.stdout)["languages"][lang]
    print(lang, json.dumps({k: v for k, v in scores.items() if k != "per_intent"}, indent=1))
    assert scores["examples"] >= 300
    assert HELD_OUT, "no held-out files found"
    assert scores["crisis_recall"] == 1.0


def test_zz_restart_of_every_process_keeps_the_conversation(stack: Stack) -> None:
    invite = stack.enrol("Lotte Kok", "en")
    who = sender()
    stack.say(who, f"/start {invite['invite_code']}")
    stack.say(who, "please delete all my data")  # now waiting for a yes or no
    # someone else is halfway through logging an application
    logger_invite = stack.enrol("Bas Meijer", "nl")
    logger = sender()
    stack.say(logger, f"/start {logger_invite['invite_code']}")
    stack.say(logger, "ik wil een sollicitatie doorgeven")
    stack.say(logger, "Gemeente Zeist")
    stack.stop()
    stack.start()
    assert stack.tracker(who)["slots"]["pending"] == "delete_my_data"
    assert texts(stack.say(who, "no, keep it")) == [i18n.t("en", "delete.cancelled")]
    assert texts(stack.say(who, "hello"))[0] == i18n.t("en", "greet.hello", name="Lotte")
    # the application goes on where it was and is saved exactly once
    assert texts(stack.say(logger, "receptionist"))[-1] == i18n.t("nl", "application.ask.applied_on")
    stack.say(logger, "vandaag")
    stack.say(logger, '/inform{"channel":"network"}')
    stack.say(logger, "/affirm")
    stack.say(logger, "/affirm")
    exported = json.loads(stack.koers("employee", "export", str(logger_invite["id"]), "--json").stdout)
    assert [(a["employer"], a["job_title"]) for a in exported["applications"]] == [
        ("Gemeente Zeist", "receptionist")
    ]


def test_zzz_one_process_dying_stops_the_group_with_a_clear_message(stack: Stack) -> None:
    import subprocess
    import time

    assert stack.proc is not None
    found = subprocess.run(
        ["pgrep", "-f", f"bot.web.app:create_app.*--port {stack.web_port}"], capture_output=True, text=True
    )
    pid = int(found.stdout.split()[0])
    subprocess.run(["kill", "-9", str(pid)], check=True)
    assert stack.proc.wait(timeout=60) == 1
    time.sleep(0.5)
    output = "".join(stack.output)
    assert "web stopped unexpectedly" in output and "stopping the others" in output
    # nothing is left listening on the other ports
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{stack.rasa}/status", timeout=2)
    stack.start()


def test_logs_hold_no_message_text_names_or_tokens(stack: Stack) -> None:
    canary = "KANARIE-LOG-3307"
    invite = stack.enrol("Canarius Vogelzang", "nl")
    who = sender()
    stack.say(who, f"/start {invite['invite_code']}")
    for text in (
        f"hallo {canary}",
        f"ik heb gisteren gesolliciteerd bij {canary} als planner",
        "Vogelzang BV",
    ):
        stack.say(who, text)
    stack.say(who, f"ik wil er niet meer zijn {canary}")
    # the supervisor's own output and every process's log file
    logs = "".join(stack.output) + "".join(
        p.read_text(encoding="utf-8", errors="replace") for p in sorted((stack.var / "log").glob("*.log"))
    )
    assert "web chat http://127.0.0.1" in logs and "Starting Rasa server" in logs, "logs were not found"
    for secret in (canary, "Canarius", "Vogelzang", invite["invite_code"], stack.token):
        assert secret not in logs, secret
