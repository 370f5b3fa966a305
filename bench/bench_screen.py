"""Screen caption latency: from an event's publication to the browser frame that shows it.

    .venv/bin/python bench/bench_screen.py [--events 20]

A real Screen serves headless Chromium (Debian's /usr/bin/chromium). The benchmark publishes "say"
and "sentence" events as the voice loop would, spaced like speech; the page records, for each event,
when its DOM was updated and when the next animation frame ran, on the same wall clock as the
event's `at`. Goal: under 200 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser import launch, open_screen, wait_for  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from kiosk.events import Commands, EventBus, KioskEvent  # noqa: E402
from kiosk.screen import Screen  # noqa: E402

SENTENCES = ("Dystonia is a movement disorder.", "Muscles contract without being asked to.",
             "It can affect one part of the body or many.", "Treatment helps most people.")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]


def measure(count: int, gap: float) -> tuple[list[float], list[float]]:
    bus = EventBus()
    screen = Screen(bus, Commands(), ["What dystonia is"], port=0)
    screen.start()
    events: list[KioskEvent] = []
    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            _, page = open_screen(browser, screen.url)
            while len(events) < count:
                say = KioskEvent("say", text=" ".join(SENTENCES), items=SENTENCES)
                bus.publish(say)
                events.append(say)
                for i in range(len(SENTENCES)):
                    time.sleep(gap)
                    event = KioskEvent("sentence", index=i)
                    bus.publish(event)
                    events.append(event)
                time.sleep(gap)
            wanted = [e.at * 1000 for e in events]
            log = wait_for(lambda: page.evaluate(
                "ats => { const rows = ats.map(at => window.kioskLog.find(e => Math.abs(e.at - at) < 0.01"
                " && e.frame !== null)); return rows.every(r => r) ? rows : null; }", wanted),
                timeout=5, what="every event shown")
            browser.close()
    finally:
        screen.stop()
    dom = [row["dom"] - at for row, at in zip(log, wanted, strict=True)]
    frame = [row["frame"] - at for row, at in zip(log, wanted, strict=True)]
    return dom, frame


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20, help="at least this many events (default 20)")
    parser.add_argument("--gap", type=float, default=0.15, help="seconds between events (default 0.15)")
    args = parser.parse_args()
    dom, frame = measure(args.events, args.gap)
    print(f"{len(frame)} caption events, {args.gap * 1000:.0f} ms apart")
    for name, values in (("DOM updated", dom), ("frame shown", frame)):
        print(f"  {name}: median {statistics.median(values):.1f} ms, p90 {percentile(values, 0.9):.1f} ms, "
              f"max {max(values):.1f} ms")
    print(f"FIGURE screen caption latency, median | {statistics.median(frame):.1f} ms | < 200 ms")
    print(f"FIGURE screen caption latency, p90 | {percentile(frame, 0.9):.1f} ms | < 200 ms")
    return 0 if percentile(frame, 0.9) < 200 else 1


if __name__ == "__main__":
    sys.exit(main())
