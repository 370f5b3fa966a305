"""An unplugged microphone: the kiosk notices, keeps trying with back-off, and resumes by itself.

Measured: when only a PulseAudio source disappears, PulseAudio moves the capture to another source
itself (the stream never stalls), so the fault simulated here is the harder one: the sound server,
and the microphone with it, gone for seconds and then back."""

from __future__ import annotations

import json
import time

from vaudio import VirtualAudio

SUPERVISED = r"""
import json, sys, time
from kiosk.mic import MicSupervisor
events = []
sup = MicSupervisor("mic", lambda ok, why: events.append([round(time.monotonic(), 2), ok, why]))
start = time.monotonic()
blocks = []
while time.monotonic() - start < float(sys.argv[1]):
    if sup.read(0.2) is not None:
        blocks.append(round(time.monotonic(), 2))
sup.stop()
print(json.dumps({"events": events, "first": blocks[:1], "last": blocks[-1:], "n": len(blocks)}))
"""


def test_microphone_unplugged_and_back_is_reported_and_resumed() -> None:
    with VirtualAudio() as audio:  # its own server: this test kills it
        check_unplug(audio)


def check_unplug(virtual_audio: VirtualAudio) -> None:
    proc = virtual_audio.popen_python(SUPERVISED, "26")
    time.sleep(5)  # opened and delivering
    virtual_audio.crash()  # the microphone (with its sound server) is gone
    unplugged = time.monotonic()
    time.sleep(7)
    virtual_audio.revive()
    replugged = time.monotonic()
    out, err = proc.communicate(timeout=40)
    result = json.loads(out.strip().splitlines()[-1])
    events = result["events"]
    assert [ok for _, ok, _ in events] == [True, False, True], (events, err)
    lost_at, back_at = events[1][0], events[2][0]
    assert unplugged < lost_at < unplugged + 5, "the loss is noticed within the stall time"
    assert "microphone" in events[1][2]
    assert replugged < back_at < replugged + 12, "reopened by itself after it came back (back-off <= 8 s here)"
    assert result["last"][0] > back_at + 1  # and audio flows again


def test_running_kiosk_says_it_cannot_hear_and_resumes_by_itself(tmp_path) -> None:
    """The real `kiosk voice`: the sound server (microphone and speaker) dies mid-session and comes back."""
    from test_loop_live import LiveKiosk, synth

    from kiosk import phrases

    question = synth("what is blepharospasm", tmp_path / "q.wav")
    with VirtualAudio() as audio:  # its own server: this test kills it
        kiosk = LiveKiosk(audio)
        try:
            kiosk.greeted()
            kiosk.wait_quiet()
            audio.crash()
            lost_at = time.monotonic()
            lost = kiosk.wait_caption(lambda c: c.text == phrases.MIC_LOST, lost_at, 15)
            assert lost is not None, kiosk.output()
            print(f"loss said {lost.t - lost_at:.1f} s after the server died")
            time.sleep(3)
            audio.revive()
            revived_at = time.monotonic()
            back = kiosk.wait_caption(lambda c: c.text == phrases.MIC_BACK, revived_at, 40)
            assert back is not None, kiosk.output()
            print(f"return said {back.t - revived_at:.1f} s after the server came back")
            time.sleep(6)  # what it says on its return (and "I can speak again") is over
            asked = time.monotonic()
            audio.play_into_mic(question)
            answer = kiosk.wait_caption(lambda c: c.who == "KIOSK" and c.text.startswith("Eyelids."), asked, 20)
            assert answer is not None, kiosk.output()
            assert kiosk.proc.poll() is None and "Traceback" not in kiosk.output()
            notes = [c.text for c in kiosk.captions() if c.text in (phrases.MIC_LOST, phrases.MIC_BACK)]
            assert notes == [phrases.MIC_LOST, phrases.MIC_BACK], notes  # each said once, not on every retry
        finally:
            kiosk.proc.terminate()
            kiosk.proc.wait(timeout=10)
            for tap in (kiosk.speaker, kiosk.mic):  # their server died under them: they are not asked for audio
                tap.proc.kill()
