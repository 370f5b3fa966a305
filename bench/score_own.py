"""Score the kiosk on a spoken own set (bench/make_own_audio.py), per voice, as `ask --audio` answers.

    .venv/bin/python bench/score_own.py /tmp/heldout [/tmp/heldout-pause ...] [--save OUT.jsonl]

An in-scope question counts as right when it is answered with its topic (or one of its "also" topics),
resolved when answered or confirmed so; an out-of-scope one must be declined. A false answer is any
answer that is not right. Files are heard in manifest order by one `kiosk ask` run per folder.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def ask(folder: Path) -> list[tuple[dict, dict]]:
    """(manifest row, kiosk record) for every file of the folder."""
    rows = [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines() if line]
    kiosk = str(ROOT / ".venv" / "bin" / "kiosk")
    command = [kiosk, "ask", "--json", "--audio", *(str(folder / r["file"]) for r in rows)]
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    records = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if len(records) != len(rows):
        sys.exit(f"{folder}: {len(rows)} files but {len(records)} records")
    return list(zip(rows, records, strict=True))


def tally(pairs: list[tuple[dict, dict]], by: str = "variant") -> dict[str, Counter[str]]:
    """Right / resolved / false / out of scope declined per value of the manifest field `by`, and ALL."""
    counts: dict[str, Counter[str]] = {}
    for row, record in pairs:
        decision = "answer" if record["answered"] else "confirm" if record.get("confirm") else "decline"
        topic = row.get("topic") or []  # a question may have several right topics: a list, or "also"
        wanted = {*(topic if isinstance(topic, list) else [topic]), *row.get("also", ())}
        for key in (row[by], "ALL"):
            c = counts.setdefault(key, Counter())
            if wanted:
                c["in"] += 1
                c["right"] += decision == "answer" and record["topic"] in wanted
                c["resolved"] += decision != "decline" and record["topic"] in wanted
            else:
                c["ood"] += 1
                c["declined"] += decision == "decline"
            c["false"] += decision == "answer" and record["topic"] not in wanted
    return counts


def report(counts: dict[str, Counter[str]], by: str = "variant") -> None:
    print(f"{by:28s} {'right':>9s} {'resolved':>9s} {'false':>7s} {'OOD declined':>13s}")
    for key, c in sorted(counts.items(), key=lambda kv: (kv[0] == "ALL", kv[0])):
        print(f"{key:28s} {c['right']:4d}/{c['in']:<4d} {c['resolved']:4d}/{c['in']:<4d} {c['false']:7d} "
              f"{c['declined']:6d}/{c['ood']:<6d}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--save", type=Path, help="write (file, heard, decision, topic) lines here")
    args = parser.parse_args()
    pairs = [pair for folder in args.folders for pair in ask(folder)]
    report(tally(pairs))
    if args.save:
        with args.save.open("w") as out:
            for row, record in pairs:
                out.write(json.dumps({"file": row["file"], "text": row["text"], "heard": record.get("heard"),
                                      "answered": record["answered"], "confirm": record.get("confirm"),
                                      "topic": record["topic"], "want": row.get("topic")}) + "\n")


if __name__ == "__main__":
    main()
