"""One live utterance's recognition, finished while the endpointer is still waiting for the last silence.

Finishing an utterance is not free: PocketSphinx's second, flat-lexicon pass runs over the whole of it
then, 60-140 ms that came between the end of the wait for silence and the answer. The loop finishes it
`EARLY_S` before that wait is over instead, so the words are ready when the wait is. If the visitor speaks
again in that time (a pause, not the end), the early result is dropped and the utterance heard again from
its start: the recogniser goes back to the state it was in when the utterance began (`Recognizer.mark`,
`Recognizer.restore`) and is fed every frame again, the new ones too. That costs a re-hearing, but only
when the visitor resumes in the last `EARLY_S` of a long pause.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from kiosk.messages import Transcript
from kiosk.recognizer import Recognizer

_LOGGER = logging.getLogger(__name__)

EARLY_S = 0.3
"""How long before the endpointer's wait ends the utterance is finished. More than the 60-140 ms finishing
takes, with room for frames that arrive in bursts (the virtual devices here deliver audio ~130 ms late, in
bursts: a finish started by the first frame of a burst would end no sooner than one started by the last)."""


class Utterance:
    """Feed an utterance's frames; `finish_early` may end it ahead of the endpointer, `finish` returns it."""

    def __init__(self, recognizer: Recognizer) -> None:
        self.recognizer = recognizer
        self.frames: list[bytes] = []
        self.early: Transcript | None = None
        self.reopened = 0
        """Utterances heard again because speech resumed after an early finish (for measurement)."""
        self._mark: object = None

    def start(self, preroll: Iterable[bytes]) -> None:
        """A new utterance, beginning with the audio kept from just before speech was detected."""
        self.recognizer.reset()
        self._mark = self.recognizer.mark()
        self.frames, self.early = [], None
        for frame in preroll:
            self.accept(frame, True)

    def accept(self, frame: bytes, speech: bool) -> Transcript | None:
        """Hear one frame; a partial Transcript when the best guess changed. After an early finish, silence is
        only kept, and speech re-opens the utterance."""
        self.frames.append(frame)
        if self.early is not None:
            if not speech:
                return None
            _LOGGER.debug("speech resumed after an early finish; hearing the utterance again")
            self.early = None
            self.reopened += 1
            self.recognizer.restore(self._mark)
            for earlier in self.frames[:-1]:
                self.recognizer.accept(earlier)
        return self.recognizer.accept(frame)

    def finish_early(self) -> None:
        """Finish now, ahead of the end of the utterance (once; `accept` takes it back if speech resumes)."""
        if self.early is None:
            self.early = self.recognizer.finish()

    def finish(self) -> Transcript:
        """The utterance is over: its final Transcript, from the early finish if there was one."""
        transcript = self.early if self.early is not None else self.recognizer.finish()
        self.frames, self.early = [], None
        return transcript
