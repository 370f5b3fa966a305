"""End of speech, owned by the kiosk and tuned for dystonia: never cut a slow speaker off.

A person with spasmodic dysphonia may start late, stop for one or two seconds mid-question, or
speak in bursts. Engines' built-in endpointers end an utterance after ~0.5 s of silence and cannot
be tuned (Vosk), so the kiosk decides instead, frame by frame, from a voice-activity flag:

- speech starts after `start_s` of voiced frames (a cough or click is not a question);
- it ends after `silence_s` of silence (generous by default), or sooner, after `quick_silence_s`,
  when the words so far already make a complete question or command;
- a long pause gets a gentle "still listening" cue once, at `cue_after_s`;
- an utterance never runs past `max_utterance_s`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class EndpointSettings:
    frame_s: float = 0.03
    start_s: float = 0.15
    """Voiced time needed before an utterance starts."""
    silence_s: float = 2.0
    """Silence that ends an utterance (the person may pause 1-2 s mid-question)."""
    quick_silence_s: float = 0.8
    """Silence that ends it when the words heard already make a complete question."""
    cue_after_s: float = 1.2
    """A pause this long inside an utterance gets one "still listening" cue."""
    max_utterance_s: float = 20.0
    preroll_s: float = 0.3
    """Audio kept from before the start, so the first sound of a word is not lost."""


class Event(StrEnum):
    NONE = "none"
    START = "start"
    CUE = "cue"
    END = "end"


class Endpointer:
    """Feed one frame at a time; it says when an utterance starts, needs a cue, and ends."""

    def __init__(self, settings: EndpointSettings | None = None) -> None:
        self.settings = settings or EndpointSettings()
        self.reset()

    def reset(self) -> None:
        self.in_speech = False
        self.voiced_run = 0.0
        self.silence = 0.0
        self.length = 0.0
        self.cued = False
        self.complete = False

    def mark_complete(self, complete: bool) -> None:
        """The latest partial words make a complete question or command (decided by the caller)."""
        self.complete = complete

    def wait_left(self) -> float:
        """Seconds of further silence that end the utterance in progress."""
        return (self.settings.quick_silence_s if self.complete else self.settings.silence_s) - self.silence

    def feed(self, is_speech: bool) -> Event:
        s = self.settings
        if not self.in_speech:
            self.voiced_run = self.voiced_run + s.frame_s if is_speech else 0.0
            if self.voiced_run >= s.start_s - 1e-9:
                self.in_speech, self.length, self.silence, self.cued = True, self.voiced_run, 0.0, False
                return Event.START
            return Event.NONE
        self.length += s.frame_s
        self.silence = 0.0 if is_speech else self.silence + s.frame_s
        if self.wait_left() <= 1e-9 or self.length >= s.max_utterance_s:
            self.reset()
            return Event.END
        if not self.cued and self.silence >= s.cue_after_s - 1e-9:
            self.cued = True
            return Event.CUE
        return Event.NONE
