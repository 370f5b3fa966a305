"""The narrow, streaming speech-recognition interface every engine sits behind.

The rest of the kiosk only calls `accept`, `finish` and `reset`; engines are picked by name in
`create_recognizer`, which imports an engine's library only when that engine is chosen.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from kiosk.messages import Transcript

_LOGGER = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
"""Every engine is fed 16 kHz, mono, signed 16-bit little-endian PCM."""


@dataclass(frozen=True)
class DomainModel:
    """What the content build derived to help recognisers hear the kiosk's own words."""

    words: tuple[str, ...]
    """Every word of the content, question phrasings and voice commands (lower case)."""
    phrases: tuple[str, ...] = ()
    """Sentences/phrases a grammar may use (content sentences, question templates, commands)."""
    build_dir: Path | None = None
    """Folder with engine files built from the content (e.g. PocketSphinx .lm and .dict)."""


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

    def recognize(self, pcm: bytes, chunk_bytes: int = 8000) -> Transcript:
        """Whole-utterance helper for files: stream the audio through in chunks, then finish."""
        self.reset()
        for start in range(0, len(pcm), chunk_bytes):
            self.accept(pcm[start : start + chunk_bytes])
        return self.finish()
