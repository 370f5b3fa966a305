"""How common a word is in everyday English, from the general language model PocketSphinx ships.

A question that matches the content only on everyday words ("life", "play", "bad") is most likely
about something else; one that matches on "blepharospasm" or "cramp" is not. The figures are
computed once per content build (loading the model takes ~0.2 s) and stored in the knowledge base.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from pathlib import Path

_LOGGER = logging.getLogger(__name__)

LOG_BASE = math.log10(1.0001)
"""PocketSphinx reports log probabilities in base 1.0001."""
COMMON_LOG10 = -3.5
"""Words at least this frequent (like "life", "day", "play") say nothing about the topic."""
RARE_SPAN = 1.5
"""Rarity rises from 0 to 1 over this many decades below COMMON_LOG10."""


def rarity(words: Iterable[str]) -> dict[str, float]:
    """Word -> 0 (everyday word) .. 1 (rare or specialist word). Words the model lacks count as rare."""
    words = sorted(set(words))
    try:
        import pocketsphinx

        model = pocketsphinx.NGramModel.readfile(str(Path(pocketsphinx.get_model_path()) / "en-us" / "en-us.lm.bin"))
    except (ImportError, RuntimeError, OSError) as exc:  # without it every word counts as specific
        _LOGGER.warning("no general English model (%s): word rarity not used", exc)
        return {w: 1.0 for w in words}
    table: dict[str, float] = {}
    for word in words:
        log10p = model.prob([word]) * LOG_BASE
        table[word] = round(min(1.0, max(0.0, (COMMON_LOG10 - log10p) / RARE_SPAN)), 3)
    return table
