"""The content's words, topic by topic, as understanding weighs them (see kiosk.matcher).

Built once from the knowledge base: each topic's stems with how strongly each part of the topic
(title, phrasings, body, its list's title) names them, how rare each stem is among the topics, and
the vocabulary typos and sound-alikes are corrected onto.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

from kiosk.content import KnowledgeBase
from kiosk.textnorm import (
    Corrector,
    compound_parts,
    content_tokens,
    expand_compounds,
    health_words,
    paraphrases,
    rephrase,
    stem,
    synonym_groups,
    synonym_words,
    tokenize,
)
from kiosk.topics import Topic

FIELD_WEIGHTS = {"title": 1.0, "alias": 1.0, "phrase": 0.95, "item": 0.95, "parent": 0.9, "body": 0.75,
                 "subject": 0.75, "context": 0.45}
"""How strongly a word found in each part of a topic counts for it. An item hears its list's title
and phrasings ("parent") a little more weakly than the list itself, so a general question goes to
the list and a question naming the item goes to the item."""
SYNONYM_FACTOR = 0.85
"""A word found only through a synonym counts a little less than the word itself."""
SHORT_UNKNOWN_FACTOR = 0.3
"""An unknown typed word of 1-3 letters is mostly a mistyped little word ("wat"), not a new subject; a
spoken one ("tea") is a word the recogniser knows, and counts in full."""
PART_FACTOR = 0.5
"""A word found only inside a compound ("day" in "day-to-day") is weak evidence."""
PRONOUN_STEM = "<it>"
"""What "it" in a question stands for: the subject of the document a topic belongs to ("is it curable"
at a dystonia kiosk asks about dystonia). Every topic with a subject explains it, so it counts like
the subject's own name (once: a question that names the subject has it already), and with several
documents it leans to none of them. It is no evidence of a topic (`min_evidence`). Typed own and
held-out questions: 1 more right of 313."""
PRONOUNS = frozenset({"it"})
QUANTITY_TEXT = re.compile(r"\d|%|[$£€]|\b(?:percent|per cent|hundred|thousand|million|billion|half|quarter)\b")
"""A figure in a topic's text: only a topic with one can answer "how many", "how long" or "what does it cost"."""
SHORT_ITEM_WORDS = 6
"""A list item this short ("May worsen with stress, fatigue or anxiety") is its own name, though its title
keeps only the start: its words count as the topic's phrasings, not as body text."""
COMMON_IDF = math.log(3.0)
"""The idf, log(1 + topics / topics with the word), of a word in half of the topics."""
BODY_SECTION = "the body"
"""The section of kiosk/data/health_words.txt naming parts of the body (see `matcher.other_body_part`)."""
HEALTH_WORD_FACTOR = 1.0
"""A condition or medicine the content never uses ("aspirin", "gout", "flu") names another subject as
surely as the content's rarest word names its own; an everyday unknown word counts `unknown_weight` of
that. Spoken sets, out of scope declined: own 269 -> 272 of 320, held-out 1 132 -> 138 of 160, held-out
3 100 -> 101; false answers 17 -> 16 and 28 -> 27; no right answer lost on any set (dev, own, held-out,
a new woman's voice). Typed: "the treatment for diabetes", "the symptoms of flu" declined, not asked
about. Parts of the body are left to `matcher.other_body_part`: "my shoulder muscles contract" is about dystonia."""


def load_synonyms() -> dict[str, frozenset[str]]:
    """Stem -> stems of its synonym group."""
    groups: dict[str, frozenset[str]] = {}
    for line in synonym_groups():
        stems = frozenset(stem(w) for w in line)
        for s in stems:
            groups[s] = groups.get(s, frozenset()) | stems
    return groups


def stems_of(text: str) -> list[str]:
    return [stem(t) for t in expand_compounds(content_tokens(text))]


class Index:
    """Per-topic weighted word sets, document frequencies and the vocabulary for correction."""

    def __init__(self, kb: KnowledgeBase, synonyms: dict[str, frozenset[str]] | None = None) -> None:
        self.kb = kb
        self.synonyms = synonyms if synonyms is not None else load_synonyms()
        self.fields: dict[str, dict[str, float]] = {}
        surface: set[str] = set()
        for topic in kb.topics:
            weights: dict[str, float] = {}
            for name, texts in self._fields(topic, kb):
                for text in texts:
                    tokens = content_tokens(text)
                    surface.update(expand_compounds(tokens))
                    for token in tokens:
                        for s, factor in [(stem(token), 1.0)] + [(stem(p), PART_FACTOR) for p in compound_parts(token)]:
                            weights[s] = max(weights.get(s, 0.0), FIELD_WEIGHTS[name] * factor)
            if topic.subject:
                weights[PRONOUN_STEM] = FIELD_WEIGHTS["subject"]
            self.fields[topic.id] = weights
        df = Counter(s for weights in self.fields.values() for s in weights)
        n = max(1, len(kb.topics))
        self.idf = {s: math.log(1.0 + n / count) for s, count in df.items()}
        self.max_idf = math.log(1.0 + n)
        self.corrector = Corrector(surface | synonym_words())
        self.rarity: dict[str, float] = {}
        for word, value in dict(kb.extras.get("rarity", {})).items():  # type: ignore[call-overload]
            s = stem(word)
            self.rarity[s] = min(self.rarity.get(s, 1.0), float(value))
        self.by_id = {t.id: t for t in kb.topics}
        self.item_names = {t.id: {stem(w) for w in own} for t in kb.topics if (own := self._short_item(t))}
        self.with_numbers = frozenset(t.id for t in kb.topics if QUANTITY_TEXT.search(t.text.lower()))
        self.subjects = {t.id: set(stems_of(t.subject)) | ({PRONOUN_STEM} if t.subject else set()) for t in kb.topics}
        self.subject_names = frozenset().union(*self.subjects.values()) - {PRONOUN_STEM}
        self.names = {t.id: [set(stems_of(n)) for n in (t.title, *t.aliases) if stems_of(n)] for t in kb.topics}
        self.titles = {t.id: set().union(*names) for t, names in zip(kb.topics, self.names.values(), strict=True)}
        sections = health_words()
        self.body = frozenset(stem(word) for word in sections.get(BODY_SECTION, ()))
        self.health = frozenset(stem(word) for section, words in sections.items() if section != BODY_SECTION
                                for word in words)  # fmt: skip
        # the everyday phrases whose word the content uses (see `rephrase`)
        self.paraphrases = {phrase: word for phrase, word in paraphrases().items()
                            if any(self.weight(s) > 0 for s in stems_of(word))}  # fmt: skip

    @staticmethod
    def _short_item(topic: Topic) -> list[str]:
        """The words of a list item that is only a name ("Stroke", "May worsen with stress"), or none."""
        if topic.kind != "item" or len(topic.sentences) != 1:
            return []
        lead = set(content_tokens(topic.context))
        own = [t for t in content_tokens(topic.sentences[0]) if t not in lead]
        return own if len(own) <= SHORT_ITEM_WORDS else []

    @staticmethod
    def _fields(topic: Topic, kb: KnowledgeBase) -> Iterable[tuple[str, list[str]]]:
        yield "title", [topic.title]
        yield "alias", topic.aliases
        yield "phrase", topic.phrases
        yield "body", topic.sentences
        if own := Index._short_item(topic):
            yield "item", [" ".join(own)]
        yield "context", [topic.context]
        yield "subject", [topic.subject]
        if topic.parent:
            parent = kb.topic(topic.parent)
            yield "parent", [parent.title, *parent.phrases]

    def query_stems(self, question: str) -> tuple[list[str], str]:
        """The question's meaningful stems after correction, and the corrected text for display."""
        heard, text = self.heard_stems(question)
        return list(heard), text

    def heard_stems(self, question: str, confidences: Sequence[float] | None = None) -> tuple[dict[str, float], str]:
        """Meaningful stems -> how surely each was heard (1.0 for typed text), and the corrected text.

        `confidences` gives one value per token of the question (see `token_confidences`)."""
        tokens = tokenize(question)
        traced = self.corrector.correct_traced(tokens)
        text = " ".join(token for token, _ in traced)
        surely: list[tuple[str, float]] = []
        for token, sources in traced:  # a mended word is as sure as the pieces it was mended from
            conf = 1.0
            if confidences is not None and sources and len(confidences) == len(tokens):
                conf = sum(confidences[i] for i in sources) / len(sources)
            surely.append((token, conf))
        heard: dict[str, float] = {}
        for token, conf in rephrase(surely, self.paraphrases):  # the text keeps the words as said
            for s in [PRONOUN_STEM] if token in PRONOUNS else stems_of(token):
                heard[s] = max(heard.get(s, 0.0), conf)
        if heard.keys() & self.subject_names:  # "my dad had dystonia, will I get it": named already
            heard.pop(PRONOUN_STEM, None)
        return heard, text

    def weight(self, s: str) -> float:
        return self.idf.get(s, 0.0) or self._synonym_idf(s)

    def _synonym_idf(self, s: str) -> float:
        known = [self.idf[o] for o in self.synonyms.get(s, ()) if o in self.idf]
        return max(known) if known else 0.0

    def question_weight(self, s: str, unknown_weight: float, typed: bool) -> float:
        """How much a question stem needs explaining: its rarity in the content, or for a word the
        content never uses, `unknown_weight` of the rarest word's (a health word: all of it)."""
        known = self.weight(s)
        if known:
            return known
        if s in self.health:  # known words returned above: this is another subject
            return HEALTH_WORD_FACTOR * self.max_idf
        unknown = unknown_weight * self.max_idf
        short = typed and len(s) <= 3  # a typed "wat" is a typo; a recogniser only says real words ("tea")
        return unknown * SHORT_UNKNOWN_FACTOR if short else unknown

    def other_subject(self, word: str) -> bool:
        """A condition or medicine the content never mentions ("diabetes")."""
        return any(s in self.health and not self.weight(s) for s in stems_of(word))

    def tells_apart(self, s: str) -> bool:
        """A word found in more than half of the topics ("cause", "symptoms") cannot pick one of them."""
        return self.weight(s) >= COMMON_IDF

    def hit(self, s: str, words: dict[str, float]) -> float:
        """How well a topic's words explain one question stem (0..1)."""
        best = words.get(s, 0.0)
        for other in self.synonyms.get(s, ()):
            if other != s and other in words:
                best = max(best, SYNONYM_FACTOR * words[other])
        return best
