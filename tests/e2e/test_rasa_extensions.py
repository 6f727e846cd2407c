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


def test_action_responses_are_validated_once_and_messages_are_bounded() -> None:
    done = subprocess.run(
        [str(ROOT / ".venv-rasa" / "bin" / "python"), "-c", CHECK],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT / "nlu"), "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("ok")
