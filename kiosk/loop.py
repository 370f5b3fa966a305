"""The live voice loop: listen on the microphone, answer aloud, and let the visitor steer by voice.

One thread reads 30 ms frames from the Microphone. Frames go through a voice-activity detector into
the kiosk's own Endpointer (patient with halting speech) and the Recognizer; a finished utterance
goes to the dialogue Session, and the reply to the Speaker and the captions. While the kiosk speaks,
what the microphone hears is not taken as a question: it is only watched for "stop" (or "quiet",
"cancel"), which silences the kiosk at once, as does a press of the switch key.
"""

from __future__ import annotations

import logging
import queue
import sys
import textwrap
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from kiosk import phrases
from kiosk.dialogue import Session, command_of
from kiosk.endpoint import Endpointer, EndpointSettings, Event
from kiosk.events import Commands, EventBus, KioskEvent
from kiosk.messages import Reply, Transcript
from kiosk.mic import FRAME_BYTES
from kiosk.parse import split_sentences
from kiosk.recognizer import Recognizer, with_completeness
from kiosk.speaker import Speaker, StreamSpeaker, tone
from kiosk.textnorm import tokenize
from kiosk.utterance import EARLY_S, Utterance

if TYPE_CHECKING:  # numpy and the audio stack load with the first sound: `kiosk ask --text` starts in ~0.2 s
    from kiosk.denoise import NoiseSuppressor

_LOGGER = logging.getLogger(__name__)

STOP_WORDS = frozenset({"stop", "quiet", "cancel", "enough", "shush", "hush", "silence"})
LISTEN_MODES = ("always", "wake", "push")
KEPT_PAUSE_FRAMES = 13
"""A pause counts as speech for at most 0.4 s, as files are trimmed (audio_in.KEPT_GAP_S), so a long pause does
not look like speech whose words the recogniser dropped (completeness)."""


@dataclass(frozen=True)
class VoiceSettings:
    listen_mode: str = "always"
    """always: every utterance is a question; wake: say the wake phrase first; push: press a key."""
    wake_phrase: str = "hello kiosk"
    awake_s: float = 30.0
    """After the wake phrase (or a key press), how long the kiosk listens without it again."""
    idle_reset_s: float = 120.0
    """Quiet time after which the conversation is forgotten and the next visitor greeted."""
    cue: str = "tone"
    """What says "still listening" during a long pause: tone, word, or none."""
    input_device: str = ""
    output_device: str = ""
    vad_mode: int = 2
    endpoint: EndpointSettings = field(default_factory=EndpointSettings)


@dataclass
class Caption:
    """Large, plain console captions of what was heard and what is said, for visitors who can see."""

    out: TextIO = sys.stdout
    width: int = 60

    def show(self, who: str, text: str) -> None:
        if not text:
            return
        lines = textwrap.wrap(text, self.width) or [""]
        self.out.write(f"\n{who}:\n" + "\n".join(f"    {line}" for line in lines) + "\n")
        self.out.flush()


class VoiceLoop:
    """Owns the conversation with one visitor at a time, by voice, from greeting to goodbye."""

    def __init__(self, session: Session, recognizer: Recognizer, speaker: Speaker,
                 frames: Callable[[float], bytes | None], settings: VoiceSettings | None = None,
                 captions: Caption | None = None, watcher: Recognizer | None = None,
                 clock: Callable[[], float] = time.monotonic, events: EventBus | None = None,
                 commands: Commands | None = None, suppressor: NoiseSuppressor | None = None) -> None:
        from pocketsphinx import Vad

        self.session = session
        self.recognizer = recognizer
        self.utterance = Utterance(recognizer)
        self.watcher = watcher
        """A second recogniser that only listens for "stop" while the kiosk speaks."""
        self.speaker = speaker
        self.frames = frames
        self.settings = settings or VoiceSettings()
        self.captions = captions or Caption()
        self.clock = clock
        self.vad = Vad(self.settings.vad_mode, 16000, 0.03)
        self.endpointer = Endpointer(self.settings.endpoint)
        self.suppressor = suppressor
        """Takes steady room noise out of what the recogniser hears (the VAD judges the raw audio)."""
        self.preroll: deque[bytes] = deque(maxlen=max(1, round(self.settings.endpoint.preroll_s / 0.03)))
        self.keys: queue.Queue[str] = queue.Queue()
        self.default_rate, self.default_volume = speaker.rate, speaker.volume
        self.last_activity = clock()
        self.awake_until = 0.0
        self.utterance_frames = 0
        self.pause_frames = 0
        self.watching = False
        self.watcher_active = False
        self.watcher_quiet = 0
        self.running = True
        self.mic_lost = False
        self.stopped_at: float | None = None
        """When barge-in last silenced the kiosk (for measurement)."""
        self.events = events or EventBus()
        """What the loop does, for the screen (and anything else that shows it)."""
        self.commands = commands or Commands()
        """Presses from the screen: the same as the voice commands of the same names."""
        self.spoken: list[str] = []
        self.state = ""
        if isinstance(speaker, StreamSpeaker):
            speaker.on_sentence = self.on_sentence
            speaker.on_status = self.on_speech_status

    # -- the loop ---------------------------------------------------------------------------------

    def run(self, max_seconds: float | None = None) -> None:
        """Greet, then listen and answer until goodbye is said or max_seconds pass."""
        started = self.clock()
        self.say(self.session.greeting())
        while self.running and (max_seconds is None or self.clock() - started < max_seconds):
            self.handle_keys()
            self.handle_commands()
            self.set_state("speaking" if self.speaker.busy() else "listening" if self.listening() else "idle")
            self.idle_check()
            frame = self.frames(0.1)
            if frame is None:
                continue
            self.step(frame)
        self.speaker.wait(timeout=30)

    def step(self, frame: bytes) -> None:
        """One 30 ms frame: barge-in watch while speaking, else endpointing and recognition."""
        if len(frame) != FRAME_BYTES:
            return
        speech = self.vad.is_speech(frame)
        if self.speaker.busy() and not self.endpointer.in_speech:  # not the "still listening" cue mid-question
            self.watch_for_stop(frame, speech)
            return
        if self.watching:  # the kiosk just finished speaking: start fresh
            self.watching = False
            self.endpointer.reset()
            self.preroll.clear()
            if self.watcher is not None:
                self.watcher.reset()
        if not self.listening():
            return
        if self.suppressor is not None:
            from kiosk.audio_in import array_from_pcm, pcm_from_array

            frame = pcm_from_array(self.suppressor.process(array_from_pcm(frame), speech))
        silence_before = self.endpointer.silence
        event = self.endpointer.feed(speech)
        if event is Event.START:
            self.utterance.start(self.preroll)
            self.utterance_frames = len(self.preroll)
            self.pause_frames = 0
            self.preroll.clear()
        if self.endpointer.in_speech or event is Event.END:
            self.pause_frames = 0 if speech else self.pause_frames + 1
            self.utterance_frames += self.pause_frames <= KEPT_PAUSE_FRAMES
            partial = self.utterance.accept(frame, speech)
            if partial is not None and partial.text:
                self.endpointer.mark_complete(self.is_complete(partial.text))
            if not speech and self.endpointer.in_speech and self.endpointer.wait_left() <= EARLY_S:
                self.utterance.finish_early()
        else:
            self.preroll.append(frame)
        if event is Event.CUE:
            self.cue()
        elif event is Event.END:
            waited = 0.0 if speech else silence_before + self.settings.endpoint.frame_s  # quick or full wait
            _LOGGER.debug("end of utterance at %.3f after %.2f s of silence", self.clock(), waited)
            speech_s = self.utterance_frames * 0.03
            transcript = with_completeness(self.utterance.finish(), max(0.3, speech_s))
            self.utterance_frames = 0
            self.heard(transcript)

    def listening(self) -> bool:
        mode = self.settings.listen_mode
        if mode == "wake":  # asleep, it must still hear utterances to notice the wake phrase (see heard)
            return True
        return mode == "always" or self.clock() < self.awake_until or self.endpointer.in_speech

    def is_complete(self, text: str) -> bool:
        """A partial that already is a command, or a question the kiosk would answer, ends sooner."""
        if command_of(text) is not None:
            return True
        from kiosk.matcher import match

        return match(text, self.session.index, self.session.settings).decision.value == "answer"

    # -- what was heard ---------------------------------------------------------------------------

    def heard(self, transcript: Transcript) -> None:
        self.last_activity = self.clock()
        text = transcript.text.strip()
        self.captions.show("HEARD", text or "(not understood)")
        self.events.publish(KioskEvent("heard", text))
        self.set_state("thinking")
        if self.settings.listen_mode == "wake" and self.clock() >= self.awake_until:
            if self.is_wake(text):
                self.awake_until = self.clock() + self.settings.awake_s
                self.say("Yes? I'm listening.")
            return
        if self.settings.listen_mode != "always":
            self.awake_until = self.clock() + self.settings.awake_s
        reply = self.session.handle(text, transcript) if text else self.session.not_understood()
        self.apply(reply)

    def is_wake(self, text: str) -> bool:
        wanted = tokenize(self.settings.wake_phrase)
        said = tokenize(text)
        return bool(wanted) and all(w in said for w in wanted[-1:]) and len(set(wanted) & set(said)) >= len(wanted) // 2

    def apply(self, reply: Reply) -> None:
        """Carry out a reply: voice changes for this visit, stop, goodbye, and say it."""
        command = reply.extra.get("command")
        if command == "stop":
            self.speaker.stop()
            return
        if command in ("slower", "faster"):
            self.speaker.rate = max(80, min(300, self.speaker.rate + (-25 if command == "slower" else 25)))
        elif command in ("louder", "quieter"):
            self.speaker.volume = max(0.2, min(1.0, self.speaker.volume + (0.15 if command == "louder" else -0.15)))
        if reply.kind == "topics":
            menu = reply.extra.get("menu")
            self.events.publish(KioskEvent("menu", items=tuple(map(str, menu)) if isinstance(menu, list) else ()))
        self.say(reply.say)
        if reply.kind == "goodbye":
            self.new_visitor(greet=False)

    def say(self, text: str) -> None:
        if not text:
            return
        self.captions.show("KIOSK", text)
        self.speaker.stop()
        self.spoken = split_sentences(text)
        self.events.publish(KioskEvent("say", text, items=tuple(self.spoken)))
        self.speaker.say(text)
        self.set_state("speaking")
        self.watching = True

    def on_sentence(self, sentence: str) -> None:
        """The speaker starts a sentence (its thread): the screen highlights it."""
        index = self.spoken.index(sentence) if sentence in self.spoken else -1
        self.events.publish(KioskEvent("sentence", sentence, index=index))

    def on_mic_status(self, working: bool, detail: str) -> None:
        """The microphone was lost or is back (kiosk.mic.MicSupervisor, on this thread): say so once, so a
        visitor who cannot see the screen knows why nothing is heard. The first opening is not news."""
        if working and not self.mic_lost:
            return
        _LOGGER.warning("%s", detail if working else f"cannot hear: {detail}")
        self.mic_lost = not working
        self.say(phrases.MIC_BACK if working else phrases.MIC_LOST)

    def on_speech_status(self, working: bool, detail: str) -> None:
        """Speech was lost or is back (the speaker's thread): tell the visitor once, in the captions."""
        self.captions.show("KIOSK", phrases.SPEECH_BACK_NOTE if working else phrases.SPEECH_LOST_NOTE)

    def set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.events.publish(KioskEvent("state", state))

    def cue(self) -> None:
        if self.settings.cue == "tone":
            self.speaker.play(tone(), 22050)
        elif self.settings.cue == "word":
            self.speaker.say("Mm-hm.")
        self.captions.show("KIOSK", "(still listening)")

    # -- barge-in, keys, idle ---------------------------------------------------------------------

    def watch_for_stop(self, frame: bytes, speech: bool) -> None:
        """While speaking, only "stop" and its kin count; everything else heard is ignored."""
        self.watching = True
        self.endpointer.reset()
        if self.watcher is None or not speech and not self.watcher_active:
            return
        self.watcher_active = True
        partial = self.watcher.accept(frame)
        words = set(tokenize(partial.text)) if partial is not None else set()
        if words & STOP_WORDS:
            self.barge_in("voice")
            return
        self.watcher_quiet = 0 if speech else self.watcher_quiet + 1
        if self.watcher_quiet > 20:  # 0.6 s of quiet: forget what was half-heard
            self.watcher.reset()
            self.watcher_active = False
            self.watcher_quiet = 0

    def barge_in(self, how: str) -> None:
        self.speaker.stop()
        self.stopped_at = self.clock()
        self.last_activity = self.clock()
        if self.watcher is not None:
            self.watcher.reset()
        self.watcher_active = False
        self.watcher_quiet = 0
        self.captions.show("KIOSK", f"(stopped by {how})")
        self.events.publish(KioskEvent("stopped", how))

    def press(self, key: str) -> None:
        """A key, a big switch or a foot pedal: stop speaking, or (push mode) start listening."""
        self.keys.put(key)

    def handle_keys(self) -> None:
        while True:
            try:
                key = self.keys.get_nowait()
            except queue.Empty:
                return
            if self.speaker.busy():
                self.barge_in("switch")
            else:
                self.awake_until = self.clock() + self.settings.awake_s
                self.last_activity = self.clock()
                self.captions.show("KIOSK", "(listening)")
            _LOGGER.debug("key %r", key)

    def handle_commands(self) -> None:
        """Screen presses: stop and talk act like the switch; the others like saying them."""
        while (command := self.commands.get()) is not None:
            self.last_activity = self.clock()
            if command.name in ("stop", "talk"):
                self.press(command.name)
                self.handle_keys()
            elif command.name == "select":
                self.apply(self.session.handle(f"number {command.number}"))
            else:
                self.apply(self.session.handle(command.name))

    def idle_check(self) -> None:
        if self.speaker.busy() or self.endpointer.in_speech:  # quiet time counts from when speech ends
            self.last_activity = self.clock()
            return
        quiet = self.clock() - self.last_activity
        if quiet >= self.settings.idle_reset_s:
            if self.session.last is not None or self.speaker.rate != self.default_rate \
                    or self.speaker.volume != self.default_volume:
                self.new_visitor(greet=True)
            self.last_activity = self.clock()

    def new_visitor(self, greet: bool) -> None:
        """Forget everything about the last visitor: conversation and voice settings."""
        self.session.reset()
        self.speaker.rate, self.speaker.volume = self.default_rate, self.default_volume
        self.awake_until = 0.0
        self.events.publish(KioskEvent("reset"))
        if greet:
            self.say(self.session.greeting())


def start_key_thread(loop: VoiceLoop, stream: TextIO = sys.stdin) -> threading.Thread | None:
    """Any key (a switch or foot pedal arrives as a key) is a press; the terminal is put in cbreak mode."""
    if not stream.isatty():
        return None
    import termios
    import tty

    fd = stream.fileno()
    old = termios.tcgetattr(fd)

    def read_keys() -> None:
        try:
            tty.setcbreak(fd)
            while loop.running:
                key = stream.read(1)
                if not key:
                    return
                loop.press(key)
        finally:
            termios.tcsetattr(fd, termios.TCSADRAIN, old)

    thread = threading.Thread(target=read_keys, name="keys", daemon=True)
    thread.start()
    return thread
