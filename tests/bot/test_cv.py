"""The CV's answers, suggestions and signed download links."""

from __future__ import annotations

import time

import pytest

from bot import cv
from bot.catalogue import Invalid


def test_download_tokens_are_signed_scoped_and_expire() -> None:
    token = cv.download_token("secret", 7, "pdf")
    assert cv.read_token("secret", token) == cv.Download(employee_id=7, fmt="pdf")
    assert cv.read_token("other secret", token) is None
    assert cv.read_token("secret", token[:-2] + "xx") is None
    assert cv.read_token("secret", cv.download_token("secret", 7, "exe")) is None
    time.sleep(2.1)
    assert cv.read_token("secret", token, max_age_days=1 / 86400) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Nederlands moedertaal, Engels goed", [("Nederlands", "native"), ("Engels", "good")]),
        ("Turks (moedertaal) en Nederlands vloeiend", [("Turks", "native"), ("Nederlands", "fluent")]),
        ("Dutch native; English basic", [("Dutch", "native"), ("English", "basic")]),
        ("arabisch basis", [("Arabisch", "basic")]),
    ],
)
def test_languages_with_levels(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(x["language"], x["level"]) for x in cv.read_languages(text, "nl")] == expected


@pytest.mark.parametrize("text", ["Nederlands", "moedertaal", "", "goed"])
def test_languages_without_a_level_or_name_are_asked_again(text: str) -> None:
    with pytest.raises(Invalid):
        cv.read_languages(text, "nl")


def test_contact_details_and_licence() -> None:
    assert cv.read_phone("+31 6 1234 5678") == "+31 6 1234 5678"
    assert cv.read_email("piet@example.nl") == "piet@example.nl"
    assert cv.read_licence("ja, B en ook CE") == "B, CE"
    for bad_call in (
        lambda: cv.read_phone("bel me"),
        lambda: cv.read_email("piet@"),
        lambda: cv.read_licence("ja"),
    ):
        with pytest.raises(Invalid):
            bad_call()


def test_health_information_is_refused() -> None:
    with pytest.raises(Invalid) as refused:
        cv.read_text("Na mijn burn-out ben ik weer fit", 10)
    assert refused.value.key == "cv.no_health"
    assert cv.read_text("Betrouwbare planner met oog voor detail", 10).startswith("Betrouwbare")
