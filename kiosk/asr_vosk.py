"""Vosk (Kaldi) recogniser: a grammar of the kiosk's own words, with free recognition as fallback.

Design: when a domain is given, the live stream runs only the grammar-constrained recogniser
(measured on the Korean model: real-time factor 0.02 for a small grammar vs 0.08 free) and the
utterance audio is buffered. `finish` decodes the buffer with the free recogniser only when the
constrained result is poor (empty, mostly unknown-word tokens, or low mean confidence), adding about a
tenth of the utterance's length as delay, and only then. Feeding both live would spend the free
decoder's CPU on every utterance; partials would still come from only one of them.

Vosk reports word times from the start of the recogniser's whole stream, even across `Reset()`,
so each stream remembers how much audio it has seen and times are made utterance-relative here.
"""

from __future__ import annotations

import json
import logging
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

import vosk

from kiosk.errors import ModelError
from kiosk.messages import Transcript, Word
from kiosk.models import model_problems
from kiosk.recognizer import SAMPLE_RATE, DomainModel, Recognizer

_LOGGER = logging.getLogger(__name__)

UNKNOWN_TOKENS = ("[unk]", "<UNK>", "<unk>")
"""Garbage-word spellings: "[unk]" in Alpha Cephei's English models, "<UNK>" in the Korean one."""
_BYTES_PER_SECOND = SAMPLE_RATE * 2
_FEED_BYTES = 8000


@lru_cache(maxsize=2)
def _load_model(folder: str) -> Any:
    """Load once per folder: a model takes seconds and hundreds of MB, and is safe to share."""
    vosk.SetLogLevel(-1)
    started = time.monotonic()
    try:
        model = vosk.Model(folder)
    except Exception as exc:  # vosk raises a bare Exception when Kaldi cannot read the files
        raise ModelError(f"Vosk could not load the model in {folder}: {exc}") from exc
    _LOGGER.info("Loaded Vosk model %s in %.1f s", folder, time.monotonic() - started)
    return model


class _Stream:
    """One KaldiRecognizer plus the bookkeeping Vosk leaves to its caller."""

    def __init__(self, recognizer: Any) -> None:
        self.rec = recognizer
        self.rec.SetWords(True)
        if hasattr(self.rec, "SetPartialWords"):
            self.rec.SetPartialWords(True)
        self.fed_s = 0.0
        """Seconds of audio this recogniser has ever seen (Vosk's time origin)."""
        self.start_s = 0.0
        """Where the current utterance began on that clock."""
        self.segments: list[dict[str, Any]] = []
        """Words Vosk already closed at an internal endpoint (pause) within this utterance."""

    def feed(self, pcm: bytes) -> None:
        self.fed_s += len(pcm) / _BYTES_PER_SECOND
        if self.rec.AcceptWaveform(pcm):
            self.segments.extend(self._relative(json.loads(self.rec.Result()).get("result", [])))

    def _relative(self, words: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Word dicts with start/end counted from the start of the current utterance."""
        out = []
        for word in words:
            start = max(0.0, float(word.get("start", self.start_s)) - self.start_s)
            end = max(start, float(word.get("end", self.start_s)) - self.start_s)
            out.append({**word, "start": round(start, 3), "end": round(end, 3)})
        return out

    def partial(self) -> list[dict[str, Any]]:
        result = json.loads(self.rec.PartialResult())
        words = result.get("partial_result")
        if words is None:  # no per-word details: give each word a neutral confidence
            words = [{"word": w, "conf": 0.5} for w in result.get("partial", "").split()]
        return self.segments + self._relative(list(words))

    def final(self) -> list[dict[str, Any]]:
        words = self.segments + self._relative(json.loads(self.rec.FinalResult()).get("result", []))
        self._next_utterance()
        return words

    def reset(self) -> None:
        # Measured: Reset() alone keeps the not-yet-decoded frames in the feature pipeline, and they
        # leak into the next utterance as a phantom first word. FinalResult() finalises the stream,
        # so the next accept starts a fresh pipeline; its result is thrown away.
        self.rec.FinalResult()
        self._next_utterance()

    def _next_utterance(self) -> None:
        self.segments = []
        self.start_s = self.fed_s


class VoskRecognizer(Recognizer):
    """Streaming Vosk recognition; constrained to the domain's words when a domain is given."""

    name = "vosk"

    def __init__(
        self,
        model_path: Path,
        domain: DomainModel | None = None,
        *,
        fallback: bool = True,
        min_confidence: float = 0.6,
        max_unknown_share: float = 0.5,
    ) -> None:
        problems = model_problems(model_path)
        if problems:
            raise ModelError(f"{model_path} is not a Vosk model: {'; '.join(problems)}")
        self.model_path = model_path.resolve()
        self.fallback = fallback
        """Decode poor constrained results again without the grammar (off only to inspect the grammar)."""
        self.min_confidence = min_confidence
        """Constrained results whose mean word confidence is below this fall back to free decoding."""
        self.max_unknown_share = max_unknown_share
        """Constrained results with at least this share of unknown-word tokens fall back too."""
        self._model = _load_model(str(self.model_path))
        self.unknown_token = next((t for t in UNKNOWN_TOKENS if self.knows(t)), None)
        self._free = _Stream(vosk.KaldiRecognizer(self._model, SAMPLE_RATE))
        self._constrained: _Stream | None = None
        self.grammar: tuple[str, ...] = ()
        self.dropped_words: tuple[str, ...] = ()
        if domain is not None:
            self._build_grammar(domain)
        self._buffer = bytearray()

    def knows(self, word: str) -> bool:
        """True when the word is in the model's vocabulary (a grammar may only use such words)."""
        return bool(word) and int(self._model.vosk_model_find_word(word)) >= 0

    def _build_grammar(self, domain: DomainModel) -> None:
        # the content's words, and the words of questions it cannot answer, which must not be forced onto them
        words = list(dict.fromkeys(w.strip() for w in (*domain.words, *domain.other_words) if w.strip()))
        self.grammar = tuple(w for w in words if self.knows(w))
        self.dropped_words = tuple(w for w in words if not self.knows(w))
        if self.dropped_words:
            _LOGGER.info(
                "%d of %d domain words are not in the Vosk model's vocabulary and cannot be heard: %s",
                len(self.dropped_words),
                len(words),
                ", ".join(self.dropped_words[:10]) + (" ..." if len(self.dropped_words) > 10 else ""),
            )
        if not self.grammar:
            _LOGGER.warning("No domain word is known to the Vosk model; using free recognition only")
            return
        phrases = list(self.grammar) + ([self.unknown_token] if self.unknown_token else [])
        grammar_json = json.dumps(phrases, ensure_ascii=False)
        self._constrained = _Stream(vosk.KaldiRecognizer(self._model, SAMPLE_RATE, grammar_json))

    @property
    def _live(self) -> _Stream:
        return self._constrained or self._free

    def accept(self, pcm: bytes) -> Transcript | None:
        if self._constrained is not None:
            self._buffer.extend(pcm)
        for start in range(0, len(pcm), _FEED_BYTES):
            self._live.feed(pcm[start : start + _FEED_BYTES])
        transcript, _ = self._transcript(self._live.partial(), final=False)
        return transcript if transcript.text else None

    def finish(self) -> Transcript:
        live = self._live
        result, unknown = self._transcript(live.final(), final=True)
        if self._constrained is not None:
            audio, self._buffer = bytes(self._buffer), bytearray()
            if self.fallback and self.is_poor(result, unknown):
                for start in range(0, len(audio), _FEED_BYTES):
                    self._free.feed(audio[start : start + _FEED_BYTES])
                free, _ = self._transcript(self._free.final(), final=True)
                _LOGGER.debug("Constrained %r was poor; free decoding heard %r", result.text, free.text)
                if free.words:
                    result = free
        return result

    def reset(self) -> None:
        self._free.reset()
        if self._constrained is not None:
            self._constrained.reset()
        self._buffer = bytearray()

    def is_poor(self, result: Transcript, unknown: int) -> bool:
        """Whether a constrained result needs free decoding: no words, unknown-word tokens or low
        confidence mean the person probably said something off-domain (measured: off-domain speech
        sometimes comes out of the grammar empty). On true silence the free pass is cheap and empty."""
        total = len(result.words) + unknown
        if total == 0:
            return True
        return unknown / total >= self.max_unknown_share or result.confidence < self.min_confidence

    def _transcript(self, raw: list[dict[str, Any]], final: bool) -> tuple[Transcript, int]:
        """Vosk's word list as a Transcript (times utterance-relative) and its unknown-token count."""
        words = []
        unknown = 0
        confidences = []
        for item in raw:
            text = str(item.get("word", ""))
            conf = min(1.0, max(0.0, float(item.get("conf", 0.0))))
            if not text or text in UNKNOWN_TOKENS:
                unknown += 1
                confidences.append(0.0)  # heard something, but not a word: drags confidence down
                continue
            confidences.append(conf)
            words.append(Word(text, conf, float(item.get("start", 0.0)), float(item.get("end", 0.0))))
        confidence = sum(confidences) / len(confidences) if confidences else 0.0
        text = " ".join(w.text for w in words)
        return Transcript(text, tuple(words), confidence, final, self.name), unknown
