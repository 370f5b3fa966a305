"""A private, headless PulseAudio with a virtual speaker and microphone, for tests on machines without a sound card.

Layout (all names fixed, so tests and `.asoundrc` can rely on them):

    speaker          null sink, the default sink: whatever the kiosk plays ends here
    speaker.monitor  its monitor: record it to hear what the kiosk said   (ALSA/sounddevice name "speaker_monitor")
    micfeed          null sink: play a WAV into it to "speak into the microphone"
    mic              virtual source on micfeed.monitor, the default source   (ALSA/sounddevice name "mic")

Import order matters. Debian's PortAudio reaches PulseAudio only through ALSA's pulse plugin, and it decides
which devices exist when it initialises, i.e. at `import sounddevice`. So either

* run the code under test in a subprocess started with `audio.env` (`audio.run_python`, `audio.popen_python`,
  `Recorder`): always safe, and how the kiosk itself is run; or
* wrap in-process code in `with audio.activated():`, which sets the variables in `os.environ` and, when
  sounddevice was already imported, re-initialises PortAudio (private `sd._terminate/_initialize`), and puts
  both back on exit. Do not keep streams open across that boundary.

Use from tests: `pytest_plugins = ["vaudio"]` (in tests/conftest.py, or in each test module) makes the session
fixture `virtual_audio` available. Run `python tests/vaudio.py` for a shell-ready environment to poke at by hand.

PYTEST_DONT_REWRITE: test modules import this before pytest_plugins registers it; that is fine, there is nothing
here whose asserts need rewriting, and the marker stops pytest warning about it.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

PROJECT = Path(__file__).resolve().parent.parent
SILENCE = 64
"""int16 magnitude below which a sample counts as silent (-54 dBFS): null sinks are digitally silent."""

_MODULES = {  # load order matters: mic's master is micfeed's monitor
    "speaker": ("module-null-sink", "sink_name=speaker sink_properties=device.description=speaker"),
    "micfeed": ("module-null-sink", "sink_name=micfeed sink_properties=device.description=micfeed"),
    "mic": ("module-virtual-source", "source_name=mic master=micfeed.monitor source_properties=device.description=mic"),
}
_ASOUNDRC = "".join(f'pcm.{alsa} {{ type pulse device "{pulse}" }}\n' for alsa, pulse in
                    [("speaker", "speaker"), ("speaker_monitor", "speaker.monitor"), ("micfeed", "micfeed"),
                     ("mic", "mic")])


def no_audio_env(root: Path) -> dict[str, str]:
    """An environment in which no sound server answers and ALSA has no card: 'no audio hardware at all'."""
    (root / "home").mkdir(parents=True, exist_ok=True)
    (root / "run").mkdir(parents=True, exist_ok=True)
    return {**os.environ, "HOME": str(root / "home"), "XDG_RUNTIME_DIR": str(root / "run"),
            "PULSE_SERVER": f"unix:{root / 'run' / 'nobody-here'}", "PYTHONPATH": _pythonpath()}


def _pythonpath() -> str:
    """Subprocesses import this checkout's `kiosk`, whatever the virtualenv has installed."""
    return os.pathsep.join(filter(None, [str(PROJECT), os.environ.get("PYTHONPATH")]))


def _die_with_parent() -> None:
    """Runs in the daemon's child process: an aborted test run must not leave a daemon behind forever.
    (Linux ties this to the starting *thread*: start the harness from a thread that outlives it, e.g. the main one.)"""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class VirtualAudio:
    """Start/stop the daemon, feed the microphone, record the speaker, and break devices on purpose."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="vaudio-"))  # short: unix socket paths max out at 108 bytes
        self.home = self.root / "home"
        self.runtime = self.root / "run"
        self.server = f"unix:{self.runtime / 'native'}"
        self.env: dict[str, str] = {**os.environ, "HOME": str(self.home), "XDG_RUNTIME_DIR": str(self.runtime),
                                    "PULSE_SERVER": self.server, "PYTHONPATH": _pythonpath()}
        self.log = self.root / "pulseaudio.log"
        self._daemon: subprocess.Popen[bytes] | None = None

    def start(self) -> VirtualAudio:
        self.home.mkdir()
        self.runtime.mkdir(mode=0o700)
        (self.home / ".asoundrc").write_text(_ASOUNDRC)
        script = [f"load-module module-native-protocol-unix auth-anonymous=1 socket={self.runtime / 'native'}"]
        script += [f"load-module {module} {args}" for module, args in _MODULES.values()]
        script += ["set-default-sink speaker", "set-default-source mic"]
        (self.root / "virtual.pa").write_text("\n".join(script) + "\n")
        return self._launch()

    def _launch(self) -> VirtualAudio:
        with self.log.open("ab") as log:
            self._daemon = subprocess.Popen(
                ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
                 "-F", str(self.root / "virtual.pa")],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._daemon.poll() is not None:
                break
            if subprocess.run(["pactl", "info"], env=self.env, capture_output=True).returncode == 0:
                return self
            time.sleep(0.02)
        log_text = self.log.read_text(errors="replace")[-2000:]
        self.stop()
        raise RuntimeError(f"virtual PulseAudio did not come up:\n{log_text}")

    def stop(self) -> None:
        """SIGTERM (clean exit measured at 2-20 ms here, 1.3 s elsewhere), SIGKILL after 5 s, remove the directory."""
        if self._daemon is not None and self._daemon.poll() is None:
            self._daemon.send_signal(signal.SIGTERM)
            try:
                self._daemon.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._daemon.kill()
                self._daemon.wait()
        self._daemon = None
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> VirtualAudio:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def pactl(self, *args: str) -> str:
        proc = subprocess.run(["pactl", *args], env=self.env, capture_output=True, text=True, timeout=10)
        if proc.returncode != 0:
            raise RuntimeError(f"pactl {' '.join(args)} failed: {proc.stderr.strip()}")
        return proc.stdout

    def play_into_mic(self, wav: Path, wait: bool = True) -> subprocess.Popen[bytes]:
        """Speak a file into the virtual microphone; with wait, returns once it has been played out."""
        proc = subprocess.Popen(["paplay", "--device=micfeed", str(wav)], env=self.env)
        if wait and proc.wait(timeout=120) != 0:
            raise RuntimeError(f"paplay {wav} failed with {proc.returncode}")
        return proc

    def recorder(self, device: str = "speaker_monitor", rate: int = 16_000) -> Recorder:
        return Recorder(self, device, rate)

    def record_speaker(self, seconds: float, action: Callable[[], object] | None = None) -> Recording:
        """Record the speaker for `seconds` once capture flows; `action` (make something speak) runs at that point."""
        with self.recorder() as rec:
            if action is not None:
                action()
            time.sleep(seconds)
        return rec.result

    # --- faults -----------------------------------------------------------------------------------------
    def crash(self) -> None:
        """The sound server dies (or takes the only microphone with it): every stream stops delivering."""
        if self._daemon is not None:
            self._daemon.kill()
            self._daemon.wait()
            self._daemon = None
        (self.runtime / "native").unlink(missing_ok=True)

    def revive(self) -> None:
        """Start the server again on the same socket with the same devices (a replugged microphone)."""
        self._launch()

    def loaded(self) -> set[str]:
        """Which of speaker / micfeed / mic are currently loaded."""
        lines = self.pactl("list", "short", "modules").splitlines()
        return {name for name, (_, args) in _MODULES.items() if any(args in line for line in lines)}

    def remove(self, name: str) -> None:
        """Unplug a device. Measured side effects: removing micfeed also removes mic (a virtual source goes with its
        master); a capture stream on a removed source stalls silently (no error, still "active"); removing speaker
        moves playing streams to micfeed, the only sink left and the new default, so the kiosk hears itself."""
        _, args = _MODULES[name]
        for line in self.pactl("list", "short", "modules").splitlines():
            if args in line:
                self.pactl("unload-module", line.split()[0])
                return
        raise RuntimeError(f"{name} is not loaded")

    def restore(self) -> None:
        """Plug everything missing back in, in dependency order, and make it the default again."""
        loaded = self.loaded()
        for name, (module, args) in _MODULES.items():
            if name not in loaded:
                self.pactl("load-module", module, *args.split())
        self.pactl("set-default-sink", "speaker")
        self.pactl("set-default-source", "mic")

    @contextlib.contextmanager
    def removed(self, name: str) -> Iterator[None]:
        self.remove(name)
        try:
            yield
        finally:
            self.restore()

    # --- running code against it ------------------------------------------------------------------------
    def run_python(self, code: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", code, *args], env=self.env, cwd=PROJECT, capture_output=True,
                              text=True, timeout=timeout)

    def popen_python(self, code: str, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-c", code, *args], env=self.env, cwd=PROJECT, text=True,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    @contextlib.contextmanager
    def activated(self) -> Iterator[None]:
        """Point this process's sounddevice at the virtual devices, and back again afterwards."""
        saved = {key: os.environ.get(key) for key in ("HOME", "XDG_RUNTIME_DIR", "PULSE_SERVER")}
        os.environ.update({key: self.env[key] for key in saved})
        _reinitialise_portaudio()
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            _reinitialise_portaudio()


def _reinitialise_portaudio() -> None:
    """PortAudio (and ALSA's cached config) only look for devices at initialisation; redo it if already done."""
    sd: Any = sys.modules.get("sounddevice")
    if sd is not None:
        sd._terminate()
        sd._initialize()


@dataclass
class Recording:
    """Captured int16 samples, plus when each block arrived (time.monotonic, comparable across processes)."""

    samples: npt.NDArray[np.int16]
    rate: int
    block_ends: npt.NDArray[np.int64]
    """Sample count at the end of each block."""
    arrivals: npt.NDArray[np.float64]
    """time.monotonic() when each block reached the recorder's callback."""
    overflows: int

    def time_of(self, index: int) -> float:
        """Latest moment sample `index` can have been captured, assuming capture runs at the nominal rate.

        A block arriving at A that ends at sample E proves sample i was captured by A - (E - i) / rate; the tightest
        such bound over all blocks irons out bursty delivery (null sinks render in chunks) and scheduler jitter.
        """
        return self._offset() + index / self.rate

    def index_at(self, moment: float) -> int:
        """The sample captured at `moment` (time.monotonic()), by the same estimate as time_of."""
        return max(0, round((moment - self._offset()) * self.rate))

    def _offset(self) -> float:
        return float(np.min(self.arrivals - self.block_ends / self.rate))

    def loud(self, threshold: int = SILENCE) -> npt.NDArray[np.intp]:
        """Indices of non-silent samples."""
        return np.flatnonzero(np.abs(self.samples.astype(np.int32)) > threshold)


class Listener:
    """The kiosk's own PocketSphinx with the content's vocabulary, hearing windows of a recording in order.

    One recogniser, fed in order (an intro first), streamed as live listening is: PocketSphinx's cepstral mean adapts
    to the voice across utterances. A fresh recogniser per window heard the first second of each badly (measured on
    three recordings: "types" of a scanned "2. Types of dystonia" in 0 of 3, against 3 of 3 in order). The second
    hearing a recorded file gets starts from the recording's own mean, which two seconds of one voice measure badly:
    it was the surer hearing of that label, as "do you so you", in 3 of 3 runs. The kiosk is imported on first use.
    """

    def __init__(self) -> None:
        self._recognizer: Any = None

    def hear(self, rec: Recording, start: float, end: float) -> str:
        from kiosk.recognizer import Recognizer

        if self._recognizer is None:
            from kiosk.config import load_settings
            from kiosk.recognizer import create_recognizer
            from kiosk.speechdomain import load_for_speech

            settings = load_settings()
            self._recognizer = create_recognizer("pocketsphinx", settings.models_dir, None,
                                                 load_for_speech(settings.content_dir)[1])  # fmt: skip
        window = rec.samples[rec.index_at(start) : rec.index_at(end)]
        return Recognizer.recognize(self._recognizer, window.tobytes()).text


class Recorder:
    """Record a capture device in a subprocess with a sounddevice InputStream (parec loses audio when stopped).

    Entering waits until audio actually flows: a new capture stream on a null sink's monitor delivers nothing
    for up to ~2 s (the idle null sink renders in 2 s blocks), so anything played before that would be lost.
    """

    def __init__(self, audio: VirtualAudio, device: str, rate: int) -> None:
        self.audio, self.device, self.rate = audio, device, rate
        self.out = Path(tempfile.mkstemp(suffix=".npz", dir=audio.root)[1])
        self._proc: subprocess.Popen[str] | None = None
        self._result: Recording | None = None

    def __enter__(self) -> Recorder:
        self._proc = subprocess.Popen([sys.executable, __file__, "record", self.device, str(self.rate), str(self.out)],
                                      env=self.audio.env, text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE)
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if line.strip() != "ready":
            self._proc.kill()
            raise RuntimeError(f"recorder did not start: {line}{self._proc.communicate()[1]}")
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._proc is not None
        _, err = self._proc.communicate("stop\n", timeout=20)
        if self._proc.returncode != 0:
            raise RuntimeError(f"recorder failed: {err}")
        with np.load(self.out) as data:
            self._result = Recording(data["audio"], self.rate, np.cumsum(data["sizes"]), data["arrivals"],
                                     int(data["overflows"]))

    @property
    def result(self) -> Recording:
        if self._result is None:
            raise RuntimeError("the recording is available once the recorder's `with` block has ended")
        return self._result


def _record(device: str, rate: int, out: str) -> None:
    """The recorder subprocess: capture until a line (or EOF) arrives on stdin, then save everything."""
    import threading

    import sounddevice as sd

    blocks: list[bytes] = []
    arrivals: list[float] = []
    overflows = 0
    flowing = threading.Event()

    def callback(indata: Any, frames: int, time_info: Any, status: Any) -> None:
        nonlocal overflows
        arrivals.append(time.monotonic())
        blocks.append(bytes(indata))
        overflows += bool(status.input_overflow)
        flowing.set()

    with sd.RawInputStream(samplerate=rate, channels=1, dtype="int16", blocksize=rate // 100, device=device,
                           latency="low", callback=callback):
        if not flowing.wait(10):
            sys.exit("no audio captured within 10 s")
        print("ready", flush=True)
        sys.stdin.readline()
    np.savez(out, audio=np.frombuffer(b"".join(blocks), dtype=np.int16), arrivals=np.array(arrivals),
             sizes=np.array([len(b) // 2 for b in blocks]), overflows=overflows)


@pytest.fixture(scope="session")
def virtual_audio() -> Iterator[VirtualAudio]:
    """One private PulseAudio for the whole test session (it starts in ~50 ms)."""
    with VirtualAudio() as audio:
        yield audio


def main() -> None:
    if sys.argv[1:2] == ["record"]:
        _record(sys.argv[2], int(sys.argv[3]), sys.argv[4])
        return
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # still stop the daemon and remove its directory
    with VirtualAudio() as audio:
        exports = {key: audio.env[key] for key in ("HOME", "XDG_RUNTIME_DIR", "PULSE_SERVER")}
        print(json.dumps(exports) if "--json" in sys.argv else
              "".join(f"export {key}={value}\n" for key, value in exports.items()), flush=True)
        print("# virtual PulseAudio running; Ctrl-C to stop", file=sys.stderr)
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()


if __name__ == "__main__":
    main()
