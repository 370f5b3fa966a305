"""The small, frozen messages passed between pipeline stages.

Audio in -> Transcript (recognition) -> Match (understanding) -> Reply (dialogue) -> speech out.
Every stage sees only these types, so each can be tested alone with inline data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True)
class Word:
    """One recognised word."""

    text: str
    """The word as the recogniser spelled it."""
    confidence: float
    """0..1; engines without real confidences report their best estimate."""
    start_s: float = 0.0
    """Start time within the utterance, seconds."""
    end_s: float = 0.0
    """End time within the utterance, seconds."""


@dataclass(frozen=True)
class Transcript:
    """What a recogniser heard in one utterance (partial or final)."""

    text: str
    """The words joined by spaces; empty when nothing was heard."""
    words: tuple[Word, ...] = ()
    """Per-word confidences and timings, where the engine gives them."""
    confidence: float = 1.0
    """Utterance confidence 0..1 (typed text is 1.0)."""
    final: bool = True
    """False for a partial result while the person is still speaking."""
    engine: str = "text"
    """Which engine produced it ("text", "vosk", "pocketsphinx")."""
    completeness: float = 1.0
    """0..1: whether the words account for all the speech. Far fewer words than the length of the
    speech holds means words were dropped, and the rest must not be taken as the whole question."""
    alternatives: tuple[Transcript, ...] = ()
    """Other hearings of the same audio (a second decoding of a recording), surest first after this one:
    understanding keeps the one it understands best (`kiosk.matcher.best_hearing`)."""


@dataclass(frozen=True)
class Candidate:
    """One topic the matcher considers, with the evidence behind its score."""

    topic_id: str
    """Stable id of the topic in the knowledge base."""
    score: float
    """Confidence 0..1 that this topic answers the question."""
    coverage: float
    """Share (0..1) of the question's meaningful words that this topic explains."""


class Decision(StrEnum):
    """What the kiosk does with a question."""

    ANSWER = "answer"
    CONFIRM = "confirm"
    DECLINE = "decline"


@dataclass(frozen=True)
class Match:
    """The understanding stage's verdict on one question."""

    question: str
    """The text that was matched (typed, or heard)."""
    normalized: str
    """The question after filler removal and spelling/sound-alike correction."""
    decision: Decision
    """Answer, ask to confirm, or decline."""
    candidates: tuple[Candidate, ...] = ()
    """Best first; empty when nothing in the content relates to the question."""
    confidence: float = 0.0
    """Combined confidence of recognition and matching for the best candidate."""
    asked: bool = True
    """Whether the question held a word that could name something to look up. "what are" alone (a
    question broken off, or noise heard as words) did not ask anything: not caught, rather than declined."""

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


@dataclass(frozen=True)
class Answer:
    """An extract from the content, ready to be shown and spoken."""

    topic_id: str
    """The topic it comes from."""
    title: str
    """The topic's title, said first so a listener knows what they hear."""
    text: str
    """Sentences copied from the document, never rewritten."""
    has_more: bool = False
    """True when "more" would continue with the rest of the topic."""


@dataclass(frozen=True)
class Reply:
    """What the dialogue says back: a fixed kiosk phrase and/or an extract."""

    say: str
    """Everything to speak, in order."""
    answer: Answer | None = None
    """The extract, when the reply carries one."""
    match: Match | None = None
    """The match that led here, for JSON output and logging."""
    kind: str = "answer"
    """answer | confirm | decline | help | topics | command | goodbye | error"""
    extra: dict[str, object] = field(default_factory=dict)
    """Small extra facts for captions and JSON (e.g. the confirm candidate)."""
