"""What the bundled general English model knows, read for mixing into the content's language model.

PocketSphinx ships `en-us.lm.bin`, a trigram model of broad English. The content's own model knows the
document's words but not how people talk around them ("why do I have trouble swallowing", "when I play
the piano"): mixed in alone, its words come out as guesses. Its unigrams and, for the words visitors
start phrases with, its bigrams are read here through `NGramModel.prob` (writing it out as ARPA is
broken in pocketsphinx 5.1.1), so `kiosk.langmodel` can mix them in.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from kiosk.errors import ModelError
from kiosk.lexicon import WORD_RE, cmudict_path, load_cmudict

UNKNOWN_LOGP = -536870912
"""What `NGramModel.prob` says for a word the model does not have."""
LOG_BASE = 1.0001
"""`NGramModel.prob` gives logarithms to this base."""
SAME_LOGP = 2
"""Log-probabilities this close (in LOG_BASE units, 0.02 %) are the same number."""


@functools.lru_cache(maxsize=1)
def english_model():  # noqa: ANN201  # pocketsphinx has no type hints
    """The bundled en-us model, read once (1 ms: it is memory-mapped)."""
    import pocketsphinx

    path = Path(pocketsphinx.get_model_path()) / "en-us" / "en-us.lm.bin"
    try:
        return pocketsphinx.NGramModel.readfile(str(path))
    except (RuntimeError, OSError, ValueError) as exc:
        raise ModelError(f"cannot read the bundled English model {path}: {exc}") from exc


@functools.lru_cache(maxsize=2)
def general_unigrams(limit: int, extra: tuple[str, ...] = ()) -> dict[str, float]:
    """The `limit` most likely words of the English model that the dictionary can say, and the `extra`
    words (at their English probability, or the least of the others if the model lacks them),
    normalised, most likely first."""
    model = english_model()
    scored = []
    for word in load_cmudict(cmudict_path()):
        if WORD_RE.match(word) and (logp := model.prob([word])) > UNKNOWN_LOGP:
            scored.append((logp, word))
    scored.sort(reverse=True)
    top = scored[:limit]
    floor = top[-1][0] if top else 0
    chosen = {word for _, word in top}
    for word in extra:
        if word not in chosen and WORD_RE.match(word):
            top.append((max(model.prob([word]), floor), word))
            chosen.add(word)
    top.sort(reverse=True)
    mass = sum(LOG_BASE**logp for logp, _ in top)
    return {word: LOG_BASE**logp / mass for logp, word in top}


@dataclass(frozen=True)
class BigramRow:
    """The English model's next-word distribution after one word, over the kiosk's vocabulary."""

    listed: dict[str, float]
    """Words the model lists after this one, with their probability."""
    backoff: float
    """Any other word w has probability backoff * unigram(w)."""


@dataclass(frozen=True)
class GeneralBigrams:
    """The English model restricted to (and renormalised over) a vocabulary, for some histories."""

    unigram: dict[str, float]
    rows: dict[str, BigramRow]

    def prob(self, history: str, word: str) -> float:
        row = self.rows.get(history)
        if row is None:
            return self.unigram.get(word, 0.0)
        return row.listed.get(word, row.backoff * self.unigram.get(word, 0.0))


@functools.lru_cache(maxsize=1)
def general_bigrams(vocabulary: tuple[str, ...], histories: tuple[str, ...]) -> GeneralBigrams:
    """Bigrams of the English model among `vocabulary`, after each of `histories` it knows.

    A word the model does not list after a history gets the history's back-off share of its unigram:
    for most words of a row that share is one number, and the words whose probability differs from it
    are the listed ones. Costs about 1 µs per history and word (5 s for 900 x 5,000); cached, because
    tests and rebuilds of unchanged content ask for the same again.
    """
    model = english_model()
    base = {w: logp for w in vocabulary if (logp := model.prob([w])) > UNKNOWN_LOGP}
    mass = sum(LOG_BASE**logp for logp in base.values())
    unigram = {w: LOG_BASE**logp / mass for w, logp in base.items()}
    rows: dict[str, BigramRow] = {}
    for history in histories:
        if history not in base:
            continue
        logps = {w: model.prob([w, history]) for w in base}
        backoff = Counter(logp - base[w] for w, logp in logps.items()).most_common(1)[0][0]
        total = sum(LOG_BASE**logp for logp in logps.values())
        listed = {w: LOG_BASE**logp / total for w, logp in logps.items() if abs(logp - base[w] - backoff) > SAME_LOGP}
        rows[history] = BigramRow(listed, LOG_BASE**backoff * mass / total)
    return GeneralBigrams(unigram, rows)
