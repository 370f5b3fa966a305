"""A second PocketSphinx decoder, in a child process, hears a whole recording while the first streams it.

A recording (`kiosk ask --audio`) is heard twice (`PocketSphinxRecognizer.recognize`). The two hearings
do not depend on each other: the whole-recording one starts from the recording's own cepstral mean, not
the carried one. So where the machine has two cores they run side by side, and the answer comes about as
soon as the streamed hearing alone would. A thread would not do: PocketSphinx holds Python's lock while it
decodes (two decoders in two threads took 2.2 times as long as one). Live listening never starts it.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from kiosk.messages import Transcript

_LOGGER = logging.getLogger(__name__)
_HEARER: Any = None  # the child's own recogniser, made once by `_start`


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _start(make: Callable[[], Any]) -> None:
    global _HEARER
    _HEARER = make()


def _ready() -> bool:
    return True


def _hear(pcm: bytes, warp: float) -> Transcript:
    transcript: Transcript = _HEARER.hear_at_once(pcm, warp)
    return transcript


class Twin:
    """One child process with its own recogniser (made by `make`, a picklable callable; None: no twin), started
    on first use. Until it is ready (about a second), and if it fails, the caller hears recordings itself; a
    failure is logged once, and the twin is not tried again."""

    def __init__(self, make: Callable[[], Any] | None) -> None:
        self._make = make
        self._pool: ProcessPoolExecutor | None = None
        self._ready: Future[bool] | None = None

    @property
    def enabled(self) -> bool:
        return self._make is not None

    def start(self) -> Future[bool] | None:
        """Start the child once; the future is done when it is ready to hear (None: no twin)."""
        if self._make is not None and self._pool is None:
            try:
                context = multiprocessing.get_context("spawn")  # a fresh interpreter: no decoder state copied
                self._pool = ProcessPoolExecutor(1, mp_context=context, initializer=_start, initargs=(self._make,))
                # Waiting joins the pool's manager thread: left to close its pipe while the interpreter exits,
                # it raced concurrent.futures' own exit hook (OSError: Bad file descriptor, 2 runs in 200).
                weakref.finalize(self, self._pool.shutdown, wait=True, cancel_futures=True)
                self._ready = self._pool.submit(_ready)
            except (OSError, RuntimeError) as exc:
                self._failed(exc)
        return self._ready

    def hear(self, pcm: bytes, warp: float) -> Future[Transcript] | None:
        """Start hearing the whole recording; None while there is no twin ready to."""
        ready = self.start()
        if ready is None or not ready.done() or self._pool is None:
            return None
        try:
            return self._pool.submit(_hear, pcm, warp)
        except (OSError, RuntimeError) as exc:
            self._failed(exc)
            return None

    def result(self, pending: Future[Transcript] | None) -> Transcript | None:
        try:
            return pending.result() if pending else None
        except Exception as exc:  # noqa: BLE001 -- whatever broke the twin, the caller hears it instead
            self._failed(exc)
            return None

    def _failed(self, exc: BaseException) -> None:
        _LOGGER.warning("the second decoder failed (%s); recordings are heard by one decoder from now on", exc)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._make = self._pool = self._ready = None
