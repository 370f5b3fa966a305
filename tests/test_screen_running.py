"""The kiosk screen in real headless Chromium against a running kiosk: `kiosk voice` on the virtual audio.

A visitor asks a question aloud (flite, played into the virtual microphone). The page must show the answer
caption no later than 200 ms after the kiosk starts to say it: when the caption appeared is timed in the page
(a MutationObserver on the captions, and the animation frame after it), when the kiosk started to speak is read
off the recorded speaker (tests/vaudio.py), and the two are put on one clock (time.monotonic). Then a real
pointer click on "More" must continue the answer aloud and in the captions, and a spoken "stop" must clear the
page's highlight. Screenshots of the states go to test-artifacts/screen/running-*.png for people to look at.

One kiosk serves the whole script (start-up and greeting take ~10 s), run once by a module-scoped fixture; the
two tests then check its parts, as tests/test_loop_live.py does.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from browser import ARTIFACTS, Pointer, center, launch, open_screen
from playwright.sync_api import Page, sync_playwright
from test_loop_live import Caption, LiveKiosk, Turn, first_loud, last_loud, loud_times, synth
from test_screen_live import screen_url
from vaudio import Recording, VirtualAudio

pytest_plugins = ["vaudio"]

QUESTION = "what is blepharospasm"
ANSWER = "Eyelids."
"""The first sentence of the answer (the topic's title)."""
MORE = "Areas of the body affected"
"""How the rest of that answer begins."""
LATENCY_MS = 200
SLOW_S = 20.0
"""Generous waits for things that take a second or two on an idle machine (this one has 2 busy cores)."""

WATCH = """() => {
  // Independent of the page's own code: when did the captions change, and what is highlighted.
  const captions = document.getElementById("captions");
  const shown = (window.testCaptions = []);
  const marks = (window.testHighlights = []);
  let lastText = null, lastMark = null;
  const look = () => {
    const first = captions.querySelector(".sentence");
    const text = first ? first.textContent : "";
    if (text !== lastText) {
      lastText = text;
      const entry = { text, all: captions.textContent, dom: Date.now(), frame: null };
      shown.push(entry);
      requestAnimationFrame(() => { entry.frame = Date.now(); });  // the frame that paints it
    }
    const mark = captions.dataset.current ?? "-1";
    if (mark !== lastMark) {
      lastMark = mark;
      marks.push({ index: Number(mark), dom: Date.now() });
    }
  };
  new MutationObserver(look).observe(captions, { childList: true, subtree: true, characterData: true,
                                                  attributes: true, attributeFilter: ["data-current"] });
  look();
}"""


def shown(prefix: str) -> str:
    """A page predicate: a caption starting with `prefix` has appeared and been painted."""
    return f"() => window.testCaptions.some(e => e.text.startsWith({prefix!r}) && e.frame !== null)"


def current(page: Page) -> list[int]:
    """The highlighted sentences, as tests/test_screen.py reads them."""
    return page.eval_on_selector_all("#captions .sentence.current", "els => els.map(e => +e.dataset.index)")


def settle(predicate: Callable[[], Any], timeout: float) -> Any:
    """Poll until `predicate` is truthy or `timeout` passes; its last value either way (the tests judge it)."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return value


def wall_minus_monotonic() -> float:
    """time.time() - time.monotonic(), to put the page's Date.now() on the recordings' clock."""
    samples = []
    for _ in range(7):
        samples.append(time.time() - time.monotonic())
        time.sleep(0.001)
    return statistics.median(samples)


def screenshot(page: Page, name: str) -> Path:
    """After the highlight's 150 ms transition, so the picture shows the settled state."""
    page.wait_for_timeout(300)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"running-{name}.png"
    page.screenshot(path=str(path))
    return path


@dataclass
class Run:
    output: str
    offset: float
    """time.time() - time.monotonic() (seconds)."""
    clock_check: tuple[float, float, float]
    """(time.time() before, the page's Date.now(), time.time() after), all in ms: one clock for both."""
    question: Turn
    pressed: float
    """time.monotonic() just before the pointer went down on "More"."""
    more: Caption | None
    highlight_before_stop: list[int]
    stop: Turn
    stopped: Caption | None
    highlight_after_stop: list[int]
    state_after_stop: str
    captions_after_stop: list[str]
    captions: list[dict[str, Any]]
    """The page's caption changes (WATCH): text of the first sentence, dom / frame times (ms, wall clock)."""
    highlights: list[dict[str, Any]]
    events: list[dict[str, Any]]
    """The page's own record of the events it applied (window.kioskLog)."""
    speaker: Recording
    mic: Recording
    shots: dict[str, Path]

    def monotonic(self, ms: float) -> float:
        return ms / 1000 - self.offset

    def caption(self, prefix: str, after: float = 0.0) -> dict[str, Any]:
        found = [e for e in self.captions if e["text"].startswith(prefix) and self.monotonic(e["dom"]) >= after]
        assert found, f"the page never showed {prefix!r}: {[e['text'] for e in self.captions]}\n{self.output}"
        return found[0]

    def speech_end(self, turn: Turn) -> float:
        end = last_loud(self.mic, turn.start, turn.end + 0.5)
        assert end is not None, f"nothing of {turn.said!r} reached the microphone"
        return end


@pytest.fixture(scope="module")
def run(virtual_audio: VirtualAudio, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    folder = tmp_path_factory.mktemp("screen-running")
    config = folder / "kiosk.toml"
    config.write_text("[screen]\nport = 0\n")
    question = synth(QUESTION, folder / "question.wav")
    stop = synth("stop", folder / "stop.wav")
    shots: dict[str, Path] = {}
    kiosk = LiveKiosk(virtual_audio, "--max-seconds", "300", config=config)
    try:
        url = screen_url(kiosk)
        with sync_playwright() as playwright:
            browser = launch(playwright)
            try:
                kiosk.greeted()
                kiosk.wait_quiet()
                _, page = open_screen(browser, url)  # after the greeting: the page connects on a quieter machine
                page.evaluate(WATCH)
                page.wait_for_selector("body[data-state=listening]", timeout=SLOW_S * 1000)
                shots["listening"] = screenshot(page, "1-listening")

                offset = wall_minus_monotonic()
                before = time.time() * 1000
                in_page = float(page.evaluate("Date.now()"))
                clock_check = (before, in_page, time.time() * 1000)

                turn = kiosk.play(question, QUESTION)
                page.wait_for_function(shown(ANSWER), timeout=SLOW_S * 1000, polling=100)
                page.wait_for_selector("#captions .sentence.current", timeout=SLOW_S * 1000)
                shots["speaking"] = screenshot(page, "2-speaking-caption")
                kiosk.wait_caption(lambda c: c.who == "KIOSK", turn.start, SLOW_S)
                kiosk.wait_quiet()
                turn.captions = kiosk.captions(turn.start)

                pressed = time.monotonic()
                Pointer(page, "mouse").tap(*center(page, "#btn-more"))
                more = kiosk.wait_caption(lambda c: c.who == "KIOSK" and c.text.startswith(MORE), pressed, SLOW_S)
                page.wait_for_function(shown(MORE), timeout=SLOW_S * 1000, polling=100)
                page.wait_for_selector("#captions .sentence.current", timeout=SLOW_S * 1000)
                shots["more"] = screenshot(page, "3-more-speaking")
                time.sleep(max(0.0, pressed + 2.5 - time.monotonic()))  # it is reading the list aloud now
                highlight_before_stop = current(page)

                halt = kiosk.play(stop, "stop")
                stopped = kiosk.wait_caption(lambda c: c.text.startswith("(stopped by voice"), halt.start, SLOW_S)
                settle(lambda: current(page) == [] and page.get_attribute("body", "data-state") == "listening", 5.0)
                highlight_after_stop = current(page)
                state_after_stop = page.get_attribute("body", "data-state") or ""
                shots["stopped"] = screenshot(page, "4-after-stop")
                kiosk.wait_quiet()
                halt.captions = kiosk.captions(halt.start)
                captions_after_stop = page.locator("#captions .sentence").all_text_contents()
                captions = page.evaluate("window.testCaptions")
                highlights = page.evaluate("window.testHighlights")
                events = page.evaluate("window.kioskLog")
            finally:
                browser.close()
    finally:
        speaker, mic = kiosk.close()
        print(kiosk.output())
        for name, path in shots.items():
            print(f"screenshot, {name}: {path}")
    yield Run(kiosk.output(), offset, clock_check, turn, pressed, more, highlight_before_stop, halt, stopped,
              highlight_after_stop, state_after_stop, captions_after_stop, captions, highlights, events, speaker,
              mic, shots)


def test_the_answer_caption_is_on_screen_when_the_kiosk_starts_to_speak(run: Run) -> None:
    before, in_page, after = run.clock_check
    assert before - 1 <= in_page <= after + 1, "the page and the test do not share one wall clock"
    turn = run.question
    assert turn.heard == [QUESTION], run.output
    assert turn.replies and turn.replies[0].startswith(f"{ANSWER} Rapid blinking"), run.output

    end = run.speech_end(turn)
    sound = first_loud(run.speaker, end, end + 5.0)
    assert sound is not None, "the answer was not heard on the speaker"
    print(f"first sound of the answer {sound - end:.2f} s after the question ended")
    assert 0.3 < sound - end <= 3.0, "that is not the answer's first sound"

    caption = run.caption(ANSWER, after=turn.start)
    dom, frame = run.monotonic(caption["dom"]), run.monotonic(caption["frame"])
    said = [e for e in run.events if e["kind"] == "say" and abs(e["dom"] - caption["dom"]) < 50]
    print(f"answer caption: in the DOM {1000 * (dom - sound):+.0f} ms, painted {1000 * (frame - sound):+.0f} ms "
          "from the first sound of the answer (negative: before it)"
          + (f"; painted {caption['frame'] - said[0]['at']:.0f} ms after the kiosk published it" if said else ""))
    assert 1000 * (frame - sound) <= LATENCY_MS, "the caption came too late for a visitor who reads rather than hears"
    assert run.shots["speaking"].is_file() and run.shots["listening"].is_file()


def test_a_more_click_continues_aloud_and_a_spoken_stop_clears_the_highlight(run: Run) -> None:
    assert run.more is not None, f"the More click did not continue the answer:\n{run.output}"
    assert run.stopped is not None, f"the spoken stop was not taken:\n{run.output}"

    # aloud: the continuation starts soon after the click, and is spoken until the visitor says stop
    sound = loud_times(run.speaker, run.pressed, run.stop.start)
    assert len(sound), "nothing was said after the More click"
    print(f"More: first sound {sound[0] - run.pressed:.2f} s after the click, {sound[-1] - sound[0]:.2f} s of "
          "speech before 'stop'")
    assert sound[0] - run.pressed < 3.0 and sound[-1] - sound[0] > 1.0
    caption = run.caption(MORE, after=run.pressed)
    print(f"More caption painted {1000 * (run.monotonic(caption['frame']) - sound[0]):+.0f} ms from its first sound,"
          f" {run.monotonic(caption['frame']) - run.pressed:.2f} s after the click")
    assert caption["all"].strip().startswith(MORE) and "Hand and forearm" in caption["all"], caption

    # the spoken stop: the highlight was on the list being read, and is cleared once the kiosk has stopped
    assert run.highlight_before_stop == [0], "the sentence being read was not highlighted before stop"
    assert run.highlight_after_stop == [], "a spoken stop left the highlight on"
    stop_end = run.speech_end(run.stop)
    last = last_loud(run.speaker, run.stop.start, stop_end + 3.0)
    assert last is not None and last - stop_end <= 0.3, "the kiosk did not fall silent at 'stop'"
    cleared = [h for h in run.highlights if h["index"] == -1 and run.monotonic(h["dom"]) > run.stop.start]
    assert cleared, run.highlights
    print(f"stop: the kiosk's last sound {1000 * (last - stop_end):+.0f} ms, highlight cleared "
          f"{1000 * (run.monotonic(cleared[0]['dom']) - stop_end):+.0f} ms after the end of 'stop'")
    assert any(e["kind"] == "stopped" and run.monotonic(e["dom"]) > run.stop.start for e in run.events), \
        "the page was not told the kiosk stopped"
    assert run.state_after_stop == "listening", run.state_after_stop
    assert run.captions_after_stop and run.captions_after_stop[0].startswith(MORE), "the answer must stay on screen"
    for path in run.shots.values():
        assert path.is_file(), path
