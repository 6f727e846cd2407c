"""A burst from one sender (10 messages in 100 ms) is handled in the order it was sent.

Rasa's lock store queues one conversation's messages by arrival; the web chat
forwards each message as it comes. Both paths are checked against what the
conversation finally holds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import pytest

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.rasa

BURST = [f"bericht nummer {n}" for n in range(1, 11)]


async def burst(post: Callable[[str], Awaitable[httpx.Response]]) -> list[int]:
    """Starts one request every 10 ms without waiting for answers; returns the status codes."""
    tasks = []
    for text in BURST:
        tasks.append(asyncio.create_task(post(text)))
        await asyncio.sleep(0.01)
    return [response.status_code for response in await asyncio.gather(*tasks)]


def test_a_rest_burst_is_processed_in_order(stack: Stack) -> None:
    invite = stack.enrol("Bas Burst", "nl")
    who = "burst-rest"
    stack.say(who, f"/start {invite['invite_code']}")

    async def run() -> list[int]:
        async with httpx.AsyncClient(timeout=300) as client:
            return await burst(
                lambda text: client.post(
                    f"{stack.rasa}/webhooks/rest/webhook", json={"sender": who, "message": text}
                )
            )

    assert asyncio.run(run()) == [200] * len(BURST)
    said = [e["text"] for e in stack.tracker(who)["events"] if e["event"] == "user"]
    assert said[-len(BURST) :] == BURST


def test_a_web_chat_burst_is_processed_in_order(stack: Stack) -> None:
    invite = stack.enrol("Bea Burst", "nl")

    async def run() -> tuple[list[int], list[str]]:
        async with httpx.AsyncClient(base_url=stack.web, timeout=300) as web:
            await web.get("/chat", params={"code": invite["invite_code"]})
            await web.post("/api/message", json={"message": f"/start {invite['invite_code']}"})
            statuses = await burst(lambda text: web.post("/api/message", json={"message": text}))
            history = (await web.get("/api/history")).json()["messages"]
        return statuses, [m["text"] for m in history if m["from"] == "user"]

    statuses, said = asyncio.run(run())
    assert statuses == [200] * len(BURST)
    assert said[-len(BURST) :] == BURST
