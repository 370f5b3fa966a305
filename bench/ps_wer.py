"""Word error rate, real-time factor and confidence of PocketSphinx: default LM vs the domain LM.

Questions are our own wording (never the eval set), synthesised with flite (slt) and espeak-ng,
so the figures can be reproduced offline:  .venv/bin/python bench/ps_wer.py [--general-weight 0.3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kiosk.asr_pocketsphinx import PocketSphinxRecognizer  # noqa: E402
from kiosk.langmodel import build_domain_model  # noqa: E402
from kiosk.parse import parse_document, split_sentences  # noqa: E402
from kiosk.recognizer import Recognizer  # noqa: E402
from kiosk.textnorm import tokenize  # noqa: E402

IN_DOMAIN = [
    "what is dystonia", "what causes dystonia", "tell me about blepharospasm", "what is spasmodic dysphonia",
    "how is dystonia treated", "can surgery help dystonia", "is dystonia inherited", "what is cervical dystonia",
    "tell me about oromandibular dystonia", "what is writer's cramp", "can a stroke cause dystonia",
    "what are the symptoms of dystonia", "does stress make dystonia worse", "what is focal dystonia",
    "what are the basal ganglia", "can carbon monoxide poisoning cause dystonia", "what is musician's dystonia",
    "when should i see a doctor", "why do my eyelids keep blinking", "what is craniofacial dystonia",
    "tell me more", "number three",
]  # fmt: skip
OUT_OF_SCOPE = [
    "call a taxi for me", "what is the weather like tomorrow", "where is the nearest bus stop",
    "how much does parking cost here", "play some music please", "what time does the cafeteria close",
]  # fmt: skip
VOICES = {
    "flite": lambda text, out: ["flite", "-voice", "slt", "-t", text, "-o", str(out)],
    "espeak": lambda text, out: ["espeak-ng", "-v", "en-us", "-w", str(out), text],
}


def synthesize(text: str, voice: str, folder: Path) -> bytes:
    """16 kHz mono int16 PCM of `text` spoken by `voice`."""
    raw, wav = folder / "raw.wav", folder / f"{voice}-{abs(hash(text))}.wav"
    subprocess.run(VOICES[voice](text, raw), check=True, capture_output=True)
    subprocess.run(["sox", "-D", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(wav)], check=True)
    with wave.open(str(wav)) as f:
        return f.readframes(f.getnframes())


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i]
        for j, h in enumerate(hyp, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h)))
        prev = cur
    return prev[-1]


def content_sentences() -> list[str]:
    sentences: list[str] = []
    for path in sorted((ROOT / "content" / "sources").glob("*.txt")):
        for block in parse_document(path.read_text(encoding="utf-8")):
            sentences += block.items if block.kind == "list" else split_sentences(block.text)
    return sentences


def evaluate(rec: Recognizer, audio: dict[str, bytes], show: bool) -> tuple[float, float, list[float]]:
    """WER over the texts, real-time factor, and the utterance confidences."""
    errors = words = 0
    decode_s = audio_s = 0.0
    confidences = []
    for text, pcm in audio.items():
        start = time.perf_counter()
        result = rec.recognize(pcm, chunk_bytes=3200)
        decode_s += time.perf_counter() - start
        audio_s += len(pcm) / 32000
        ref, hyp = tokenize(text), tokenize(result.text)
        errors += edit_distance(ref, hyp)
        words += len(ref)
        confidences.append(result.confidence)
        if show:
            print(f"    {result.confidence:.2f}  {text!r} -> {result.text!r}")
    return errors / max(words, 1), decode_s / audio_s, confidences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--general-weight", type=float, default=0.3)
    parser.add_argument("--show", action="store_true", help="print every recognition")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        domain = build_domain_model(content_sentences(), out_dir=folder / "lm", general_weight=args.general_weight)
        print(f"domain model built in {time.perf_counter() - start:.2f} s ({len(domain.words)} domain words)")
        recognizers = {"default LM": PocketSphinxRecognizer(), "domain LM": PocketSphinxRecognizer(domain)}
        for voice in VOICES:
            inside = {t: synthesize(t, voice, folder) for t in IN_DOMAIN}
            outside = {t: synthesize(t, voice, folder) for t in OUT_OF_SCOPE}
            for label, rec in recognizers.items():
                print(f"{voice:7s} {label:10s}", end="", flush=True)
                wer, rtf, conf_in = evaluate(rec, inside, args.show)
                _, _, conf_out = evaluate(rec, outside, args.show)
                print(f"  WER {wer:.2f}  RTF {rtf:.3f}  median confidence: in-domain "
                      f"{statistics.median(conf_in):.2f}, out-of-scope {statistics.median(conf_out):.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
