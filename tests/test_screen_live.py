"""The screen and the voice are one session: the real voice loop on the virtual audio, and its screen.

A press of "More" on the screen continues the answer the kiosk is speaking; a spoken "stop" reaches
the screen as a "stopped" event (which clears the highlight: tests/test_screen.py shows the page does).
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.request
from pathlib import Path

from test_loop_live import LiveKiosk, synth
from vaudio import VirtualAudio

pytest_plugins = ["vaudio"]


def screen_url(kiosk: LiveKiosk, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(r"kiosk screen: (http://\S+)", kiosk.output())
        if found:
            return found.group(1)
        time.sleep(0.1)
    raise AssertionError(f"no screen address:\n{kiosk.output()}")


def follow(url: str, events: list[dict[str, object]]) -> None:
    with urllib.request.urlopen(url + "events", timeout=60) as stream:
        for raw in stream:
            line = raw.decode().strip()
            if line.startswith("data:"):
                events.append(json.loads(line[5:]))


def press(url: str, name: str) -> int:
    request = urllib.request.Request(url + "command", data=json.dumps({"name": name}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return int(response.status)


def test_screen_presses_and_voice_share_one_session(virtual_audio: VirtualAudio, tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text("[screen]\nport = 0\n")
    question = synth("what is blepharospasm", tmp_path / "q.wav")
    stop = synth("stop", tmp_path / "stop.wav")
    kiosk = LiveKiosk(virtual_audio, config=config)
    try:
        url = screen_url(kiosk)
        events: list[dict[str, object]] = []
        threading.Thread(target=follow, args=(url, events), daemon=True).start()
        kiosk.greeted()
        kiosk.wait_quiet()
        turn = kiosk.turn(question, "what is blepharospasm")
        assert any(c.who == "KIOSK" and c.text.startswith("Eyelids.") for c in turn.captions), kiosk.output()
        assert any(e["kind"] == "heard" and e["text"] == "what is blepharospasm" for e in events), events
        assert any(e["kind"] == "say" and str(e["text"]).startswith("Eyelids.") for e in events)

        pressed = time.monotonic()
        assert press(url, "more") == 200
        more = kiosk.wait_caption(lambda c: c.who == "KIOSK" and c.text.startswith("Areas of the body"), pressed)
        assert more is not None, kiosk.output()  # the spoken answer goes on with the rest
        time.sleep(1.5)  # it is reading the list aloud now
        assert any(e["kind"] == "sentence" for e in events)
        kiosk.play(stop, "stop")
        stopped = kiosk.wait_caption(lambda c: c.text.startswith("(stopped by voice"), pressed, 5.0)
        assert stopped is not None, kiosk.output()
        deadline = time.monotonic() + 3
        while not any(e["kind"] == "stopped" for e in events) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any(e["kind"] == "stopped" for e in events), events
    finally:
        kiosk.close()
