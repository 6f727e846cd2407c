"""Many employees logging applications at once over REST: every confirmed application stored once.

`make test` runs a small load (20 conversations × 3 applications); `make
test-resilience` sets KOERS_LOAD_CONVERSATIONS=100 KOERS_LOAD_APPLICATIONS=10.
"""

from __future__ import annotations

import asyncio
import os
import uuid

import httpx
import pytest
from sqlalchemy import func, select

from bot.models import Application, ApplicationStatusChange
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.rasa

CONVERSATIONS = int(os.environ.get("KOERS_LOAD_CONVERSATIONS", "20"))
APPLICATIONS = int(os.environ.get("KOERS_LOAD_APPLICATIONS", "3"))


async def converse(client: httpx.AsyncClient, stack: Stack, who: str, code: str, n: int) -> list[str]:
    """Enrols and logs ``n`` applications by typed sentence and buttons; returns any errors seen."""
    errors: list[str] = []

    async def say(text: str) -> list[dict[str, object]]:
        response = await client.post(
            f"{stack.rasa}/webhooks/rest/webhook", json={"sender": who, "message": text}, timeout=120
        )
        if response.status_code != 200:
            errors.append(f"{who}: HTTP {response.status_code} on {text!r}")
            return []
        answers: list[dict[str, object]] = response.json()
        if not answers:
            errors.append(f"{who}: no answer to {text!r}")
        return answers

    await say(f"/start {code}")
    for k in range(n):
        await say("/log_application")
        await say(f"Werkgever {who[-6:]} {k}")
        await say("medewerker")
        await say("vandaag")
        await say('/inform{"channel":"vacancy_site"}')
        await say("/affirm")
    return errors


def test_concurrent_conversations_store_every_application_once(stack: Stack) -> None:
    invites = stack.enrol_many([f"Load {n}" for n in range(CONVERSATIONS)], "nl")
    senders = [f"load-{uuid.uuid4().hex[:10]}" for _ in invites]

    async def run_all() -> list[str]:
        limits = httpx.Limits(max_connections=CONVERSATIONS)
        async with httpx.AsyncClient(limits=limits) as client:
            results = await asyncio.gather(
                *(
                    converse(client, stack, who, invite["invite_code"], APPLICATIONS)
                    for who, invite in zip(senders, invites, strict=True)
                )
            )
        return [e for errors in results for e in errors]

    errors = asyncio.run(run_all())
    assert errors == []
    ids = [invite["id"] for invite in invites]
    db = stack.database()
    with db.session() as s:
        stored = s.scalar(select(func.count(Application.id)).where(Application.employee_id.in_(ids)))
        distinct = s.scalar(
            select(func.count(func.distinct(Application.employer))).where(Application.employee_id.in_(ids))
        )
        history = s.scalar(
            select(func.count(ApplicationStatusChange.id))
            .join(Application)
            .where(Application.employee_id.in_(ids))
        )
    db.dispose()
    expected = CONVERSATIONS * APPLICATIONS
    assert (stored, distinct, history) == (expected, expected, expected)
