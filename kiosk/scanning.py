"""Single-switch scanning: the kiosk offers choices one by one, and one press picks the current one.

For a visitor who can press only one switch (a big button, a foot pedal, a head switch: each arrives as a
key) and who may not be able to use their voice at all: nothing here listens to a microphone. Each choice is
spoken and captioned when it becomes current (auditory scanning), and stays current until its label has been
said plus `step_s`. Levels: the topics, then the answer is read, then More / Repeat / Back to topics.

Time is driven by `tick()` against an injected clock and the Speaker's `busy()`, so tests run the whole scan
in fake time; `press()` only filters and queues, so the key thread never touches the speaker or the session.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from kiosk import phrases
from kiosk.dialogue import Session
from kiosk.errors import ConfigError
from kiosk.events import EventBus, KioskEvent
from kiosk.loop import Caption
from kiosk.messages import Reply
from kiosk.parse import split_sentences
from kiosk.speaker import Speaker

if TYPE_CHECKING:
    from kiosk.config import Settings

_LOGGER = logging.getLogger(__name__)

INTRO = "Press the switch when you hear the topic you want."
PAUSED = "Press to start again."
KEY_NAMES = {"space": " ", "enter": "\r\n", "tab": "\t"}
SETTLE_S = 0.05
"""Speech counts as finished only after `busy()` has stayed False this long: the speaker thread can look idle
for an instant between taking a sentence off its queue and starting it."""
TICK_S = 0.02


@dataclass(frozen=True)
class ScanSettings:
    step_s: float = 1.5
    """How long an item stays current after its label has been spoken: the time to decide and press."""
    passes: int = 2
    """Full passes over a list before the kiosk pauses, so it does not talk on to an empty room."""
    key: str = "any"
    """Which key is the switch: any, space, enter, tab, or one character (other keys are then ignored)."""
    hold_gap_s: float = 0.3
    """A key event closer than this to the previous one is a held switch's auto-repeat, never a press."""
    debounce_s: float = 0.8
    """Presses this soon after an accepted one are ignored (tremor, switch bounce, and the terminal's delay
    before auto-repeat starts, typically 0.25-0.66 s: keep this longer than that delay)."""

    def __post_init__(self) -> None:
        checks = [("step_s", 0.2 <= self.step_s <= 30, "0.2..30 seconds"), ("passes", 1 <= self.passes <= 20, "1..20"),
                  ("hold_gap_s", 0 <= self.hold_gap_s <= 2, "0..2 seconds"),
                  ("debounce_s", 0 <= self.debounce_s <= 5, "0..5 seconds"),
                  ("key", self.key in ("any", *KEY_NAMES) or len(self.key) == 1, "any, space, enter, tab or one "
                   "character")]
        for name, ok, allowed in checks:
            if not ok:
                raise ConfigError(f"scan.{name}: {getattr(self, name)!r}; allowed {allowed}")

    def counts(self, key: str) -> bool:
        """Whether a key event is the switch (case-insensitive, so Caps Lock cannot disable it)."""
        if self.key == "any":
            return bool(key)
        wanted = KEY_NAMES.get(self.key, self.key).lower()
        return any(ch in wanted for ch in key.lower())


@dataclass(frozen=True)
class Item:
    """One choice: `label` is spoken and captioned ("3. Treatment of dystonia"); `screen` is the text of the
    screen button or topic it highlights (the screen matches labels without their numbers)."""

    label: str
    action: str
    """topic | more | repeat | topics"""
    screen: str
    topic_id: str = ""


class Scanner:
    """Offers the items of one level in turn; a press picks the current one or stops what is being read."""

    def __init__(self, session: Session, speaker: Speaker, events: EventBus | None = None,
                 settings: ScanSettings | None = None, captions: Caption | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.session, self.speaker, self.clock = session, speaker, clock
        self.events = events or EventBus()
        self.settings = settings or ScanSettings()
        self.captions = captions or Caption()
        self.items: list[Item] = []
        self.level, self.then, self.index, self.passes_done = "topics", "topics", -1, 0
        self.phase = "reading"
        """reading (the intro or an answer; then the `then` level is offered) | label | dwell | paused"""
        self.dwell_until = 0.0
        self.quiet_since: float | None = None
        self.has_more, self.running = False, True
        self.wake = threading.Event()
        self._presses: queue.SimpleQueue[float] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._last_raw = self._last_taken = float("-inf")

    # -- input, from any thread -------------------------------------------------------------------

    def press(self, key: str) -> None:
        """A raw key event. Held switches (auto-repeat) and bounces are dropped here, before the loop sees them."""
        if not self.settings.counts(key):
            return
        now = self.clock()
        with self._lock:
            held = now - self._last_raw < self.settings.hold_gap_s
            self._last_raw = now
            if held or now - self._last_taken < self.settings.debounce_s:
                return
            self._last_taken = now
        self._presses.put(now)
        self.wake.set()

    # -- the loop ---------------------------------------------------------------------------------

    def run(self, max_seconds: float | None = None) -> None:
        started = self.clock()
        self.start()
        while self.running and (max_seconds is None or self.clock() - started < max_seconds):
            self.tick()
            self.wake.wait(TICK_S)
            self.wake.clear()
        self.speaker.stop()

    def start(self) -> None:
        self.read(Reply(INTRO, kind="help"), then="topics")

    def tick(self) -> None:
        """Carry out presses, then move on when the current speech has ended and the item's time is up."""
        while not self._presses.empty():
            self._presses.get_nowait()
            self._pressed()
        now = self.clock()
        if self.phase in ("reading", "label") and self._finished(now):
            if self.phase == "reading":
                self.events.publish(KioskEvent("state", "idle"))
                self.offer(self.then)
            else:
                self.phase, self.dwell_until = "dwell", (self.quiet_since or now) + self.settings.step_s
        elif self.phase == "dwell" and now >= self.dwell_until:
            self.advance()

    def _finished(self, now: float) -> bool:
        if self.speaker.busy():
            self.quiet_since = None
            return False
        if self.quiet_since is None:
            self.quiet_since = now
        return now - self.quiet_since >= SETTLE_S

    def _pressed(self) -> None:
        if self.phase == "paused":
            self.offer(self.level)
        elif self.phase == "reading":  # stop reading (show() silences it) and go straight to the choices
            self.events.publish(KioskEvent("stopped"))
            self.events.publish(KioskEvent("state", "idle"))
            self.offer(self.then)
        else:
            self.select(self.items[self.index])

    # -- levels and items -------------------------------------------------------------------------

    def offer(self, level: str) -> None:
        """Start scanning a level from its first item."""
        self.level, self.passes_done = level, 0
        if level == "topics":
            menu = self.session.kb.menu()
            self.items = [Item(f"{i}. {t.title}", "topic", t.title, t.id) for i, t in enumerate(menu, start=1)]
            self.events.publish(KioskEvent("menu", items=tuple(t.title for t in menu)))
        else:
            self.items = [Item("More", "more", "More")] if self.has_more else []
            self.items += [Item("Repeat", "repeat", "Repeat"), Item("Back to topics", "topics", "Topics")]
        self.show(0)

    def show(self, index: int) -> None:
        self.index = index
        item = self.items[index]
        self.captions.show("SCAN", item.label)
        self.events.publish(KioskEvent("scan", item.screen, index, tuple(i.screen for i in self.items)))
        self.speaker.stop()
        self.speaker.say(item.label)
        self.phase, self.quiet_since = "label", None

    def advance(self) -> None:
        index = self.index + 1
        if index >= len(self.items):
            index, self.passes_done = 0, self.passes_done + 1
            if self.passes_done >= self.settings.passes:
                self.pause()
                return
        self.show(index)

    def pause(self) -> None:
        """Stop offering after `passes` passes; the next press starts this level again from its first item."""
        self.phase = "paused"
        self.events.publish(KioskEvent("scan", "", -1, tuple(i.screen for i in self.items)))
        self.events.publish(KioskEvent("state", "idle"))
        self.captions.show("KIOSK", PAUSED)
        self.speaker.say(PAUSED)

    def select(self, item: Item) -> None:
        self.speaker.stop()
        if item.action == "topics":
            self.offer("topics")
            return
        if item.action == "topic":
            reply = self.session.open(item.topic_id)
        elif item.action == "more":
            reply = self.session.more()
        else:
            reply = self.session.handle("repeat")
        if reply.kind == "answer":
            self.session.last = reply  # open() and more() leave it to handle(); "repeat" needs it
        self.has_more = reply.answer is not None and reply.answer.has_more
        self.read(reply, then="answer")

    def read(self, reply: Reply, then: str) -> None:
        """Read something at length; when it ends, or at a press, the `then` level is offered."""
        text = reply.say.removesuffix(f" {phrases.MORE_HINT}")  # "say more" means nothing to a switch user
        self.captions.show("KIOSK", text)
        self.events.publish(KioskEvent("say", text, items=tuple(split_sentences(text))))
        self.events.publish(KioskEvent("state", "speaking"))
        self.speaker.stop()
        self.speaker.say(text)
        self.phase, self.then, self.quiet_since = "reading", then, None


@contextlib.contextmanager
def switch_keys(scanner: Scanner, stream: TextIO = sys.stdin) -> Iterator[threading.Thread | None]:
    """Feed the terminal's keys to `scanner.press`, in cbreak mode (no Enter needed, no echo).

    Each read is one raw event, so an escape sequence (arrow, F-key: what some switch interfaces send) is one
    press. The terminal is restored here on the main thread: the reading thread stays blocked in read at exit.
    """
    if not stream.isatty():
        _LOGGER.warning("no terminal: the switch cannot be read from the keyboard")
        yield None
        return
    import termios
    import tty

    fd = stream.fileno()
    old = termios.tcgetattr(fd)

    def read_keys() -> None:
        while scanner.running:
            try:
                data = os.read(fd, 64)
            except OSError:
                return
            if not data:
                return
            scanner.press(data.decode(errors="replace"))

    tty.setcbreak(fd)
    thread = threading.Thread(target=read_keys, name="switch", daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, old)


def run_scan(settings: Settings, scan: ScanSettings, max_seconds: float | None = None,
             events: EventBus | None = None) -> int:
    """The scanning kiosk: content, speaker and keys, but no microphone or recogniser."""
    from kiosk import content
    from kiosk.speaker import create_speaker
    from kiosk.wordindex import Index

    kb = content.load(settings.content_dir)
    s = settings.speech
    speaker = create_speaker(s.enabled, s.rate, s.volume, s.voice, settings.voice.output_device or None)
    scanner = Scanner(Session(kb, Index(kb), settings.match), speaker, events, scan)
    try:
        with switch_keys(scanner):
            scanner.run(max_seconds)
    finally:
        scanner.running = False
        speaker.close()
    return 0
