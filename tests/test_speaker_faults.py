"""A speaker that goes away and a speech engine that breaks: the kiosk keeps answering in captions, says once that
it cannot speak, tries again with back-off (kiosk.retry), and speaks again by itself, with no restart.

Each live test runs the real `kiosk voice` (test_loop_live.LiveKiosk) on its own virtual PulseAudio (vaudio) and
breaks it mid-session. What PulseAudio does when the speaker's sink is unloaded (measured):

* The stream playing at that moment is moved to the sink that is left (micfeed, so the rest of the sentence goes
  into the kiosk's own microphone) and plays on without an error; so does the tap recording `speaker.monitor`
  (it moves to micfeed.monitor), which is why a fresh recorder listens to the speaker once it is back.
* With the default output, every later sentence opens on the new default sink: the kiosk sees no error, so it
  cannot tell, and goes on speaking wherever PulseAudio sends it; it is on the speaker again once that is the
  default again. With a named output (`[voice] output_device`), the next sentence fails to open ("No such
  entity", in ~20 ms): the kiosk notices at the end of the sentence being spoken.
* A stream killed outright (no sink to move to; tried by hand with the CLI's kill-sink-input) makes write() raise
  PortAudioError (Input/output error): the same path as a failed open.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from fakes import Clock
from test_loop_live import Caption, LiveKiosk, loud_times, synth
from vaudio import PROJECT, VirtualAudio

from kiosk.phrases import SPEECH_BACK_NOTE, SPEECH_LOST_NOTE
from kiosk.retry import DELAYS, Retry

QUESTION = "what is blepharospasm"
ANSWER = "Eyelids. Rapid blinking"
BACK_WITHIN_S = 35.0
"""The longest back-off (30 s) plus the time to say "I can speak again"."""


def config(folder: Path, output_device: str = "") -> Path:
    """No screen (its port may be taken on a busy machine); the given output device."""
    path = folder / "kiosk.toml"
    path.write_text(f'[screen]\nenabled = false\n\n[voice]\noutput_device = "{output_device}"\n')
    return path


def notes(kiosk: LiveKiosk, text: str) -> list[Caption]:
    return [c for c in kiosk.captions() if c.who == "KIOSK" and c.text == text]


def answered(kiosk: LiveKiosk, after: float, timeout: float = 10.0) -> Caption:
    caption = kiosk.wait_caption(lambda c: c.who == "KIOSK" and c.text.startswith(ANSWER), after, timeout)
    assert caption is not None, f"no answer caption:\n{kiosk.output()}"
    return caption


def speech_returns(kiosk: LiveKiosk, question: Path, since: float) -> tuple[Caption | None, Caption]:
    """After the repair: the "I can speak again" note (None if it never came), then the answer to one more
    question, given four seconds to be spoken."""
    back = kiosk.wait_caption(lambda c: c.text == SPEECH_BACK_NOTE, since, BACK_WITHIN_S)
    kiosk.wait_quiet()
    again = answered(kiosk, kiosk.play(question, QUESTION).start)
    time.sleep(4.0)
    return back, again


def test_retry_backs_off_and_reports_each_change_once() -> None:
    clock, changes = Clock(), []
    retry = Retry(lambda working, why: changes.append((working, why)), clock, working=True)
    retry.succeeded("fine")
    assert changes == [] and retry.wait() == 0
    delays = [retry.failed(f"gone {i}") for i in range(len(DELAYS) + 2)]
    assert delays == [*DELAYS, DELAYS[-1], DELAYS[-1]] and retry.wait() == DELAYS[-1]
    clock.now += 10
    assert retry.wait() == DELAYS[-1] - 10
    retry.succeeded("back")
    retry.succeeded("still fine")
    assert changes == [(False, "gone 0"), (True, "back")]
    assert retry.failed("gone again") == DELAYS[0], "back-off starts again from the shortest delay"


def test_named_speaker_unplugged_mid_answer_captions_carry_on_and_speech_returns(tmp_path: Path) -> None:
    question = synth(QUESTION, tmp_path / "question.wav")
    with VirtualAudio() as audio:
        kiosk = LiveKiosk(audio, "--max-seconds", "150", config=config(tmp_path, "speaker"))
        try:
            kiosk.greeted()
            kiosk.wait_quiet()
            answered(kiosk, kiosk.play(question, QUESTION).start)
            time.sleep(2.0)  # into the answer's second sentence (about five seconds long)
            unplugged = time.monotonic()
            audio.remove("speaker")
            lost = kiosk.wait_caption(lambda c: c.text == SPEECH_LOST_NOTE, unplugged, 15)
            kiosk.wait_quiet()
            gone = kiosk.turn(question, QUESTION)
            audio.restore()
            replugged = time.monotonic()
            with audio.recorder() as recorder:
                back, again = speech_returns(kiosk, question, replugged)
            running = kiosk.proc.poll() is None
        finally:
            speaker, _ = kiosk.close()
    print(kiosk.output())
    assert running and "Traceback" not in kiosk.output(), "the kiosk must not crash"
    speaking = loud_times(speaker, unplugged - 1.0, unplugged)
    assert len(speaking), "the kiosk was not speaking when the speaker was unplugged"
    assert lost is not None, "the visitor is not told that the kiosk cannot speak"
    print(f"loss noticed {lost.t - unplugged:.1f} s after unplugging (at the end of the sentence being spoken); "
          f"back {back.t - replugged if back else float('nan'):.1f} s after replugging")
    assert lost.t - unplugged < 10.0
    assert gone.heard == [QUESTION] and gone.replies and gone.replies[0].startswith(ANSWER), "captions carry on"
    assert back is not None, f"speech did not come back within {BACK_WITHIN_S} s of replugging"
    assert len(notes(kiosk, SPEECH_LOST_NOTE)) == 1 and len(notes(kiosk, SPEECH_BACK_NOTE)) == 1, "told once each"
    # "I can speak again" itself usually plays before the new recorder listens (an idle null sink's monitor
    # delivers its first audio after up to 2 s): the engine test hears it; here the next answer must be heard.
    sound = loud_times(recorder.result, again.t, again.t + 4.0)
    assert len(sound) and sound[0] - again.t < 1.5, "the next answer is not heard on the replugged speaker"
    assert sound[-1] - sound[0] > 1.0


def test_default_speaker_removed_pulseaudio_moves_the_voice_and_it_comes_back(tmp_path: Path) -> None:
    question = synth(QUESTION, tmp_path / "question.wav")
    with VirtualAudio() as audio:
        kiosk = LiveKiosk(audio, "--max-seconds", "120", config=config(tmp_path))
        try:
            kiosk.greeted()
            kiosk.wait_quiet()
            answered(kiosk, kiosk.play(question, QUESTION).start)
            time.sleep(2.0)
            unplugged = time.monotonic()
            audio.remove("speaker")
            kiosk.wait_quiet()
            gone = kiosk.turn(question, QUESTION)
            audio.restore()
            time.sleep(0.5)
            with audio.recorder() as recorder:
                kiosk.wait_quiet()
                again = answered(kiosk, kiosk.play(question, QUESTION).start)
                time.sleep(4.0)
            running = kiosk.proc.poll() is None
        finally:
            _, mic = kiosk.close()
    print(kiosk.output())
    assert running and "Traceback" not in kiosk.output()
    assert gone.heard == [QUESTION] and gone.replies and gone.replies[0].startswith(ANSWER), "captions carry on"
    assert notes(kiosk, SPEECH_LOST_NOTE) == [], "PulseAudio moved the voice: the kiosk sees no error to report"
    moved = loud_times(mic, gone.heard_at + 0.3, gone.heard_at + 3.0)
    assert len(moved), "the answer given while the speaker was gone went to the remaining sink (micfeed)"
    sound = loud_times(recorder.result, again.t, again.t + 4.0)
    assert len(sound) and sound[0] - again.t < 1.5, "the answer is not heard on the speaker once it is back"
    assert unplugged < gone.start


BROKEN_ESPEAK = """#!/bin/sh
# espeak-ng that cannot synthesise while {flag} exists; pronunciations (-x) still work.
if [ -e {flag} ]; then
  case " $* " in *" --stdout "*) echo "espeak-ng: simulated synthesis fault" >&2; exit 1;; esac
fi
exec {real} "$@"
"""


def test_broken_speech_engine_captions_carry_on_and_speech_returns(tmp_path: Path) -> None:
    real = shutil.which("espeak-ng")
    assert real is not None
    flag = tmp_path / "broken"
    flag.touch()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "espeak-ng"
    fake.write_text(BROKEN_ESPEAK.format(flag=flag, real=real))
    fake.chmod(0o755)
    question = synth(QUESTION, tmp_path / "question.wav")
    with VirtualAudio() as audio:
        audio.env["PATH"] = f"{bin_dir}:{audio.env['PATH']}"
        kiosk = LiveKiosk(audio, "--max-seconds", "150", config=config(tmp_path))
        try:
            greeting = kiosk.greeted()
            lost = kiosk.wait_caption(lambda c: c.text == SPEECH_LOST_NOTE, 0.0, 10)
            kiosk.wait_quiet()
            silent = kiosk.turn(question, QUESTION)
            repaired = time.monotonic()
            flag.unlink()
            back, again = speech_returns(kiosk, question, repaired)
            running = kiosk.proc.poll() is None
        finally:
            speaker, _ = kiosk.close()
    print(kiosk.output())
    assert running and "Traceback" not in kiosk.output()
    assert lost is not None and lost.t - greeting.t < 2.0, "the failed greeting is reported at once"
    assert "simulated synthesis fault" in kiosk.output(), "the log says what failed"
    assert silent.heard == [QUESTION] and silent.replies and silent.replies[0].startswith(ANSWER), "captions carry on"
    assert not len(loud_times(speaker, greeting.t, repaired)), "nothing was spoken while the engine was broken"
    assert back is not None, f"speech did not come back within {BACK_WITHIN_S} s of the repair"
    print(f"speech back {back.t - repaired:.1f} s after the repair")
    assert len(loud_times(speaker, back.t - 3.0, back.t)), '"I can speak again" was not heard'
    assert len(notes(kiosk, SPEECH_LOST_NOTE)) == 1 and len(notes(kiosk, SPEECH_BACK_NOTE)) == 1
    sound = loud_times(speaker, again.t, again.t + 4.0)
    assert len(sound) and sound[0] - again.t < 1.5 and sound[-1] - sound[0] > 1.0, "answers are spoken again"


FALLBACK = """
from kiosk.speaker import Synthesizer
synth = Synthesizer()
samples, rate = synth.synthesize("Dystonia is a movement disorder.", 150)
print(synth.espeak, type(synth.engine).__name__, round(len(samples) / rate, 2), float(abs(samples).max()))
"""


def test_without_the_espeak_ng_program_pyttsx3_still_speaks(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    proc = subprocess.run([sys.executable, "-c", FALLBACK], cwd=PROJECT, capture_output=True, text=True, timeout=60,
                          env={"PATH": str(tmp_path / "bin"), "HOME": str(tmp_path), "PYTHONPATH": str(PROJECT)})
    assert proc.returncode == 0, proc.stderr
    program, engine, seconds, peak = proc.stdout.split()
    assert program == "None" and engine == "Engine", proc.stdout
    assert float(seconds) > 1.0 and float(peak) > 0.1, "pyttsx3 made no speech"
