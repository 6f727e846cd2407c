"""The whole product, started as `make run` starts it: `koers run` with a real trained model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bot.stack import MODEL, Stack, make_stack

__all__ = ["MODEL", "Stack", "make_stack", "texts"]


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Yields Koers running on SQLite with the real model (started once per test run)."""
    tmp = tmp_path_factory.mktemp("stack")
    running = make_stack(tmp, f"sqlite:///{tmp / 'koers.db'}", 15000)
    yield running
    running.stop()


def texts(answers: list[dict[str, Any]]) -> list[str]:
    """Returns the text of each answer."""
    return [a.get("text", "") for a in answers]
