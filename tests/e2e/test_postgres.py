"""The same product on PostgreSQL: our tables and Rasa's tracker store in one real database."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bot import i18n
from bot.models import Signal
from tests.conftest import _reset_postgres
from tests.e2e.conftest import Stack, make_stack, texts

pytestmark = [pytest.mark.rasa, pytest.mark.postgres]


@pytest.fixture(scope="module")
def pg_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    base = os.environ.get("KOERS_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("KOERS_TEST_POSTGRES_URL is not set (make test starts PostgreSQL)")
    url = base.rsplit("/", 1)[0] + "/koers_e2e"
    _reset_postgres(url)
    running = make_stack(tmp_path_factory.mktemp("pg"), url, 25000)
    yield running
    running.stop()


def test_conversation_state_and_records_live_in_postgres(pg_stack: Stack) -> None:
    invite = pg_stack.enrol("Mark de Jong", "nl")
    who = "rest-pg-1"
    assert texts(pg_stack.say(who, f"/start {invite['invite_code']}"))[0] == i18n.t(
        "nl", "enrol.welcome", name="Mark de Jong"
    )
    assert texts(pg_stack.say(who, "ik wil niet meer leven"))[0] == i18n.t("nl", "crisis.help_lines")
    db = pg_stack.database()
    assert db.engine.dialect.name == "postgresql"
    with db.session() as s:
        kinds = s.scalars(select(Signal.kind).where(Signal.employee_id == invite["id"])).all()
    assert kinds == ["crisis"]
    assert db.tracker_event_count(who) > 5
    # unbound senders leave nothing in PostgreSQL either
    pg_stack.say("rest-pg-stranger", "hallo")
    assert db.tracker_event_count("rest-pg-stranger") == 0
    db.dispose()

    # a restart of every process keeps the conversation
    pg_stack.stop()
    pg_stack.start()
    assert pg_stack.tracker(who)["slots"]["employee_id"] == invite["id"]
    assert texts(pg_stack.say(who, "hoi"))[0] == i18n.t("nl", "greet.hello", name="Mark")

    forgotten = pg_stack.koers("employee", "forget", str(invite["id"]), "--json")
    assert forgotten.returncode == 0, forgotten.stderr
    assert json.loads(forgotten.stdout)["tracker_events_deleted"] > 5
    db = pg_stack.database()
    assert db.tracker_event_count(who) == 0
    db.dispose()
