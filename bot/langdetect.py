"""Which supported language a message is written in, learned from Koers' own data.

No language is listed here and nothing is downloaded: each language's profile
is built from what already exists for it — every sentence of its catalog
(``locales/<code>/LC_MESSAGES/koers.po``) and, when present, its NLU training
examples (``nlu/data/nlu/<code>/*.yml``). A message is scored with character
trigrams (a naive Bayes model with add-one smoothing), which copes with typos
and separates scripts (Arabic, Cyrillic) at once.

The assistant only *offers* to switch (see ``actions/base.py``): short
messages, names and numbers are too weak evidence, so a language is only
reported for a message with enough letters and a clear margin over the
current language.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from dataclasses import dataclass

import yaml

from bot import ROOT, i18n

NLU_DATA = ROOT / "nlu" / "data" / "nlu"
MIN_LETTERS = 12
MIN_WORDS = 3
# average log-likelihood per trigram by which the other language must win
MARGIN = 0.7
WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
MARKUP = re.compile(r"\[([^\]]+)\]\([^)]+\)|\{[a-z_]+\}")


def trigrams(text: str) -> list[str]:
    """Returns the character trigrams of the words of a text, with word boundaries."""
    grams: list[str] = []
    for word in WORD.findall(text.lower()):
        padded = f" {word} "
        grams.extend(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


@dataclass(frozen=True)
class Profile:
    """A language's trigram counts."""

    counts: dict[str, int]
    total: int

    def log_probability(self, gram: str, vocabulary: int) -> float:
        """Returns log P(gram | language) with add-one smoothing."""
        return math.log((self.counts.get(gram, 0) + 1) / (self.total + vocabulary))


def corpus(code: str) -> list[str]:
    """Returns the sentences a language's profile is built from (catalog and NLU examples)."""
    from babel.messages.pofile import read_po

    texts = []
    po = i18n.LOCALES / code / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    with po.open("rb") as handle:
        for message in read_po(handle, locale=code):
            if message.id and isinstance(message.string, str) and message.string:
                texts.append(MARKUP.sub(r"\1", message.string))
    for path in sorted((NLU_DATA / code).glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu") or []:
            for line in str(block.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    texts.append(MARKUP.sub(r"\1", line[2:]))
    return texts


@functools.cache
def profiles() -> dict[str, Profile]:
    """Builds the profile of every supported language (once per process)."""
    built = {}
    for code in i18n.languages():
        counts = Counter(g for text in corpus(code) for g in trigrams(text))
        built[code] = Profile(dict(counts), sum(counts.values()))
    return built


def scores(text: str) -> dict[str, float]:
    """Returns the average log-likelihood per trigram of the text for every language."""
    grams = trigrams(text)
    found = profiles()
    vocabulary = len({g for p in found.values() for g in p.counts})
    if not grams:
        return {}
    return {
        code: sum(p.log_probability(g, vocabulary) for g in grams) / len(grams) for code, p in found.items()
    }


def detect(text: str, current: str) -> str | None:
    """Returns another supported language the message is clearly written in, else None."""
    letters = sum(len(w) for w in WORD.findall(text))
    if letters < MIN_LETTERS or len(text.split()) < MIN_WORDS or text.lstrip().startswith("/"):
        return None
    found = scores(text)
    if len(found) < 2:
        return None
    best = max(found, key=lambda code: found[code])
    if best == current or current not in found:
        return None
    return best if found[best] - found[current] >= MARGIN else None
