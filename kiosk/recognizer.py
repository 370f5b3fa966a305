"""The narrow, streaming speech-recognition interface every engine sits behind.

The rest of the kiosk only calls `accept`, `finish` and `reset`; engines are picked by name in
`create_recognizer`, which imports an engine's library only when that engine is chosen.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from pathlib import Path

from kiosk.messages import Transcript

_LOGGER = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
"""Every engine is fed 16 kHz, mono, signed 16-bit little-endian PCM."""
ADAPT_FOLDER = ".adaptation"
"""In the models folder: what speaker adaptation derives from an acoustic model (`kiosk.adapt`); hidden, so
`kiosk models list` does not show it as a broken Vosk model."""


@dataclass(frozen=True)
class DomainModel:
    """What the content build derived to help recognisers hear the kiosk's own words."""

    words: tuple[str, ...]
    """Every word of the content, question phrasings and voice commands (lower case)."""
    phrases: tuple[str, ...] = ()
    """Sentences/phrases a grammar may use (content sentences, question templates, commands)."""
    build_dir: Path | None = None
    """Folder with engine files built from the content (e.g. PocketSphinx .lm and .dict)."""
    other_words: tuple[str, ...] = ()
    """Words of questions the content cannot answer ("aspirin", "gout"). A recogniser must be able to hear
    them as themselves, or it forces them onto content words and the question sounds answerable."""


class Recognizer(ABC):
    """Feed audio chunks; get partial results while listening and a final result at the end."""

    name: str = "recognizer"

    @abstractmethod
    def accept(self, pcm: bytes) -> Transcript | None:
        """Take a chunk of 16 kHz mono int16 PCM; return a partial Transcript when there is one."""

    @abstractmethod
    def finish(self) -> Transcript:
        """End the utterance and return the final Transcript; the engine is then ready for the next."""

    @abstractmethod
    def reset(self) -> None:
        """Drop whatever was heard so far (e.g. when the kiosk starts speaking)."""

    def mark(self) -> object:
        """What the engine has adapted to so far (None: nothing to keep), for `restore`."""
        return None

    def restore(self, mark: object) -> None:
        """Drop the utterance, finished or not, and adapt as at `mark`, to hear it again from its start."""
        self.reset()

    def hear_adapted(self, pcm: bytes, heard: Transcript) -> Transcript | None:
        """A whole utterance heard again by a model adapted to its voice, for when `heard` (its first
        hearing) was not understood well enough to answer. Slower (PocketSphinx: 0.5-1 s); None
        where the engine cannot."""
        return None

    def recognize(self, pcm: bytes, chunk_bytes: int = 8000) -> Transcript:
        """Whole-utterance helper for files: stream the audio through in chunks, then finish."""
        self.reset()
        for start in range(0, len(pcm), chunk_bytes):
            self.accept(pcm[start : start + chunk_bytes])
        return self.finish()


def create_recognizer(engine: str, models_dir: Path, model_path: Path | None = None,
                      domain: DomainModel | None = None, *, quick: bool = False) -> Recognizer:
    """auto: Vosk when a model is installed, else PocketSphinx; a broken Vosk model falls back too.

    The engine's library is imported only here, only for the engine chosen. `quick`: a recogniser that
    only listens for "stop" while the kiosk speaks, made for speed over accuracy where the engine has such
    a choice (PocketSphinx: `asr_pocketsphinx.STOP_WATCH_OPTIONS`).
    """
    from kiosk.errors import ModelError

    if engine in ("auto", "vosk"):
        from kiosk.models import find_vosk_model

        found = find_vosk_model(models_dir, model_path)
        if found is not None:
            try:
                from kiosk.asr_vosk import VoskRecognizer

                return VoskRecognizer(found, domain)
            except (ModelError, ImportError) as exc:
                if engine == "vosk":
                    raise ModelError(f"Vosk cannot be used: {exc}") from exc
                _LOGGER.warning("Vosk model %s cannot be used (%s); using PocketSphinx instead", found, exc)
        elif engine == "vosk":
            raise ModelError(f"no Vosk model found in {models_dir} (see models/README.md: kiosk models download)")
    from kiosk.asr_pocketsphinx import PocketSphinxRecognizer

    return PocketSphinxRecognizer(domain, quick=quick, adapt_dir=None if quick else models_dir / ADAPT_FOLDER)


NORMAL_WORDS_PER_S = 1.6
"""Slow speech still gives ~2 words per second of speech. Far fewer words than the audio holds means
the recogniser dropped words it could not place ("explain segmental dystonia to me" heard as
"explain dystonia"), and what is left must not be trusted as the whole question."""


def with_completeness(transcript: Transcript, speech_s: float) -> Transcript:
    """Say how completely the words account for `speech_s` seconds of speech."""
    alternatives = tuple(with_completeness(t, speech_s) for t in transcript.alternatives)
    if speech_s <= 0 or not transcript.words:
        return replace(transcript, alternatives=alternatives)
    rate = len(transcript.words) / speech_s
    return replace(transcript, completeness=round(min(1.0, rate / NORMAL_WORDS_PER_S), 3), alternatives=alternatives)
