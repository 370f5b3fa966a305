"""Every figure of the project in one table: runs each benchmark and collects its FIGURE lines.

    ./setup.sh bench            (or .venv/bin/python bench/run_all.py [--quick])

A benchmark reports a figure by printing `FIGURE <name> | <value> | <goal>`; everything else it
prints is shown under its own heading. `--quick` passes --quick to the benchmarks that take long.
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHES = ["bench_text.py", "bench_asr.py", "bench_live.py", "bench_screen.py", "soak.py"]


def machine() -> str:
    cores = len(__import__("os").sched_getaffinity(0))
    mem = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), "?")
    return f"{platform.machine()}, {cores} cores, {int(mem) // 1024 // 1024 if mem != '?' else '?'} GiB, " \
           f"Python {platform.python_version()}, {platform.platform()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    figures: list[tuple[str, str, str]] = []
    for name in BENCHES:
        script = ROOT / "bench" / name
        if not script.is_file():
            continue
        cmd = [sys.executable, str(script)] + (["--quick"] if args.quick and name == "soak.py"
                                               else [])
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        print(f"\n## {name} ({time.perf_counter() - start:.0f} s, exit {proc.returncode})")
        for line in proc.stdout.splitlines():
            if line.startswith("FIGURE "):
                parts = [p.strip() for p in line[len("FIGURE "):].split("|")]
                figures.append((parts[0], parts[1] if len(parts) > 1 else "", parts[2] if len(parts) > 2 else ""))
            else:
                print(line)
        if proc.returncode:
            print(proc.stderr[-2000:])
    print(f"\nmachine: {machine()}\n")
    width = max((len(f[0]) for f in figures), default=10)
    print(f"| {'figure':{width}} | value | goal |")
    print(f"|{'-' * (width + 2)}|-------|------|")
    for name, value, goal in figures:
        print(f"| {name:{width}} | {value} | {goal} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
