"""Soak: many questions through the kiosk, watching memory, file descriptors and threads.

    .venv/bin/python bench/soak.py [--text 10000] [--spoken 1000] [--quick]

Text: questions go through the same Session the voice loop uses, in this process.
Spoken: a real `kiosk voice` process listens on a virtual microphone (a private headless
PulseAudio, as in the tests); questions are played into it one after another and each answer is
awaited in its captions. Its speech output is turned off for the soak (captions only), so a
question takes about as long as it is to say plus the end-of-speech wait. --quick: 1,000 / 20.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def proc_status(pid: int | str = "self") -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "Threads"):
            fields[key] = int(value.split()[0])
    fields["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    return fields


def questions() -> list[str]:
    rows = [json.loads(line) for line in (ROOT / "bench" / "questions-own.jsonl").read_text().splitlines() if line]
    return [r["text"] for r in rows]


def soak_text(n: int) -> None:
    from kiosk import content
    from kiosk.dialogue import Session
    from kiosk.wordindex import Index

    kb = content.load(ROOT / "content")
    session = Session(kb, Index(kb))
    qs = questions() + ["tell me more", "say that again", "topics", "number three", "start over"]
    session.handle(qs[0])
    before = proc_status()
    start = time.perf_counter()
    for i in range(n):
        session.handle(qs[i % len(qs)])
    elapsed = time.perf_counter() - start
    after = proc_status()
    print(f"text: {n} questions in {elapsed:.1f} s = {n / elapsed:.0f} answers/s; RSS {before['VmRSS'] / 1024:.1f} -> "
          f"{after['VmRSS'] / 1024:.1f} MB; fds {before['fds']} -> {after['fds']}; "
          f"threads {before['Threads']} -> {after['Threads']}")
    print(f"FIGURE soak text: answers/s | {n / elapsed:.0f} ({n} questions) | ")
    print(f"FIGURE soak text: RSS growth | {(after['VmRSS'] - before['VmRSS']) / 1024:+.1f} MB | < 10 MB")


def synthesize(texts: list[str], folder: Path) -> list[Path]:
    files = []
    for i, text in enumerate(texts):
        raw, out = folder / f"raw{i}.wav", folder / f"q{i}.wav"
        subprocess.run(["flite", "-voice", "slt", "-t", text, "-o", str(raw)], check=True)
        subprocess.run(["sox", "-D", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out)], check=True)
        files.append(out)
    return files


def soak_spoken(n: int) -> None:
    from vaudio import VirtualAudio

    with tempfile.TemporaryDirectory() as tmp, VirtualAudio() as audio:
        folder = Path(tmp)
        files = synthesize(questions()[:24], folder)
        config = folder / "soak.toml"
        config.write_text("[speech]\nenabled = false\n[voice]\nidle_reset_s = 3600.0\n")
        proc = subprocess.Popen([sys.executable, "-m", "kiosk", "--config", str(config), "voice"], cwd=ROOT,
                                env=audio.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                stdin=subprocess.DEVNULL)
        heard = threading.Semaphore(0)
        lines: list[str] = []

        def read() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append(line)
                if line.startswith("HEARD:"):
                    heard.release()

        threading.Thread(target=read, daemon=True).start()
        time.sleep(8)  # load, greet, and let the capture stream start delivering
        samples = []
        start = time.perf_counter()
        missed = 0
        for i in range(n):
            if i in (0, 1, 2, 10, max(1, n // 10), n // 2):
                samples.append((i, proc_status(proc.pid)))
            audio.play_into_mic(files[i % len(files)])
            if not heard.acquire(timeout=8):
                missed += 1
        elapsed = time.perf_counter() - start
        samples.append((n, proc_status(proc.pid)))
        proc.terminate()
        proc.wait(timeout=10)
    first, warm, last = samples[0][1], samples[1][1], samples[-1][1]
    print(f"spoken: {n} questions in {elapsed:.0f} s ({n / elapsed:.2f}/s), {missed} not heard; " + "; ".join(
        f"after {i}: RSS {s['VmRSS'] / 1024:.1f} MB, fds {s['fds']}, threads {s['Threads']}" for i, s in samples))
    print(f"FIGURE soak spoken: RSS growth after warm-up | {(last['VmRSS'] - warm['VmRSS']) / 1024:+.1f} MB "
          f"(question {samples[1][0]} to {n}; {(last['VmRSS'] - first['VmRSS']) / 1024:+.1f} from the start) | < 10 MB")
    print(f"FIGURE soak spoken: fds / threads start -> end | {first['fds']}->{last['fds']} / "
          f"{first['Threads']}->{last['Threads']} | no growth")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--text", type=int, default=10_000)
    parser.add_argument("--spoken", type=int, default=1_000)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    soak_text(1_000 if args.quick else args.text)
    soak_spoken(20 if args.quick else args.spoken)


if __name__ == "__main__":
    main()
