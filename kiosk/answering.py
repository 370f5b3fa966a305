"""Choose which sentences of a topic to say: short first, the rest on "more".

The first answer is the sentence that best fits the question, with the topic's opening sentence
before it when that fits, up to ~45 words or 3 sentences, so it is quick to hear. Sentences are
copied, never rewritten.
"""

from __future__ import annotations

from kiosk.messages import Answer
from kiosk.topics import Topic
from kiosk.wordindex import Index, stems_of

MAX_WORDS = 50
"""A first answer is about 45 words (~15 s at a calm pace); one sentence more may tip it to 50."""
MAX_SENTENCES = 3


def _words(sentence: str) -> int:
    return len(sentence.split())


def _sentence_scores(topic: Topic, question: str, index: Index) -> list[float]:
    """How much of the question each sentence speaks to; a phrase of the question found as a
    phrase ("segmental dystonia") counts extra, so the sentence about it wins over a passing mention."""
    stems, _ = index.query_stems(question)
    pairs = set(zip(stems, stems[1:], strict=False))
    scores = []
    for sentence in topic.sentences:
        own = stems_of(sentence)
        words = {s: 1.0 for s in own}
        score = sum(index.weight(s) * index.hit(s, words) for s in stems)
        score += sum(1.0 for pair in zip(own, own[1:], strict=False) if pair in pairs)
        scores.append(score)
    return scores


def first_selection(topic: Topic, question: str, index: Index | None) -> list[int]:
    """The window of up to 3 consecutive sentences (within the word budget) that best fits the
    question; on a tie the earliest, so a general question hears the topic's opening."""
    sentences = topic.sentences
    if not sentences:
        return []
    scores = _sentence_scores(topic, question, index) if index is not None and question else [0.0] * len(sentences)
    best: list[int] = [0]
    best_score = -1.0
    for start in range(len(sentences)):
        window = [start]
        budget = MAX_WORDS - _words(sentences[start])
        while len(window) < MAX_SENTENCES and window[-1] + 1 < len(sentences):
            nxt = window[-1] + 1
            if _words(sentences[nxt]) > budget:
                break
            window.append(nxt)
            budget -= _words(sentences[nxt])
        score = sum(scores[i] for i in window)
        if score > best_score + 1e-9:
            best, best_score = window, score
    return best


def make_answer(topic: Topic, indices: list[int], said: set[int]) -> Answer:
    remaining = [i for i in range(len(topic.sentences)) if i not in said | set(indices)]
    text = " ".join(topic.sentences[i] for i in indices)
    return Answer(topic.id, topic.title, text, has_more=bool(remaining) or bool(topic.parent))


def next_selection(topic: Topic, said: set[int]) -> list[int]:
    """The next unsaid sentences in document order, within the same budget."""
    chosen: list[int] = []
    budget = MAX_WORDS
    for i, sentence in enumerate(topic.sentences):
        if i in said:
            continue
        if chosen and (_words(sentence) > budget or len(chosen) >= MAX_SENTENCES):
            break
        chosen.append(i)
        budget -= _words(sentence)
    return chosen
