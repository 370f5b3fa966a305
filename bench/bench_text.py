"""Text answering figures: match time per question, cold-start wall time of `kiosk ask`, peak RSS.

    .venv/bin/python bench/bench_text.py

Questions come from bench/questions-own.jsonl (never the eval set), repeated to get stable figures.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]


def match_times() -> list[float]:
    from kiosk import content
    from kiosk.matcher import Index, timed_match

    index = Index(content.load(ROOT / "content"))
    questions = [json.loads(line)["text"] for line in (ROOT / "bench" / "questions-own.jsonl").read_text().splitlines()]
    timed_match("warm up the word lists", index)
    return [timed_match(q, index)[1] for _ in range(20) for q in questions]


def cold_start(runs: int = 5) -> list[float]:
    kiosk = str(Path(sys.executable).parent / "kiosk")
    walls = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([kiosk, "ask", "--text", "what causes dystonia"], check=True, capture_output=True, cwd=ROOT)
        walls.append(time.perf_counter() - start)
    return walls


def main() -> None:
    times = match_times()
    walls = cold_start()
    child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    own_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"match time per question: median {statistics.median(times):.3f} ms, p90 {percentile(times, 0.9):.3f} ms "
          f"({len(times)} matches; goal < 5 ms)")
    print(f"cold start `kiosk ask --text` (one question): median {statistics.median(walls):.2f} s, "
          f"max {max(walls):.2f} s over {len(walls)} runs (goal < 1 s)")
    print(f"peak RSS: kiosk ask process {child_rss:.0f} MB; this benchmark process {own_rss:.0f} MB")
    print(f"FIGURE match time median / p90 | {statistics.median(times):.2f} / {percentile(times, 0.9):.2f} ms | < 5 ms")
    print(f"FIGURE cold start, kiosk ask --text | {statistics.median(walls):.2f} s | < 1 s")
    print(f"FIGURE peak RSS, kiosk ask --text | {child_rss:.0f} MB | ")


if __name__ == "__main__":
    main()
