"""Back-off for audio devices that come and go (a microphone or speaker unplugged, a sound server restarted).

The kiosk must never need a restart, must not hammer a missing device (each failed open costs a few log lines
and, for the voice, a synthesis), and must tell the visitor about a change once, not on every attempt. The
microphone's supervisor and the speaker each keep one Retry.
"""

from __future__ import annotations

import time
from collections.abc import Callable

DELAYS = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
"""Seconds before the next attempt after 1, 2, 3 ... failures in a row: quick at first, then twice a minute."""


class Retry:
    """Counts failures in a row, says when to try again, and reports working / not working only on a change."""

    def __init__(self, on_change: Callable[[bool, str], None], clock: Callable[[], float] = time.monotonic,
                 working: bool | None = None) -> None:
        self.on_change = on_change
        """Called with (True, detail) when it works (again), (False, reason) when it stops working."""
        self.clock = clock
        self.working = working
        """None until the first attempt (pass True to report nothing when the first attempt succeeds)."""
        self.failures = 0
        self.next_try = 0.0

    def wait(self) -> float:
        """Seconds until the next attempt is due; 0 when it may be tried now."""
        return max(0.0, self.next_try - self.clock())

    def failed(self, reason: str) -> float:
        """One more failure: schedule the next attempt, report the loss if it is new; returns the delay."""
        self.failures += 1
        delay = DELAYS[min(self.failures, len(DELAYS)) - 1]
        self.next_try = self.clock() + delay
        self._report(False, reason)
        return delay

    def succeeded(self, detail: str) -> None:
        self.failures = 0
        self.next_try = 0.0
        self._report(True, detail)

    def _report(self, working: bool, detail: str) -> None:
        if working != self.working:
            self.working = working
            self.on_change(working, detail)
