"""Words in, clean comparable tokens out: fillers dropped, stems taken, typos and sound-alikes mended.

Typing with dystonic hands and speech recognition both garble words in known ways: letters missing
or doubled, words run together ("whatcauses") or split ("blef a ro spasm", "dis tonia"), spelling
by sound ("distonia"). Correction only ever moves a word onto the kiosk's own vocabulary, and a real
English word is moved only when it also sounds the same, so "asthma" never becomes a dystonia word.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from importlib import resources

import jellyfish
import snowballstemmer
from rapidfuzz import fuzz, process

TOKEN_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

FILLERS = frozenset("um umm uh uhh er erm ah hmm mm well so like okay ok please just actually basically".split())
STOP_WORDS = frozenset(
    """a an the of to in on at by for from with about into over as and or but if then than so
    i me my mine myself you your yours we our us he she it its they them their this that these those
    is am are was were be been being do does did doing done have has had having will would shall should
    can could may might must what whats which who whom whose why how when where there here
    tell explain describe say know knowing want wanted need mean means meaning word words
    any some all more most much many very really also too just anything something thing things
    get got getting go going come keep of bit lot little please thanks thank hello hi hey
    help available possible ever usually normal common happen happens problem problems trouble way ways
    exactly precisely basically generally actually
    yes no not dont doesnt isnt arent cant cannot wont im ive id youre theres lets""".split()
)
"""Words that carry no topic: question frames ("tell me about", "what does ... mean") and grammar."""

_STEMMER = snowballstemmer.stemmer("english")


STEM_OVERRIDES = {"medical": "medical", "medically": "medical", "curable": "cure"}
"""Words the stemmer cuts to another word's stem: "medical" is not "medication" ("medic"), or "a medical
appointment" would answer "do tablets help"; and one it leaves apart from its own ("curable" is "cure").
Not in kiosk/data/synonyms.txt, whose words also become likely words for the recogniser: with "curable"
there, "trouble swallowing" was heard as "curable swallowing"."""


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return STEM_OVERRIDES.get(word) or str(_STEMMER.stemWord(word))


_STOP_STEMS = frozenset(stem(w) for w in STOP_WORDS if not w.endswith("ly"))
"""A stop word's other forms carry no topic either ("helps", "helpful", "keeps"); an adverb's stem may
be a content word ("generally" -> "general", as in "generalized")."""


@functools.lru_cache(maxsize=65536)
def sound_key(word: str) -> str:
    """Metaphone key: "distonia" and "dystonia" both give TSTN."""
    return str(jellyfish.metaphone(word.replace("-", "")))


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens; apostrophes dropped ("writer's" -> "writers"), hyphenated kept whole."""
    text = text.lower().replace("’", "'").replace("‘", "'").replace("&", " and ")
    text = re.sub(r"'s\b", "", text).replace("'", "")
    return TOKEN_RE.findall(text)


def content_tokens(text: str) -> list[str]:
    """Tokens that can name a topic: no fillers, no question-frame or grammar words in any form."""
    return [t for t in tokenize(text) if t not in FILLERS and t not in STOP_WORDS and stem(t) not in _STOP_STEMS]


def compound_parts(token: str) -> list[str]:
    """The meaningful parts of "more-severe" or "day-to-day" (none for a plain word)."""
    if "-" not in token:
        return []
    return [p for p in token.split("-") if p not in STOP_WORDS and len(p) > 2]


def expand_compounds(tokens: Iterable[str]) -> list[str]:
    """Each token followed by its compound parts, so typed "severe" can find "more-severe"."""
    out: list[str] = []
    for token in tokens:
        out.append(token)
        out.extend(compound_parts(token))
    return out


@functools.lru_cache(maxsize=1)
def synonym_groups() -> tuple[tuple[str, ...], ...]:
    """Groups of interchangeable words from kiosk/data/synonyms.txt."""
    text = resources.files("kiosk.data").joinpath("synonyms.txt").read_text(encoding="utf-8")
    return tuple(tuple(line.split()) for line in text.splitlines() if line.strip() and not line.startswith("#"))


def synonym_words() -> set[str]:
    return {w for group in synonym_groups() for w in group}


@functools.lru_cache(maxsize=1)
def health_words() -> dict[str, tuple[str, ...]]:
    """Section ("the body", ...) -> words, from kiosk/data/health_words.txt: what visitors may ask about
    that the content may not cover."""
    text = resources.files("kiosk.data").joinpath("health_words.txt").read_text(encoding="utf-8")
    sections: dict[str, tuple[str, ...]] = {}
    name = ""
    for line in text.splitlines():
        if line.startswith("#"):
            name = line.lstrip("# ").split(" (", 1)[0].strip()
        else:
            sections[name] = sections.get(name, ()) + tuple(line.split())
    return sections


@functools.lru_cache(maxsize=1)
def paraphrases() -> dict[tuple[str, ...], str]:
    """Phrase (as tokens) -> the one word it means, from kiosk/data/paraphrases.txt."""
    text = resources.files("kiosk.data").joinpath("paraphrases.txt").read_text(encoding="utf-8")
    table: dict[tuple[str, ...], str] = {}
    for line in text.splitlines():
        if "=" not in line or line.startswith("#"):
            continue
        word, phrases = (part.strip() for part in line.split("=", 1))
        table.update({tuple(tokenize(phrase)): word for phrase in phrases.split("|") if tokenize(phrase)})
    return table


def rephrase(heard: list[tuple[str, float]],
             table: Mapping[tuple[str, ...], str] | None = None) -> list[tuple[str, float]]:  # fmt: skip
    """(word, how surely heard) with each everyday phrase ("brings on") replaced by the word it means
    ("cause"), longest phrase first. `table` (default: all of `paraphrases()`) holds the phrases whose
    word the content knows: a gardening leaflet answers "get rid of aphids" by its own words, not by
    "treat". The phrase is only as sure as its least sure word: "do about" guessed in garbled speech
    must not make a question about treatment."""
    table = paraphrases() if table is None else table
    longest = max((len(phrase) for phrase in table), default=0)
    out: list[tuple[str, float]] = []
    i = 0
    while i < len(heard):
        for width in range(min(longest, len(heard) - i), 1, -1):
            word = table.get(tuple(token for token, _ in heard[i : i + width]))
            if word:
                out.append((word, min(sure for _, sure in heard[i : i + width])))
                i += width
                break
        else:
            out.append(heard[i])
            i += 1
    return out


def _cmudict() -> dict[str, list[str]]:
    """PocketSphinx's bundled CMU dictionary (word -> its pronunciation lines), read once for the
    recogniser's lexicon and for telling typos from words; empty if it cannot be read."""
    from kiosk.errors import ModelError
    from kiosk.lexicon import load_cmudict

    try:
        return load_cmudict()
    except ModelError:
        return {}  # without it, correction is only a little bolder


@functools.lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Real English words (the CMU dictionary), to tell typos from other words."""
    return frozenset(_cmudict())


def pronounced_alike(word: str, other: str) -> bool:
    """Whether two words share a pronunciation in the CMU dictionary. A word it lacks (most content
    words) is given the benefit of the doubt: the metaphone key already matched."""
    entries = _cmudict()
    if word not in entries or other not in entries:
        return True
    phones = [{line.split(" ", 1)[1].strip() for line in entries[w] if " " in line} for w in (word, other)]
    return bool(phones[0] & phones[1])


INFLECTIONS = ("s", "es", "ed", "d", "ing", "ly")
"""Endings that make another form of a dictionary word ("clenching", "wobbles"), itself a real word."""
JOIN_WORD_LEN = 4
"""Real words this long are not joined into a content word ("special diet" is not "specialist"); shorter
ones may be pieces of one ("dis tone ya")."""


def is_english(token: str, english: frozenset[str]) -> bool:
    """A dictionary word, or an inflected form of one: the dictionary lacks many ("clenching", "wobbles"),
    and a real word taken for a typo may be bent onto any content word that looks like it."""
    if token in english:
        return True
    return any(token.endswith(end) and len(token) - len(end) >= 3 and (token[: -len(end)] in english
               or token[: -len(end)] + "e" in english) for end in INFLECTIONS)  # fmt: skip


class Corrector:
    """Moves garbled words onto a known vocabulary (the content's words and their synonyms)."""

    SIMILAR_NONWORD = 80.0
    """rapidfuzz ratio above which a non-word is taken as a typo of a vocabulary word."""
    SIMILAR_REALWORD = 88.0
    """Candidates are looked for this close (less 15); a real word must also sound the same."""
    MIN_LEN = 4

    def __init__(self, vocabulary: Iterable[str]) -> None:
        self.vocab = sorted({w for w in vocabulary if len(w) >= 2})
        self.known = frozenset(self.vocab) | STOP_WORDS | FILLERS
        self.by_sound: dict[str, list[str]] = {}
        for word in self.vocab:
            if len(word) >= self.MIN_LEN:
                self.by_sound.setdefault(sound_key(word), []).append(word)
        self.long_vocab = [w for w in self.vocab if len(w) >= 6]

    def closest(self, token: str, real_word: bool) -> str | None:
        if len(token) < self.MIN_LEN:
            return None
        limit = self.SIMILAR_REALWORD if real_word else self.SIMILAR_NONWORD
        same_sound = self.by_sound.get(sound_key(token), [])
        best = process.extractOne(token, self.vocab, scorer=fuzz.ratio, score_cutoff=limit - 15)
        if best is None:
            return None
        word, score, _ = best
        if real_word:  # homophones ("tumour"/"tumor") yes; merely similar real words ("toilets"/"tilts") no
            alike = word in same_sound and score >= self.SIMILAR_NONWORD - 5 and pronounced_alike(token, word)
            return word if alike else None
        if score >= limit or word in same_sound:
            return word
        return None

    def join_split(self, tokens: list[str], i: int) -> tuple[str, int] | None:
        """"blef a ro spasm" -> ("blepharospasm", 4): join 2-4 pieces that spell one long word."""
        english = english_words()
        for width in (4, 3, 2):
            if i + width > len(tokens):
                continue
            pieces = tokens[i : i + width]
            if all(p in self.known for p in pieces) or pieces[0] in STOP_WORDS:
                continue  # known words side by side are meant as words
            joined = "".join(pieces)
            if len(joined) < 6:
                continue
            best = process.extractOne(joined, self.long_vocab, scorer=fuzz.ratio, score_cutoff=75)
            # real words join only into a word that sounds like them ("every day"), not one that looks
            # like them ("special diet" is not "specialist")
            words = all(p in self.known or len(p) >= JOIN_WORD_LEN and is_english(p, english) for p in pieces)
            if best and ((best[1] >= 85 and not words) or sound_key(best[0]) == sound_key(joined)):
                return str(best[0]), width
        return None

    def split_joined(self, token: str) -> list[str] | None:
        """"whatcauses" -> ["what", "causes"]: both halves must be words the kiosk knows."""
        for cut in range(2, len(token) - 1):
            left, right = token[:cut], token[cut:]
            if left in self.known and right in self.known:
                return [left, right]
        return None

    def correct(self, tokens: list[str]) -> list[str]:
        """Return tokens with typos, sound-alikes, splits and run-togethers mended."""
        return [token for token, _ in self.correct_traced(tokens)]

    def correct_traced(self, tokens: list[str]) -> list[tuple[str, list[int]]]:
        """Like `correct`, with the indices of the input tokens each output token came from
        (so a recogniser's per-word confidence follows the word through its mending)."""
        english = english_words()
        out: list[tuple[str, list[int]]] = []
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if token not in self.known or len(token) <= 3:
                joined = self.join_split(tokens, i)
                if joined:
                    out.append((joined[0], list(range(i, i + joined[1]))))
                    i += joined[1]
                    continue
            if token in self.known or token.isdigit():
                out.append((token, [i]))
            else:
                real = is_english(token, english)
                fixed = self.closest(token, real_word=real)
                if fixed:
                    out.append((fixed, [i]))
                elif not real and (parts := self.split_joined(token)):
                    out.extend((part, [i]) for part in parts)
                else:
                    out.append((token, [i]))
            i += 1
        return out
