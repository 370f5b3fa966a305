"""Speech out through the virtual speaker: it is heard soon after `say`, and `stop` silences it at once.

The kiosk's side runs in a subprocess started with the virtual audio environment, as the kiosk itself would be;
a second subprocess records `speaker.monitor`. Both stamp events with time.monotonic(), one clock for all
processes on Linux, so latencies can be read off the recording.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from vaudio import PROJECT, SILENCE, VirtualAudio, no_audio_env

pytest_plugins = ["vaudio"]

TEXT = ("Dystonia is a movement disorder in which muscles contract involuntarily. "
        "It can affect one part of the body or many.")
SPEAK_FOR = 1.0
"""Seconds of speech before stop(): well inside the first sentence (about four seconds long)."""

SPEAK_THEN_STOP = """
import json, sys, threading, time
from kiosk.speaker import StreamSpeaker

times = {}
synthesised = threading.Event()

def on_sentence(sentence):
    times.setdefault("synthesised", time.monotonic())
    synthesised.set()

speaker = StreamSpeaker(on_sentence=on_sentence)
times["say"] = time.monotonic()
speaker.say(sys.argv[1])
if not synthesised.wait(30):
    sys.exit("no sentence was synthesised")
time.sleep(float(sys.argv[2]))
times["stop"] = time.monotonic()
speaker.stop()
times["stopped"] = time.monotonic()
time.sleep(1.0)  # the second sentence must not start
times["busy"] = speaker.busy()
speaker.close()
print(json.dumps(times))
"""

CREATE_SPEAKER = """
import logging
from kiosk.speaker import create_speaker
logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
speaker = create_speaker(True, 150, 0.9)
print(type(speaker).__name__)
speaker.close()
"""


def test_stream_speaker_is_heard_and_stop_silences_it_within_100_ms(virtual_audio: VirtualAudio) -> None:
    with virtual_audio.recorder() as recorder:
        proc = virtual_audio.run_python(SPEAK_THEN_STOP, TEXT, str(SPEAK_FOR))
    assert proc.returncode == 0, proc.stderr
    times = json.loads(proc.stdout)
    rec = recorder.result
    loud = rec.loud()
    assert len(loud), "nothing reached the speaker"
    first, last = rec.time_of(int(loud[0])), rec.time_of(int(loud[-1]))
    print(f"\nfirst sound {1000 * (first - times['say']):.0f} ms after say() "
          f"({1000 * (first - times['synthesised']):.0f} ms after synthesis); "
          f"last sound {1000 * (last - times['stop']):.0f} ms after stop(); "
          f"stop() returned in {1000 * (times['stopped'] - times['stop']):.1f} ms")
    assert rec.overflows == 0
    assert first - times["say"] < 5.0
    before_stop = rec.samples[rec.index_at(times["stop"] - 0.5) : rec.index_at(times["stop"])]
    assert np.abs(before_stop.astype(np.int32)).max() > 30 * SILENCE, "it was not speaking when stopped"
    assert last - first > SPEAK_FOR - 0.3, "speech ended early, so stop() was not what silenced it"
    assert last - times["stop"] < 0.100
    assert times["stopped"] - times["stop"] < 0.050
    assert times["busy"] is False


def test_create_speaker_plays_when_there_is_an_output_device(virtual_audio: VirtualAudio) -> None:
    proc = virtual_audio.run_python(CREATE_SPEAKER)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "StreamSpeaker"


def test_create_speaker_is_silent_and_says_why_without_an_output_device(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", CREATE_SPEAKER], env=no_audio_env(tmp_path), cwd=PROJECT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "SilentSpeaker"
    assert "WARNING kiosk.speaker: no audio output device" in proc.stderr


PREPARE_THEN_SAY = """
import json, time
from kiosk.speaker import StreamSpeaker

speaker = StreamSpeaker()
speaker.prepare(["Blepharospasm.", "Blepharospasm."])
deadline = time.monotonic() + 20
while not speaker._prepared and time.monotonic() < deadline:
    time.sleep(0.01)
samples, rate = speaker._prepared[("Blepharospasm.", speaker.rate)]
speaker.say("Blepharospasm.")
speaker.wait(30)
print(json.dumps({"prepared": len(speaker._prepared), "seconds": len(samples) / rate,
                  "synthesised_when_said": speaker._synth is not None}))
speaker.close()
"""


def test_a_prepared_sentence_is_made_ahead_once_and_played_from_what_was_made(virtual_audio: VirtualAudio) -> None:
    """The titles answers begin with are synthesised at start (`prepare`), so the first sound of an answer does
    not wait for espeak-ng to start; saying one plays that sound, with no synthesis then."""
    with virtual_audio.recorder() as recorder:
        proc = virtual_audio.run_python(PREPARE_THEN_SAY)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result == {**result, "prepared": 1, "synthesised_when_said": False}
    assert 0.4 < result["seconds"] < 2.0
    heard = recorder.result.loud()
    assert len(heard), "the prepared sentence did not reach the speaker"
    span = (int(heard[-1]) - int(heard[0])) / recorder.result.rate
    assert abs(span - result["seconds"]) < 0.5, span
