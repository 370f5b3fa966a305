"""The live voice loop measured through a private virtual PulseAudio (tests/vaudio.py): latency, barge-in, CPU, RSS.

    .venv/bin/python bench/bench_live.py [--session 200] [--questions 10]

The kiosk runs as `python -m kiosk --debug voice` on the virtual devices; a flite voice (slt) asks questions into
the virtual microphone, and taps record the microphone and the speaker (harness: tests/test_loop_live.py).

- answer latency: end of the visitor's speech (microphone recording) to the first sound of the answer (speaker
  recording); the endpointer's wait is read from the kiosk's debug log ("end of utterance ... after W s of
  silence"), and processing = latency - wait. Goal: latency <= 1.0 s including the wait.
- barge-in: each answer is interrupted with "stop" after it has played for a while; end of "stop" (microphone) to
  the last sound of the kiosk (speaker). Negative: the kiosk was silenced before the word ended. Goal <= 300 ms.
- idle CPU: the kiosk's CPU seconds (utime + stime, /proc/PID/stat) over 20 s of silence, as % of one core.
  Goal < 25 %.
- RSS over a session of --session questions (each answered, then stopped): VmRSS at the start, halfway and at the
  end. Goal: no growth. This part takes about 4 s per question; everything else about 2.5 minutes.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from test_loop_live import LiveKiosk, Turn, first_loud, last_loud, synth  # noqa: E402
from vaudio import VirtualAudio  # noqa: E402

QUESTIONS = [
    "what is blepharospasm", "what causes dystonia", "how is dystonia treated", "is dystonia hereditary",
    "what are the symptoms", "does stress make it worse", "can a stroke cause dystonia", "what is writer's cramp",
    "when should I see a doctor", "what is focal dystonia", "tell me about the vocal cords",
    "is parkinsons related to dystonia",
]
PLAY_BEFORE_STOP_S = 1.5
END_RE = re.compile(r"end of utterance at ([\d.]+) after ([\d.]+) s of silence")


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]


def ask_and_stop(kiosk: LiveKiosk, question: Path, said: str, stop: Path) -> tuple[Turn, Turn | None]:
    """Ask; once the answer is audible let it play a little, then say "stop". (None: no answer came.)"""
    turn = kiosk.play(question, said)
    heard = kiosk.wait_caption(lambda c: c.who == "HEARD", turn.start, 6.0)
    if heard is None:
        return turn, None
    deadline = time.monotonic() + 3.0
    while kiosk.speaker.last_loud < heard.t and time.monotonic() < deadline:
        time.sleep(0.02)
    if kiosk.speaker.last_loud < heard.t:  # nothing said (e.g. a command): let it settle
        kiosk.wait_quiet(0.6)
        return turn, None
    time.sleep(PLAY_BEFORE_STOP_S)
    halt = kiosk.play(stop, "stop")
    kiosk.wait_caption(lambda c: c.text.startswith("(stopped"), halt.start, 3.0)
    kiosk.wait_quiet(0.6)
    turn.captions = [c for c in kiosk.captions(turn.start) if c.t < halt.start]
    halt.captions = kiosk.captions(halt.start)
    return turn, halt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=10, help="questions for latency and barge-in (default 10)")
    parser.add_argument("--session", type=int, default=200, help="questions in the RSS session (default 200)")
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-live-"))
    wavs = [synth(q, folder / f"q{i}.wav") for i, q in enumerate(QUESTIONS)]
    stop = synth("stop", folder / "stop.wav")
    wall = time.monotonic()
    with VirtualAudio() as audio:
        kiosk = LiveKiosk(audio, "--max-seconds", str(600 + 8 * args.session))
        try:
            kiosk.greeted()
            kiosk.wait_quiet()
            pairs: list[tuple[Turn, Turn | None]] = []
            for i in range(args.questions):
                pairs.append(ask_and_stop(kiosk, wavs[i % len(wavs)], QUESTIONS[i % len(wavs)], stop))

            kiosk.wait_quiet(2.0)
            cpu0, t0 = cpu_seconds(kiosk.pid), time.monotonic()
            time.sleep(args.idle_seconds)
            idle_cpu = (cpu_seconds(kiosk.pid) - cpu0) / (time.monotonic() - t0) * 100
            latency_part = time.monotonic() - wall

            rss = [("start", rss_kb(kiosk.pid))]
            session_start, answered = time.monotonic(), 0
            for i in range(args.session):
                _, halt = ask_and_stop(kiosk, wavs[i % len(wavs)], QUESTIONS[i % len(wavs)], stop)
                answered += halt is not None
                if i + 1 == args.session // 2:
                    rss.append((f"after {i + 1}", rss_kb(kiosk.pid)))
                if (i + 1) % 20 == 0:
                    print(f"session: {i + 1} questions, {answered} answered, RSS {rss_kb(kiosk.pid) / 1024:.1f} MB",
                          file=sys.stderr, flush=True)
            rss.append((f"after {args.session}", rss_kb(kiosk.pid)))
            session_s = time.monotonic() - session_start
        finally:
            speaker, mic = kiosk.close()

    ends = [(float(m.group(1)), float(m.group(2))) for t, line in kiosk.lines if (m := END_RE.search(line))]
    latency, waits, processing, after_end, barge = [], [], [], [], []
    missed = 0
    for turn, halt in pairs:
        if halt is None:
            missed += 1
            continue
        speech_end = last_loud(mic, turn.start, turn.end + 0.5)
        first = first_loud(speaker, turn.heard_at - 0.05, halt.start)
        end_log = next(((t, w) for t, w in ends if turn.start < t < turn.heard_at + 0.5), None)
        if speech_end is None or first is None or end_log is None:
            missed += 1
            continue
        latency.append(first - speech_end)
        waits.append(end_log[1])
        processing.append(first - speech_end - end_log[1])
        after_end.append(first - end_log[0])
        stop_end = last_loud(mic, halt.start, halt.end + 0.5)
        kiosk_last = last_loud(speaker, halt.start - 2.0, halt.end + 2.0)
        if stop_end is not None and kiosk_last is not None:
            barge.append(kiosk_last - stop_end)

    def ms(values: list[float]) -> str:
        return f"median {1000 * statistics.median(values):+5.0f} ms, p90 {1000 * percentile(values, 0.9):+5.0f} ms" \
            if values else "n/a"

    growth = rss[-1][1] - rss[0][1]
    print()
    print(f"live voice loop, {len(latency)} of {len(pairs)} questions measured ({missed} missed); "
          f"session {answered}/{args.session} answered in {session_s:.0f} s; latency+CPU part {latency_part:.0f} s")
    print(f"{'measure':44s} {'value':40s} goal")
    print(f"{'answer latency (speech end -> first sound)':44s} {ms(latency):40s} <= 1000 ms")
    print(f"{'  endpointer wait (silence)':44s} {ms(waits):40s}")
    print(f"{'  processing (latency - wait)':44s} {ms(processing):40s}")
    print(f"{'  end of utterance -> first sound':44s} {ms(after_end):40s}")
    if barge:
        value = f"median {1000 * statistics.median(barge):+5.0f} ms, max {1000 * max(barge):+5.0f} ms (n={len(barge)})"
    else:
        value = "n/a"
    print(f"{'barge-in (end of stop -> last kiosk sound)':44s} {value:40s} <= 300 ms")
    print(f"{f'idle CPU ({args.idle_seconds:.0f} s of silence)':44s} {f'{idle_cpu:.1f} % of one core':40s} < 25 %")
    print(f"{'RSS ' + ' / '.join(name for name, _ in rss):44s} "
          f"{' / '.join(f'{kb / 1024:.1f}' for _, kb in rss) + f' MB ({growth / 1024:+.1f} MB)':40s} no growth")


if __name__ == "__main__":
    main()
