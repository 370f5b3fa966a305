"""What the kiosk is doing, published for anything that shows it (console captions, the screen).

The voice loop (and the scanner) publish small frozen events; subscribers get each one on their own
queue, so a slow browser never holds up the loop. Commands coming back from a screen or a switch
go the other way, through `Commands`, and are carried out by the loop on its own thread.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class KioskEvent:
    """One thing that happened, in the order it happened."""

    kind: str
    """state | heard | say | sentence | menu | scan | stopped | reset"""
    text: str = ""
    """The words heard or said, the state name, or the scan item's label."""
    index: int = -1
    """For "sentence": which sentence of the current "say" is being spoken; for "scan": the item."""
    items: tuple[str, ...] = ()
    """For "say": the sentences; for "menu"/"scan": the labels offered."""
    at: float = field(default_factory=time.time)
    """Wall-clock time, for latency measurements."""


STATES = ("idle", "listening", "thinking", "speaking")


class EventBus:
    """Fan-out of events to subscribers; publishing never blocks and never fails the publisher."""

    def __init__(self, backlog: int = 200) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[queue.Queue[KioskEvent]] = []
        self._backlog = backlog
        self.last: dict[str, KioskEvent] = {}
        """The latest event of each kind, so a screen that connects late shows the current state."""

    def publish(self, event: KioskEvent) -> None:
        with self._lock:
            self.last[event.kind] = event
            subscribers = list(self._subscribers)
        for q in subscribers:
            try:
                q.put_nowait(event)
            except queue.Full:  # a stalled subscriber loses its oldest event, not the kiosk's time
                try:
                    q.get_nowait()
                    q.put_nowait(event)
                except (queue.Empty, queue.Full):
                    pass

    def subscribe(self) -> queue.Queue[KioskEvent]:
        q: queue.Queue[KioskEvent] = queue.Queue(maxsize=self._backlog)
        with self._lock:
            self._subscribers.append(q)
        return q

    def unsubscribe(self, q: queue.Queue[KioskEvent]) -> None:
        with self._lock:
            if q in self._subscribers:
                self._subscribers.remove(q)


COMMANDS = ("more", "repeat", "stop", "talk", "topics", "back", "help", "select")


@dataclass(frozen=True)
class Command:
    """A request from the screen or a switch: the same as the voice command of that name."""

    name: str
    """One of COMMANDS; "select" picks `topic` (a 1-based menu number) or `item` of a scan."""
    number: int = 0


class Commands:
    """Thread-safe inbox of commands for the loop."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Command] = queue.Queue(maxsize=100)

    def put(self, command: Command) -> bool:
        if command.name not in COMMANDS:
            return False
        try:
            self._queue.put_nowait(command)
            return True
        except queue.Full:
            return False

    def get(self) -> Command | None:
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            return None
