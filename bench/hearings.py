"""Hear spoken sets once, then score understanding on the stored hearings in seconds.

    .venv/bin/python bench/hearings.py hear /tmp/heard.jsonl /tmp/heldout [/tmp/own-audio ...] [--batch 40]
    .venv/bin/python bench/hearings.py judge /tmp/heard.jsonl [--by set|variant] [--list]

Recognition takes minutes per set; a change to the matcher (`kiosk/matcher.py`, `kiosk/wordindex.py`)
does not change what was heard. `hear` stores each recording's transcript with its alternatives, in
manifest order with one recogniser per folder as `kiosk ask --audio` does (`--batch N`: a fresh one every
N files, as ../shared/eval-dev/score.py runs the kiosk in batches of 40). `judge` then answers from the
stored hearings with the code as it is now: right / resolved / false / out of scope declined, as
bench/score_own.py counts them (`tally`). Folders are bench/make_own_audio.py's (topics in the manifest) or a
manifest of the spoken dev set, judged by its expected phrases when --dev-questions is given.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from score_own import report, tally

from kiosk.asking import ask_text
from kiosk.audio_in import load_utterance
from kiosk.config import load_settings
from kiosk.matcher import Index, best_hearing
from kiosk.messages import Transcript, Word
from kiosk.recognizer import create_recognizer, with_completeness
from kiosk.speechdomain import load_for_speech


def as_json(t: Transcript) -> dict[str, Any]:
    return {"text": t.text, "words": [[w.text, w.confidence] for w in t.words], "confidence": t.confidence,
            "completeness": t.completeness, "alternatives": [as_json(a) for a in t.alternatives]}


def from_json(d: dict[str, Any]) -> Transcript:
    return Transcript(d["text"], tuple(Word(w, c) for w, c in d["words"]), d["confidence"], engine="pocketsphinx",
                      completeness=d["completeness"], alternatives=tuple(from_json(a) for a in d["alternatives"]))


def hear(out: Path, folders: list[Path], batch: int) -> None:
    settings = load_settings()
    _, domain = load_for_speech(settings.content_dir)
    with out.open("w") as sink:
        for folder in folders:
            rows = [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines() if line]
            recognizer = None
            for n, row in enumerate(rows):
                if recognizer is None or (batch and n % batch == 0):
                    recognizer = create_recognizer("pocketsphinx", settings.models_dir, None, domain)
                utterance = load_utterance(folder / row["file"], denoise=settings.recognition.denoise)
                heard = None
                if utterance.has_speech:
                    heard = as_json(with_completeness(recognizer.recognize(utterance.pcm), utterance.speech_s))
                sink.write(json.dumps({**row, "set": folder.name, "heard": heard}) + "\n")
                sink.flush()
            print(f"{folder}: {len(rows)} recordings heard", file=sys.stderr)


EXPECTED = "(the expected phrases)"
"""A dev-set question's wanted topic when the answer lacks its phrases: no topic is called so."""


def judge(stored: Path, by: str, listing: bool, dev_questions: Path | None) -> None:
    settings = load_settings()
    kb, _ = load_for_speech(settings.content_dir)
    index = Index(kb)
    expected = {}
    if dev_questions is not None:
        expected = {q["id"]: q for q in map(json.loads, dev_questions.read_text().splitlines()) if q}
    pairs = []
    for line in stored.read_text().splitlines():
        row = json.loads(line)
        record: dict[str, Any] = {"answered": False, "confirm": False, "topic": None, "answer": None, "heard": ""}
        if row["heard"] and row["heard"]["text"]:
            heard = best_hearing(from_json(row["heard"]), index, settings.match)
            record = ask_text("", kb, index, settings, heard=heard)
        question = expected.get(row["id"])
        if question is not None:  # the dev set: right when the answer holds the expected phrases
            answer = (record["answer"] or "").lower()
            found = all(any(p.lower() in answer for p in group) for group in question["expect"])
            row["topic"] = None if question["ood"] else record["topic"] if found else EXPECTED
        pairs.append((row, record))
        if listing:
            decision = "answer" if record["answered"] else "confirm" if record["confirm"] else "decline"
            print(row["id"], row["variant"], decision, record["topic"], "|", record["heard"])
    report(tally(pairs, by), by)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    h = sub.add_parser("hear")
    h.add_argument("out", type=Path)
    h.add_argument("folders", nargs="+", type=Path)
    h.add_argument("--batch", type=int, default=0, help="a fresh recogniser every N recordings (0: one per folder)")
    j = sub.add_parser("judge")
    j.add_argument("stored", type=Path)
    j.add_argument("--by", choices=("set", "variant"), default="set")
    j.add_argument("--list", action="store_true", help="one line per recording")
    j.add_argument("--dev-questions", type=Path, help="../shared/eval-dev/questions.jsonl, for a dev-set manifest")
    args = parser.parse_args()
    if args.command == "hear":
        hear(args.out, args.folders, args.batch)
    else:
        judge(args.stored, args.by, args.list, args.dev_questions)


if __name__ == "__main__":  # the recogniser's second decoder is a spawned process that imports this module
    main()
