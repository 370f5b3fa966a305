"""The microphone: 16 kHz mono int16 blocks from a sounddevice input stream, handed over through a bounded queue.

The stream's callback runs on PortAudio's real-time thread, so it only copies bytes onto a queue (as in Vosk's
microphone example): recognition happens on the consumer side, and a slow consumer costs the oldest audio, never
a stalled or crashed stream. sounddevice is imported only when audio is used, because importing it fails with
OSError on machines without PortAudio, and because PortAudio looks for devices once, at import.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType, TracebackType
from typing import Any

from kiosk.errors import AudioError
from kiosk.recognizer import SAMPLE_RATE
from kiosk.retry import Retry

_LOGGER = logging.getLogger(__name__)

BLOCK_FRAMES = 480
"""30 ms at 16 kHz: the frame size WebRTC-style voice activity detectors take."""
FRAME_BYTES = 2 * BLOCK_FRAMES
"""The same 30 ms as int16 bytes: the unit of VAD, endpointing and barge-in."""
QUEUE_SECONDS = 10.0
"""Audio kept while the consumer is busy; beyond it the oldest blocks are dropped (and counted)."""
STALL_SECONDS = 3.0
"""No block for this long means the device is gone: PulseAudio removing a source stalls the stream silently
(measured: the stream stays "active" and no error is ever reported)."""
FIRST_BLOCK_SECONDS = 5.0
"""A new stream may deliver nothing at first (measured 0.5-2.0 s on PulseAudio's virtual devices)."""


@dataclass(frozen=True)
class DeviceInfo:
    """One audio device as PortAudio sees it, for `kiosk devices` and for choosing one by name or index."""

    index: int
    """PortAudio's device index (valid only until the audio system is re-initialised)."""
    name: str
    """Device name; a unique substring of it selects the device."""
    inputs: int
    """Maximum input channels (0: not a microphone)."""
    outputs: int
    """Maximum output channels (0: not a speaker)."""
    default_input: bool
    """True for the system's default microphone."""
    default_output: bool
    """True for the system's default speaker."""


def _sounddevice() -> ModuleType:
    """Import sounddevice on first use; a missing PortAudio library becomes an AudioError."""
    try:
        import sounddevice
    except OSError as exc:  # PortAudio itself is missing
        raise AudioError(f"the PortAudio audio library is not available ({exc})") from exc
    return sounddevice


def list_devices() -> list[DeviceInfo]:
    """Every device PortAudio knows of; empty (not an error) on a machine without any."""
    sd = _sounddevice()
    default_in, default_out = sd.default.device
    devices = []
    for index, info in enumerate(sd.query_devices()):
        devices.append(DeviceInfo(index, str(info["name"]), int(info["max_input_channels"]),
                                  int(info["max_output_channels"]), index == default_in, index == default_out))
    return devices


def audio_available() -> tuple[bool, str]:
    """Whether there is a microphone to listen with, and a sentence saying which one or why not."""
    try:
        sd = _sounddevice()
    except AudioError as exc:
        return False, f"no microphone found: {exc}"
    if not any(device.inputs > 0 for device in list_devices()):
        return False, ("no microphone found: no audio input device (no sound card, and no PulseAudio server "
                       "was running when the kiosk started)")
    try:
        default = sd.query_devices(kind="input")
    except (ValueError, sd.PortAudioError) as exc:
        return False, f"no microphone found: there are input devices but no default one ({exc})"
    return True, f"microphone: {default['name']}"


class Microphone:
    """Captured audio as a stream of 30 ms blocks of 16 kHz mono int16 PCM (bytes), read at the consumer's pace."""

    def __init__(self, device: int | str | None = None, block_frames: int = BLOCK_FRAMES,
                 queue_seconds: float = QUEUE_SECONDS, stall_seconds: float = STALL_SECONDS) -> None:
        self.device = device
        self.stall_seconds = stall_seconds
        self.block_frames = block_frames
        self._queue: queue.Queue[bytes] = queue.Queue(maxsize=max(1, int(queue_seconds * SAMPLE_RATE / block_frames)))
        self._stream: Any = None
        self._device_name = ""
        self._dropped = 0
        self._input_overflows = 0
        self._ended = threading.Event()
        self._opened = 0.0
        self._last_block: float | None = None

    @property
    def device_name(self) -> str:
        """The opened device's name ("" before start)."""
        return self._device_name

    @property
    def overflows(self) -> int:
        """Blocks lost so far: dropped because the queue was full, plus overflows PortAudio reported."""
        return self._dropped + self._input_overflows

    def start(self) -> None:
        """Open and start the stream. Note: a capture may deliver nothing for its first moments (~2 s on PulseAudio
        null sinks), so open it before the audio that matters starts, not when it starts."""
        if self._stream is not None:
            return
        sd = _sounddevice()
        try:
            info = sd.query_devices(self.device, kind="input")
        except (ValueError, sd.PortAudioError) as exc:
            what = "default microphone" if self.device is None else f"microphone {self.device!r}"
            raise AudioError(f"no {what} found ({exc})") from exc
        self._device_name = str(info["name"])
        self._ended.clear()
        self._opened, self._last_block = time.monotonic(), None
        try:
            # Raw stream: the callback gets a buffer it can copy as bytes, without a numpy array per block.
            stream = sd.RawInputStream(samplerate=SAMPLE_RATE, channels=1, dtype="int16", device=self.device,
                                       blocksize=self.block_frames, callback=self._callback,
                                       finished_callback=self._ended.set)
            stream.start()
        except sd.PortAudioError as exc:
            raise AudioError(f"cannot open microphone {self._device_name!r} at {SAMPLE_RATE} Hz mono: {exc}") from exc
        self._stream = stream
        _LOGGER.info("listening on %s", self._device_name)

    def _callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        """PortAudio's thread: copy and enqueue, never block or raise (that would stall or kill the stream)."""
        if status.input_overflow:
            self._input_overflows += 1
        self._last_block = time.monotonic()
        block = bytes(indata)
        try:
            self._queue.put_nowait(block)
        except queue.Full:  # the consumer fell behind: the newest audio matters more than the oldest
            self._dropped += 1
            with contextlib.suppress(queue.Empty):
                self._queue.get_nowait()
            with contextlib.suppress(queue.Full):  # only if the consumer emptied and refilled it meanwhile
                self._queue.put_nowait(block)

    def read(self, timeout: float | None = None) -> bytes | None:
        """The next block, or None if none arrived within timeout. Raises AudioError if the device went away
        (stream ended, or nothing for stall_seconds), so the caller can reopen it or fall back to text."""
        if self._stream is None:
            raise AudioError("the microphone is not started")
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:  # wait in slices, so that a stalled device is noticed even by a caller waiting forever
            left = 0.25 if deadline is None else max(0.0, min(0.25, deadline - time.monotonic()))
            try:
                return self._queue.get(timeout=left)
            except queue.Empty:
                pass
            last, limit = self._last_block, self.stall_seconds
            if last is None:
                last, limit = self._opened, max(limit, FIRST_BLOCK_SECONDS)
            silent_for = time.monotonic() - last
            if self._ended.is_set() or not self._stream.active or silent_for > limit:
                raise AudioError(f"microphone {self._device_name!r} stopped delivering audio "
                                 f"(nothing for {silent_for:.1f} s; unplugged?)")
            if deadline is not None and time.monotonic() >= deadline:
                return None

    def drain(self) -> int:
        """Discard queued audio (e.g. the kiosk's own voice while it spoke); returns the number of blocks."""
        count = 0
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return count
            count += 1

    def stop(self) -> None:
        """Close the stream; safe to call twice, and when the device has already vanished."""
        stream, self._stream = self._stream, None
        if stream is None:
            return
        stream.close(ignore_errors=True)
        if self.overflows:
            _LOGGER.warning("microphone lost %d blocks of audio (%d dropped by a slow consumer)", self.overflows,
                            self._dropped)

    def __enter__(self) -> Microphone:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


class MicSupervisor:
    """Keeps listening through an unplugged microphone: reports the loss once, reopens with back-off
    (kiosk.retry: 1 s, 2 s, 4 s ... 30 s), and reports the return, so the kiosk never needs a restart.

    `read` has the Microphone's signature, so the loop does not know the difference.
    """

    def __init__(self, device: int | str | None, on_change: Callable[[bool, str], None],
                 clock: Callable[[], float] = time.monotonic,
                 may_reinitialise: Callable[[], bool] = lambda: True) -> None:  # fmt: skip
        self.device = device
        self.may_reinitialise = may_reinitialise
        """Re-initialising PortAudio closes every stream, the speaker's too: the kiosk passes "not speaking"."""
        self.retry = Retry(on_change, clock)
        """on_change gets (True, "microphone: ...") when hearing (again), (False, reason) when it is lost."""
        self.mic: Microphone | None = None

    def _lost(self, reason: str) -> None:
        if self.mic is not None:
            self.mic.stop()
            self.mic = None
        delay = self.retry.failed(reason)
        _LOGGER.warning("%s; trying again in %.0f s", reason, delay)
        if self.retry.failures >= 2 and self.may_reinitialise():  # PortAudio only sees devices present at its start
            _reinitialise_portaudio()

    def read(self, timeout: float | None = None) -> bytes | None:
        if self.mic is None:
            wait = self.retry.wait()
            if wait > 0:
                time.sleep(min(wait, timeout if timeout is not None else wait))
                return None
            try:
                mic = Microphone(self.device)
                mic.start()
            except AudioError as exc:
                self._lost(str(exc))
                return None
            self.mic = mic
        try:
            block = self.mic.read(timeout)
        except AudioError as exc:
            self._lost(str(exc))
            return None
        if block is not None:
            self.retry.succeeded(f"microphone: {self.mic.device_name}")
        return block

    def stop(self) -> None:
        if self.mic is not None:
            self.mic.stop()
            self.mic = None


def _reinitialise_portaudio() -> None:
    """Let PortAudio look for devices again (a microphone plugged back in, a restarted sound server)."""
    try:
        sd = _sounddevice()
        sd._terminate()
        sd._initialize()
    except (AudioError, OSError, AttributeError) as exc:  # private API: if it is gone, keep the old list
        _LOGGER.debug("could not re-initialise PortAudio: %s", exc)


def exact_frames(mic: object) -> Callable[[float], bytes | None]:
    """Adapt a Microphone's blocks to exact 30 ms frames."""
    pending = bytearray()

    def read(timeout: float) -> bytes | None:
        while len(pending) < FRAME_BYTES:
            try:
                block = mic.read(timeout)  # type: ignore[attr-defined]
            except AudioError as exc:
                _LOGGER.warning("%s", exc)
                return None
            if block is None:
                return None
            pending.extend(block)
        frame = bytes(pending[:FRAME_BYTES])
        del pending[:FRAME_BYTES]
        return frame

    return read
