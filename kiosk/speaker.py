"""Speech out behind a narrow Speaker interface.

pyttsx3's own playback cannot be interrupted (measured: stop() blocked 5.8 s), so the kiosk asks
pyttsx3 (espeak-ng) only to synthesise, one sentence at a time, and plays the audio through a
sounddevice stream it owns: "stop" then silences it within a block (~20 ms), and the first sentence
starts while the rest are still being made. Nothing is ever written to disk but a temporary file
per sentence, deleted at once.
"""

from __future__ import annotations

import io
import logging
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.parse import split_sentences
from kiosk.phrases import SPEECH_BACK
from kiosk.retry import Retry

if TYPE_CHECKING:  # numpy is loaded with the first sound, not at start-up (the CLI starts in ~0.2 s)
    import numpy as np

_LOGGER = logging.getLogger(__name__)

BLOCK_SECONDS = 0.02
PREPARED_MAX = 200
"""Sentences `StreamSpeaker.prepare` keeps the sound of (a title is ~60 KB): more are made when said."""


def tone(sample_rate: int = 22050, hz: float = 660.0, seconds: float = 0.15, level: float = 0.2) -> np.ndarray:
    """A soft, short tone with gentle edges (no click), for `Speaker.play`: the "still listening" cue."""
    import numpy as np

    t = np.arange(int(sample_rate * seconds)) / sample_rate
    envelope = np.minimum(1.0, np.minimum(t, seconds - t) / 0.03)
    return (level * envelope * np.sin(2 * np.pi * hz * t)).astype(np.float32)


class Speaker(ABC):
    """Say text without blocking the caller; stop at once when asked."""

    def __init__(self, rate: int = 150, volume: float = 0.9) -> None:
        self.rate = rate
        self.volume = volume

    @abstractmethod
    def say(self, text: str) -> None:
        """Queue text to be spoken after whatever is being said."""

    @abstractmethod
    def stop(self) -> None:
        """Silence now and forget what was queued."""

    def play(self, samples: np.ndarray, sample_rate: int) -> None:
        """Queue a short sound (e.g. the "still listening" tone); speakers without audio skip it."""
        _LOGGER.debug("no audio output: %d samples not played", len(samples))

    def prepare(self, sentences: Iterable[str]) -> None:
        """Make these sentences' sound ahead, so that saying one later starts at once; speakers without audio
        have nothing to make."""
        _LOGGER.debug("no audio output: nothing to prepare")

    @abstractmethod
    def busy(self) -> bool:
        """True while speaking or with speech queued."""

    def wait(self, timeout: float = 60.0) -> None:
        """Block until everything queued has been said (tests and the batch modes)."""
        deadline = threading.Event()
        waited = 0.0
        while self.busy() and waited < timeout:
            deadline.wait(0.02)
            waited += 0.02

    def close(self) -> None:
        self.stop()


class SilentSpeaker(Speaker):
    """No audio output: captions carry everything (no device, or speech turned off)."""

    def say(self, text: str) -> None:
        _LOGGER.debug("silent speaker: %s", text)

    def stop(self) -> None:
        pass

    def busy(self) -> bool:
        return False


def _quiet_pyttsx3() -> None:
    """pyttsx3's espeak driver prints "Audio saved to ..." on stdout, over the visitor's screen."""
    from pyttsx3.drivers import espeak

    espeak.print = lambda *args, **kwargs: None


class Synthesizer:
    """Text -> float32 samples with espeak-ng, the engine pyttsx3 drives on Linux.

    espeak-ng is called directly (synchronously, an argument list, audio on stdout) when it is
    installed: pyttsx3 2.99's espeak driver writes its file from a callback that can fire after
    runAndWait() returns, or into the next sentence's file (measured: clipped first sentences, and
    a sentence whose file stayed empty for 10 s). pyttsx3 remains the fallback where the espeak-ng
    program is missing.
    """

    def __init__(self, voice: str = "") -> None:
        self.voice = voice
        self.espeak = shutil.which("espeak-ng")
        self.engine = None
        if self.espeak is None:
            import pyttsx3

            _quiet_pyttsx3()
            self.engine = pyttsx3.init()
            for v in self.engine.getProperty("voices") if voice else []:
                if voice.lower() in (v.id.lower(), str(v.name).lower()):
                    self.engine.setProperty("voice", v.id)
                    break

    def synthesize(self, text: str, rate: int) -> tuple[np.ndarray, int]:
        import numpy as np

        if self.espeak is not None:
            import soundfile

            # The text goes in on stdin, never as an argument a leading "-" could turn into an option; its own
            # session keeps a Ctrl-C meant for the kiosk from killing it mid-sentence (a false "failed").
            proc = subprocess.run([self.espeak, "-v", self.voice or "en-us", "-s", str(rate), "--stdout"],
                                  input=text.encode(), capture_output=True, timeout=30, check=False,
                                  start_new_session=True)
            if proc.returncode != 0 or not proc.stdout:
                raise RuntimeError(f"espeak-ng failed: {proc.stderr.decode(errors='replace').strip()}")
            data, sample_rate = soundfile.read(io.BytesIO(proc.stdout), dtype="float32")
            return np.asarray(data, dtype=np.float32), int(sample_rate)
        assert self.engine is not None
        self.engine.setProperty("rate", rate)
        fd, name = tempfile.mkstemp(suffix=".wav", prefix="kiosk-tts-")
        os.close(fd)
        try:
            self.engine.save_to_file(text, name)
            self.engine.runAndWait()
            data, sample_rate = _read_when_written(name)
        finally:
            Path(name).unlink(missing_ok=True)
        return np.asarray(data, dtype=np.float32), int(sample_rate)


def _read_when_written(name: str, timeout: float = 10.0) -> tuple[np.ndarray, int]:
    """pyttsx3 may return before its espeak callback has written the file, or while it is writing it
    (measured: the first call of a fresh engine gave a clipped sentence): wait until the file is a
    readable WAV with sound in it and has stopped growing."""
    import soundfile

    deadline = time.monotonic() + timeout
    previous = -1
    while True:
        size = os.path.getsize(name)
        if size == previous and size > 44:
            try:
                data, sample_rate = soundfile.read(name, dtype="float32")
                if len(data):
                    return data, int(sample_rate)
            except (soundfile.LibsndfileError, RuntimeError):
                pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"speech synthesis wrote no audio to {name}")
        previous = size
        time.sleep(0.02)


class StreamSpeaker(Speaker):
    """Synthesise sentence by sentence and play through a sounddevice OutputStream the kiosk owns.

    A stream is opened per sentence, so a speaker that comes back is used again without a restart. When
    synthesis or the output fails (device unplugged, espeak-ng broken), the loss is reported once through
    `on_status`, what is queued meanwhile is dropped at once (the captions carry it, and a speaker that is
    never "busy" keeps the kiosk listening), and speech is tried again with back-off (kiosk.retry) by saying
    SPEECH_BACK: heard means it is back, which is reported once too.
    """

    def __init__(self, rate: int = 150, volume: float = 0.9, voice: str = "", device: int | str | None = None,
                 on_sentence: Callable[[str], None] | None = None) -> None:
        super().__init__(rate, volume)
        self.voice = voice
        self.device = device
        self.on_sentence = on_sentence
        self.on_status: Callable[[bool, str], None] | None = None
        """Called (on the speaker's thread) with (False, reason) when speech is lost, (True, detail) when back."""
        self._retry = Retry(self._status_changed, working=True)
        self._synth: Synthesizer | None = None
        self._prepared: dict[tuple[str, int], tuple[np.ndarray, int]] = {}
        """(sentence, rate) -> its sound, made ahead by `prepare` (only read and added to, so no lock)."""
        self._queue: queue.Queue[str | tuple[np.ndarray, int] | None] = queue.Queue()
        self._stop = threading.Event()
        self._speaking = threading.Event()
        self._thread = threading.Thread(target=self._run, name="speaker", daemon=True)
        self._thread.start()

    @property
    def available(self) -> bool:
        """False from a failure until speech has been heard again."""
        return self._retry.working is not False

    def say(self, text: str) -> None:
        self._stop.clear()  # here, not when a sentence is taken: a stop between two sentences must hold
        for sentence in split_sentences(text):
            self._queue.put(sentence)

    def play(self, samples: np.ndarray, sample_rate: int) -> None:
        self._stop.clear()
        self._queue.put((samples, sample_rate))

    def prepare(self, sentences: Iterable[str]) -> None:
        """Synthesise these at the current rate in the background: the titles every answer begins with.
        Starting espeak-ng takes ~20 ms for each sentence, and for the first one of an answer that time
        comes between the end of the question and the first sound. Only with the espeak-ng program
        (pyttsx3's engine is not for a second thread)."""
        todo = [(s, self.rate) for s in dict.fromkeys(sentences)][:PREPARED_MAX]
        if todo and shutil.which("espeak-ng") is not None:
            threading.Thread(target=self._make_ahead, args=(todo,), name="speaker-prepare", daemon=True).start()

    def _make_ahead(self, todo: list[tuple[str, int]]) -> None:
        synth = Synthesizer(self.voice)
        for sentence, rate in todo:
            try:
                self._prepared[(sentence, rate)] = synth.synthesize(sentence, rate)
            except Exception as exc:  # it is only made ahead: saying it later makes it (or reports the failure)
                _LOGGER.debug("could not prepare %r: %s", sentence, exc)
                return

    def stop(self) -> None:
        self._stop.set()
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break

    def busy(self) -> bool:
        """Stopped counts as done at once, while the output stream is still closing: the kiosk listens again."""
        return (self._speaking.is_set() and not self._stop.is_set()) or not self._queue.empty()

    def close(self) -> None:
        self.stop()
        self._queue.put(None)
        self._thread.join(timeout=2)

    def _run(self) -> None:
        while True:
            down, probe = not self.available, False
            try:  # while speech is down, wake up when the back-off is over
                item = self._queue.get(timeout=self._retry.wait() if down else None)
            except queue.Empty:
                item, probe = SPEECH_BACK, True
                self._stop.clear()  # the speaker's own attempt: an old stop does not cancel it
            if item is None:
                return
            if down and not probe and self._retry.wait() > 0:
                _LOGGER.debug("speech is unavailable: %s not said", "a sound" if isinstance(item, tuple) else item)
            else:
                self._attempt(item, probe)
            if self._queue.empty():
                self._speaking.clear()

    def _attempt(self, item: str | tuple[np.ndarray, int], probe: bool) -> None:
        """Say one sentence (or play one sound); a failure of any kind is recorded, never raised."""
        self._speaking.set()
        try:
            if isinstance(item, tuple):
                samples, sample_rate = item
            else:
                sound = self._prepared.get((item, self.rate))
                if sound is None:
                    self._synth = self._synth or Synthesizer(self.voice)
                    sound = self._synth.synthesize(item, self.rate)
                samples, sample_rate = sound
                if self.on_sentence and not probe:
                    self.on_sentence(item)
            if self._stop.is_set():
                return
            self._play(samples * self.volume, sample_rate)
        except Exception as exc:  # the loop boundary: a broken voice must not end the kiosk
            self._synth = None  # made afresh next time: espeak-ng may have been (re)installed meanwhile
            delay = self._retry.failed(f"speech output failed ({exc})")
            _LOGGER.warning("speech output failed (%s); captions continue; trying again in %.0f s", exc, delay)
        else:
            self._retry.succeeded("speaking" if self.device is None else f"speaking on {self.device}")

    def _status_changed(self, working: bool, detail: str) -> None:
        if working:  # a warning, so that the journal shows the end of the trouble as well as its start
            _LOGGER.warning("speech output is back (%s)", detail)
        if self.on_status is not None:
            try:
                self.on_status(working, detail)
            except Exception:  # a listener's bug must not silence the kiosk
                _LOGGER.exception("speech status listener failed")

    def _play(self, samples: np.ndarray, sample_rate: int) -> None:
        import sounddevice

        block = int(sample_rate * BLOCK_SECONDS)
        with sounddevice.OutputStream(samplerate=sample_rate, channels=1, dtype="float32",
                                      device=self.device, blocksize=block) as stream:
            for start in range(0, len(samples), block):
                if self._stop.is_set():
                    stream.abort()
                    return
                stream.write(samples[start : start + block].reshape(-1, 1))


def create_speaker(enabled: bool, rate: int, volume: float, voice: str = "",
                   device: int | str | None = None) -> Speaker:
    """A real speaker when there is an output device, else a silent one (and say why in the log)."""
    if not enabled:
        return SilentSpeaker(rate, volume)
    try:
        import sounddevice
    except OSError as exc:  # PortAudio itself is missing
        _LOGGER.warning("no audio library (%s); answers are shown as text only", exc)
        return SilentSpeaker(rate, volume)
    try:
        sounddevice.query_devices(device, kind="output")
    except (ValueError, sounddevice.PortAudioError) as exc:
        _LOGGER.warning("no audio output device (%s); answers are shown as text only", exc)
        return SilentSpeaker(rate, volume)
    return StreamSpeaker(rate, volume, voice, device)
