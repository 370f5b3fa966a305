"""Sweep PocketSphinx language-model and decoder settings on the kiosk's own spoken questions.

    .venv/bin/python bench/ps_sweep.py --audio-dir /tmp/own-audio --tag gw02 --general-weight 0.2
    .venv/bin/python bench/ps_sweep.py --audio-dir /tmp/own-audio --tag beam --option beam=1e-60

Builds the domain model with the given settings into a temporary folder, recognises every file in
manifest order with one recogniser (as `ask --audio` does), and prints WER per voice, the real-time
factor and right / wrong / confirm / decline / out-of-scope answered at the default MatchSettings.
Transcripts go to <audio-dir>/sweep-<tag>.json (for bench/tune_audio.py-style inspection).
"""

from __future__ import annotations

import argparse
import itertools
import json
import tempfile
import time
from pathlib import Path

from tune_audio import summary, wer  # type: ignore[import-not-found]

from kiosk import langmodel
from kiosk.asr_pocketsphinx import PocketSphinxRecognizer
from kiosk.audio_in import load_utterance
from kiosk.config import load_settings
from kiosk.recognizer import with_completeness
from kiosk.speechdomain import load_for_speech, training_text
from kiosk.wordindex import Index


def parse_value(text: str) -> object:
    if text.lower() in ("yes", "no", "true", "false"):
        return text.lower() in ("yes", "true")
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--audio-dir", type=Path, required=True)
    parser.add_argument("--tag", required=True)
    parser.add_argument("--general-weight", type=float, default=langmodel.GENERAL_WEIGHT)
    parser.add_argument("--option", action="append", default=[], help="decoder option name=value")
    parser.add_argument("--templates", type=Path, help="file of extra question frames, one a line")
    parser.add_argument("--phrase-limit", type=int, help="how many noun phrases fill the frames")
    parser.add_argument("--max-words", type=int, help="longest noun phrase (1: single content words)")
    parser.add_argument("--cmn", choices=("live", "twice", "reset", "own", "own-mix"), default="live",
                        help="twice: decode each file twice (CMN adapted to it); reset: initial CMN each file")
    parser.add_argument("--nbest", type=int, default=0, help="also keep this many n-best hypotheses")
    parser.add_argument("--order", choices=("manifest", "by-voice"), default="manifest")
    args = parser.parse_args()
    if args.templates:
        extra_frames = [t.strip() for t in args.templates.read_text().splitlines() if t.strip()]
        langmodel.TEMPLATES = (*langmodel.TEMPLATES, *extra_frames)
    if args.phrase_limit or args.max_words:
        original = langmodel.noun_phrases
        limit, max_words = args.phrase_limit or 800, args.max_words or 3
        langmodel.noun_phrases = lambda s, max_words=max_words, limit=limit: original(s, max_words, limit)  # type: ignore[misc]
    settings = load_settings()
    kb, _ = load_for_speech(settings.content_dir)
    sentences, extra, fillers = training_text(kb)
    start = time.perf_counter()
    domain = langmodel.build_domain_model(sentences, extra, Path(tempfile.mkdtemp(prefix="sweep-lm-")),
                                          general_weight=args.general_weight, fillers=fillers)
    build_s = time.perf_counter() - start
    options = dict(o.split("=", 1) for o in args.option)
    recognizer = PocketSphinxRecognizer(domain, options={k: parse_value(v) for k, v in options.items()})
    rows = [json.loads(line) for line in (args.audio_dir / "manifest.jsonl").read_text().splitlines() if line]
    if args.order == "by-voice":
        rows.sort(key=lambda r: (r["variant"], r["id"]))
    initial_cmn = recognizer._decoder.get_cmn()
    start, audio_s = time.perf_counter(), 0.0
    for row in rows:
        pcm = load_utterance(args.audio_dir / row["file"]).pcm
        audio_s += len(pcm) / 32000
        if args.cmn == "twice":
            recognizer.recognize(pcm)
        elif args.cmn in ("own", "own-mix"):
            dec = recognizer._decoder
            m0 = [float(v) for v in dec.get_cmn().split(",")]
            dec.start_utt()
            dec.process_raw(pcm, no_search=False, full_utt=False)
            n = dec.n_frames()
            m1 = [float(v) for v in dec.get_cmn(True).split(",")]
            dec.end_utt()
            own = [((500 + n) * b - 500 * a) / max(n, 1) for a, b in zip(m0, m1, strict=True)]
            if args.cmn == "own-mix":
                own = [(a + b) / 2 for a, b in zip(m0, own, strict=True)]
            dec.set_cmn(",".join(f"{v:.2f}" for v in own))
        elif args.cmn == "reset":
            recognizer._decoder.set_cmn(initial_cmn)
        t = with_completeness(recognizer.recognize(pcm), len(pcm) / 32000)
        if args.nbest:  # the n-best list lasts until the next utterance starts
            hyps = itertools.islice(recognizer._decoder.nbest(), args.nbest)
            row["nbest"] = [[h.hypstr, h.score] for h in hyps]
        row.update(heard=t.text, asr=t.confidence, completeness=t.completeness,
                   words=[[w.text, w.confidence] for w in t.words])
    took = time.perf_counter() - start
    (args.audio_dir / f"sweep-{args.tag}.json").write_text(json.dumps(rows))
    by_voice: dict[str, list[int]] = {}
    for row in rows:
        errors, n = wer(row["text"], row["heard"])
        for key in (row["variant"], "ALL"):
            acc = by_voice.setdefault(key, [0, 0])
            acc[0] += errors
            acc[1] += n
    print(f"== {args.tag}: gw={args.general_weight} options={options} order={args.order} cmn={args.cmn} "
          f"templates={len(langmodel.TEMPLATES)} build {build_s:.1f} s, RTF {took / audio_s:.3f}")
    print("WER " + ", ".join(f"{v} {e / n:.3f}" for v, (e, n) in sorted(by_voice.items())))
    summary(rows, Index(kb))


if __name__ == "__main__":
    main()
