"""The microphone on a private, virtual PulseAudio: real synthesised speech goes in, the same speech comes out.

These tests run `Microphone` in the pytest process, inside `virtual_audio.activated()` (see tests/vaudio.py for
why sounddevice needs that); the no-audio case runs in a subprocess, where no sound server can be reached.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import soundfile
from vaudio import PROJECT, SILENCE, VirtualAudio, no_audio_env

from kiosk.errors import AudioError
from kiosk.mic import BLOCK_FRAMES, Microphone, audio_available, list_devices

pytest_plugins = ["vaudio"]

RATE = 16_000
FLOW_TIMEOUT = 4.0
"""A new capture stream on a null sink's monitor delivers nothing for up to ~2 s."""


@pytest.fixture(scope="module")
def question_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("speech")
    raw, wav = folder / "raw.wav", folder / "question.wav"
    subprocess.run(["flite", "-voice", "slt", "-t", "what causes dystonia", "-o", str(raw)], check=True)
    subprocess.run(["sox", "-D", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(wav)], check=True)
    return wav


def _wait_for_flow(mic: Microphone) -> bytes:
    start = time.monotonic()
    block = mic.read(timeout=FLOW_TIMEOUT)
    assert block is not None, "the capture stream delivered nothing"
    print(f"capture started delivering {time.monotonic() - start:.2f} s after opening")
    return block


def _read_until(mic: Microphone, deadline: float) -> bytes:
    blocks = []
    while time.monotonic() < deadline:
        block = mic.read(timeout=0.1)
        if block is not None:
            blocks.append(block)
    return b"".join(blocks)


def _best_match(captured: npt.NDArray[np.float64], source: npt.NDArray[np.float64]) -> tuple[float, float]:
    """Normalised cross-correlation peak of source within captured, and the energy ratio at that alignment."""
    size = len(captured) + len(source)
    corr = np.fft.irfft(np.fft.rfft(captured, size) * np.conj(np.fft.rfft(source, size)), size)[: len(captured)]
    lag = int(np.argmax(np.abs(corr[: len(captured) - len(source) + 1])))
    segment = captured[lag : lag + len(source)]
    norm = float(np.linalg.norm(segment) * np.linalg.norm(source))
    return (float(corr[lag]) / norm if norm else 0.0), float(np.sum(segment**2) / np.sum(source**2))


def test_speech_played_into_the_virtual_mic_is_captured_and_drain_discards_it(
        virtual_audio: VirtualAudio, question_wav: Path) -> None:
    source = soundfile.read(question_wav, dtype="int16")[0].astype(np.float64)
    with virtual_audio.activated(), Microphone() as mic:
        assert len(_wait_for_flow(mic)) == BLOCK_FRAMES * 2
        virtual_audio.play_into_mic(question_wav)
        captured = np.frombuffer(_read_until(mic, time.monotonic() + 0.5), dtype=np.int16).astype(np.float64)

        virtual_audio.play_into_mic(question_wav)  # "the kiosk speaks" while nobody reads
        time.sleep(0.2)  # let the capture path flush its last milliseconds into the queue
        discarded = mic.drain()
        after = np.frombuffer(_read_until(mic, time.monotonic() + 0.3), dtype=np.int16)
        overflows = mic.overflows
    similarity, energy = _best_match(captured, source)
    assert similarity > 0.9 and 0.5 < energy < 2, (similarity, energy)
    assert discarded >= len(source) / BLOCK_FRAMES
    assert len(after) and np.abs(after).max() < SILENCE, "speech played before drain() came out after it"
    assert overflows == 0


def test_a_full_queue_keeps_the_newest_audio_and_counts_what_it_dropped(
        virtual_audio: VirtualAudio, tmp_path: Path) -> None:
    tone = tmp_path / "tone.wav"  # continuous sound: any block captured while it plays is loud
    subprocess.run(["sox", "-n", "-r", str(RATE), "-c", "1", "-b", "16", str(tone), "synth", "3", "sine", "440",
                    "gain", "-6"], check=True)
    with virtual_audio.activated(), Microphone(queue_seconds=0.3) as mic:  # room for 10 blocks
        _wait_for_flow(mic)
        player = virtual_audio.play_into_mic(tone, wait=False)
        time.sleep(1.5)  # ~50 blocks arrive, nobody reads
        kept = [mic.read(timeout=0) for _ in range(10)]
        player.wait(timeout=10)
        overflows = mic.overflows
    assert all(block and np.abs(np.frombuffer(block, dtype=np.int16)).max() > 30 * SILENCE for block in kept), \
        "the queue kept old (silent) blocks instead of the newest"
    assert overflows >= 30


def test_list_devices_and_choice_by_name(virtual_audio: VirtualAudio) -> None:
    with virtual_audio.activated():
        devices = {device.name: device for device in list_devices()}
        assert {"mic", "micfeed", "speaker", "speaker_monitor"} <= set(devices)
        assert devices["mic"].inputs > 0 and devices["speaker"].outputs > 0
        assert sum(device.default_input for device in devices.values()) == 1
        assert audio_available()[0]
        with Microphone("mic") as mic:
            assert mic.device_name == "mic"
        with Microphone(devices["mic"].index) as mic:
            assert mic.device_name == "mic"
        with pytest.raises(AudioError, match="no-such-device"):
            Microphone("no-such-device").start()
    assert "mic" not in {device.name for device in list_devices()}, "activated() did not undo itself"


def test_no_audio_at_all_is_reported_clearly(tmp_path: Path) -> None:
    code = "from kiosk.mic import audio_available, list_devices; print(list_devices(), audio_available())"
    proc = subprocess.run([sys.executable, "-c", code], env=no_audio_env(tmp_path), cwd=PROJECT,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("[] (False, 'no microphone found: no audio input device"), proc.stdout
