"""Koers' tokenizer: Rasa's whitespace tokenizer plus spelling normalisation.

People type Arabic in chat without care for the spelling variants that mean
the same word: hamza on or off the alef (أ إ آ ا), ta marbuta or ha (ة ه),
alef maqsura or ya (ى ي), Persian-keyboard kaf and ya (ک ی), short-vowel
marks and the stretching tatweel (ـ), Arabic-Indic or Western digits. The
training data cannot spell every word every way, so the tokenizer folds each
token to one spelling (``Token.text``, which the character n-grams read) and
strips the common clitics (و "and", ال "the", بال, لل, ...) and endings in the
way of Larkey's *light10* stemmer (``Token.lemma``, which the word features
read).

Latin letters lose their diacritics in the same way (``fold_latin``): on a
phone without a Polish or Turkish keyboard "zażółć" is typed "zazolc" and
"değiştirmek" "degistirmek", and a tired writer drops them anyway. Polish ł
and Turkish dotless ı, which Unicode does not decompose, become l and i, and
Turkish İ loses its dot (so lower-casing gives i, not i plus a combining dot).
Case is kept, as the lexical features read it. Cyrillic is left alone: й and
ї are letters of their own on a Ukrainian keyboard, not й without a mark.
Tokens of other scripts are left exactly as Rasa's whitespace tokenizer makes
them, and offsets always point into the original text, so entities are
unaffected.

A message is read up to its first 100 tokens (``MAX_TOKENS``). Chat messages
are far shorter (the longest training or held-out example has 18), and the
model's cost grows with the square of the length: a pasted 4,000-character
text would otherwise cost a whole turn of CPU for nothing. The message itself
is kept whole: actions still see every character.

The component is in ``nlu/config.yml``; Rasa finds it because every command
that trains or loads the model runs with ``PYTHONPATH=nlu``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message

MAX_TOKENS = 100
ARABIC = re.compile(r"[\u0600-\u06FF]")
# short vowels, shadda, sukun, dagger alef, Quranic marks, tatweel
MARKS = re.compile(r"[\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06ED\u0640]")
FOLD = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ة": "ه",
        "ى": "ي",
        "ی": "ي",
        "ئ": "ي",
        "ؤ": "و",
        "ک": "ك",
        **{chr(0x0660 + n): str(n) for n in range(10)},
        **{chr(0x06F0 + n): str(n) for n in range(10)},
    }
)
# Latin-1 Supplement to Latin Extended-B: the letters with diacritics of the Latin scripts
LATIN_MARKED = re.compile(r"[\u00C0-\u024F]")
LATIN_UNDECOMPOSED = str.maketrans({"ł": "l", "Ł": "L", "ı": "i", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D"})
# light10 (Larkey, Ballesteros & Connell 2007), after folding (so ة is already ه)
PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال")
SUFFIXES = ("ها", "ان", "ات", "ون", "ين", "يه", "ه", "ي")


def fold(word: str) -> str:
    """One spelling for an Arabic word: no vowel marks or tatweel, one alef, ha, ya and kaf."""
    return MARKS.sub("", word).translate(FOLD)


def light_stem(word: str) -> str:
    """The folded word without its leading clitics and common endings (light10)."""
    if len(word) > 3 and word.startswith("و"):
        word = word[1:]
    for prefix in PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 2:
            word = word[len(prefix) :]
            break
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            word = word[: -len(suffix)]
    return word


def fold_latin_letter(letter: str) -> str:
    """A Latin letter without its diacritics; any other character as it is."""
    if not LATIN_MARKED.match(letter):
        return letter
    bare = "".join(c for c in unicodedata.normalize("NFD", letter) if not unicodedata.combining(c))
    return bare.translate(LATIN_UNDECOMPOSED)


def fold_latin(word: str) -> str:
    """The word with every Latin letter bare of diacritics ("Gün" → "Gun", "łóżko" → "lozko")."""
    return "".join(fold_latin_letter(c) for c in word)


def normalise(token: Token) -> Token:
    """The token folded to one spelling: Arabic with a light-stemmed lemma, Latin bare; else itself."""
    if ARABIC.search(token.text):
        folded = fold(token.text) or token.text
        return Token(folded, token.start, token.end, data=token.data, lemma=light_stem(folded))
    if LATIN_MARKED.search(token.text):
        bare = fold_latin(token.text)
        return Token(bare, token.start, token.end, data=token.data, lemma=bare)
    return token


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class KoersTokenizer(WhitespaceTokenizer):
    """Whitespace tokens; Arabic ones folded with a light-stemmed lemma, Latin ones bare of diacritics."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Rasa's whitespace defaults plus a version, so a change of the rules retrains."""
        return {**WhitespaceTokenizer.get_default_config(), "normalisation": "light10-latin-v2"}

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        """The first ``MAX_TOKENS`` whitespace tokens of ``attribute``, each normalised."""
        return [normalise(token) for token in super().tokenize(message, attribute)[:MAX_TOKENS]]
