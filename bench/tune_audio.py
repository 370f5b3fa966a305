"""Tune how recognition confidence and matching combine, on the kiosk's own spoken questions.

    .venv/bin/python bench/make_own_audio.py --out /tmp/own-audio
    .venv/bin/python bench/tune_audio.py --audio-dir /tmp/own-audio [--engine pocketsphinx]

Recognises every file once (cached in the audio folder), prints word error rate per voice, then for
a grid of settings how many questions would be answered right / wrong, confirmed, or declined.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from dataclasses import replace
from pathlib import Path

from ps_wer import edit_distance

from kiosk.audio_in import load_utterance
from kiosk.config import load_settings
from kiosk.matcher import Index, MatchSettings, match
from kiosk.messages import Transcript, Word
from kiosk.recognizer import create_recognizer, with_completeness
from kiosk.speechdomain import load_for_speech


def wer(ref: str, hyp: str) -> tuple[int, int]:
    """(word errors, reference words), apostrophes and case ignored."""
    r, h = ref.lower().replace("'", "").split(), hyp.lower().replace("'", "").split()
    return edit_distance(r, h), len(r)


def transcribe(audio_dir: Path, engine: str) -> list[dict]:
    cache = audio_dir / f"transcripts-{engine}.json"
    if cache.is_file():
        return json.loads(cache.read_text())
    settings = load_settings()
    kb, domain = load_for_speech(settings.content_dir)
    recognizer = create_recognizer(engine, settings.models_dir, None, domain)
    rows = [json.loads(line) for line in (audio_dir / "manifest.jsonl").read_text().splitlines() if line]
    start, audio_s = time.perf_counter(), 0.0
    for row in rows:
        pcm = load_utterance(audio_dir / row["file"]).pcm
        audio_s += len(pcm) / 32000
        t = with_completeness(recognizer.recognize(pcm), len(pcm) / 32000)  # as `ask --audio` does
        row.update(heard=t.text, asr=t.confidence, completeness=t.completeness,
                   words=[[w.text, w.confidence] for w in t.words])
    took = time.perf_counter() - start
    print(f"recognised {len(rows)} files in {took:.1f} s (real-time factor {took / max(audio_s, 1e-9):.3f})")
    cache.write_text(json.dumps(rows))
    return rows


def heard_as(row: dict) -> Transcript:
    words = tuple(Word(w, c) for w, c in row["words"])
    return Transcript(row["heard"], words, row["asr"], engine="cached", completeness=row.get("completeness", 1.0))


def summary(rows: list[dict], index: Index) -> None:
    """Right / wrong / confirm / decline / out-of-scope answered at the default MatchSettings, per voice."""
    settings = MatchSettings()
    table: dict[str, list[int]] = {}
    for row in rows:
        m = match(row["heard"], index, settings, heard_as(row)) if row["heard"] else None
        decision = m.decision.value if m else "decline"
        wanted = row.get("topic") if isinstance(row.get("topic"), list) else [row.get("topic")]
        ok = m is not None and m.best is not None and m.best.topic_id in wanted
        for key in (row["variant"], "ALL"):
            acc = table.setdefault(key, [0] * 6)
            if row.get("ood"):
                acc[5] += decision == "answer"
            elif decision == "answer":
                acc[0 if ok else 1] += 1
            else:
                acc[2 if decision == "confirm" else 3] += 1
            acc[4] += bool(row.get("ood"))
    print(f"default settings: {'voice':>14} {'right':>5} {'wrong':>5} {'conf':>5} {'decl':>5} | ood ans/n")
    for key, (right, wrong, conf, decl, n_ood, oans) in sorted(table.items()):
        print(f"{'':17} {key:>14} {right:5d} {wrong:5d} {conf:5d} {decl:5d} | {oans}/{n_ood}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--audio-dir", type=Path, required=True)
    parser.add_argument("--engine", default="pocketsphinx")
    args = parser.parse_args()
    rows = transcribe(args.audio_dir, args.engine)
    by_voice: dict[str, list[int]] = {}
    for row in rows:
        errors, n = wer(row["text"], row["heard"])
        acc = by_voice.setdefault(row["variant"], [0, 0])
        acc[0] += errors
        acc[1] += n
    print("WER per voice: " + ", ".join(f"{v} {e / n:.2f}" for v, (e, n) in sorted(by_voice.items())))
    settings = load_settings()
    index = Index(load_for_speech(settings.content_dir)[0])
    summary(rows, index)
    print(f"{'floor':>5} {'asrw':>4} {'ans':>5} {'conf':>5} | {'right':>5} {'wrong':>5} {'c.ok':>5} {'c.bad':>5} "
          f"{'decl':>5} | {'ood ans':>7} {'ood conf':>8}")
    for floor, asr_weight in itertools.product((0.1, 0.3, 0.5), (0.0, 0.2, 0.35, 0.5, 1.0)):
        base = replace(MatchSettings(), heard_floor=floor, asr_weight=asr_weight, answer_at=0.0, confirm_at=0.0)
        scored = []
        for row in rows:
            m = match(row["heard"], index, base, heard_as(row))
            wanted = row.get("topic") if isinstance(row.get("topic"), list) else [row.get("topic")]
            ok = m.best is not None and m.best.topic_id in wanted
            scored.append((m.confidence, bool(row.get("ood")), ok))
        for answer_at, confirm_at in ((0.65, 0.6), (0.7, 0.6), (0.75, 0.6), (0.75, 0.65), (0.8, 0.65)):
            right = sum(1 for c, o, ok in scored if not o and ok and c >= answer_at)
            wrong = sum(1 for c, o, ok in scored if not o and not ok and c >= answer_at)
            cok = sum(1 for c, o, ok in scored if not o and ok and confirm_at <= c < answer_at)
            cbad = sum(1 for c, o, ok in scored if not o and not ok and confirm_at <= c < answer_at)
            decl = sum(1 for c, o, _ in scored if not o and c < confirm_at)
            oans = sum(1 for c, o, _ in scored if o and c >= answer_at)
            oconf = sum(1 for c, o, _ in scored if o and confirm_at <= c < answer_at)
            print(f"{floor:5.1f} {asr_weight:4.2f} {answer_at:5.2f} {confirm_at:5.2f} | {right:5d} "
                  f"{wrong:5d} {cok:5d} {cbad:5d} {decl:5d} | {oans:7d} {oconf:8d}")


if __name__ == "__main__":
    main()
