"""Speak the kiosk's own question set (bench/questions-own.jsonl) with several synthetic voices.

    .venv/bin/python bench/make_own_audio.py --out /tmp/own-audio
    .venv/bin/python bench/make_own_audio.py --out /tmp/own-pause --pause 1.0
    .venv/bin/python bench/make_own_audio.py --out /tmp/heldout --questions bench/questions-heldout.jsonl

`--questions`: bench/questions-heldout.jsonl is a second set, kept for checking only: nothing is tuned
on it, so it says how well a change carries over to questions nobody looked at while making it.

`--pause S`: each question of three words or more is spoken in two halves joined by S seconds of
silence, as a person who stops mid-question would (the halves are separate utterances of the voice).

Writes 16 kHz mono WAVs and manifest.jsonl. Voices: festival ked and kal diphones, flite's awb, rms
and slt (a woman's voice), espeak-ng (en-us, en-gb+f3) — a different set of questions and partly different voices from
../shared/eval-dev, so what is tuned here is then measured there honestly.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

VOICES: dict[str, list[str]] = {
    "festival-ked": ["text2wave", "-eval", "(voice_ked_diphone)", "-o", "{out}", "{txt}"],
    "festival-kal": ["text2wave", "-eval", "(voice_kal_diphone)", "-o", "{out}", "{txt}"],
    "flite-awb": ["flite", "-voice", "awb", "-f", "{txt}", "-o", "{out}"],
    "flite-rms": ["flite", "-voice", "rms", "-f", "{txt}", "-o", "{out}"],
    "flite-slt": ["flite", "-voice", "slt", "-f", "{txt}", "-o", "{out}"],
    "espeak-us": ["espeak-ng", "-v", "en-us", "-s", "150", "-f", "{txt}", "-w", "{out}"],
    "espeak-gb-f3": ["espeak-ng", "-v", "en-gb+f3", "-s", "140", "-f", "{txt}", "-w", "{out}"],
    "espeak-whisper": ["espeak-ng", "-v", "en-us+whisper", "-s", "140", "-f", "{txt}", "-w", "{out}"],
}
DEFAULT_VOICES = [v for v in VOICES if v != "espeak-whisper"]
"""A whispered voice (spasmodic dysphonia) is its own measurement: `--voices espeak-whisper`."""


def synth(voice: str, text: str, out: Path) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        txt, raw = Path(tmp) / "q.txt", Path(tmp) / "raw.wav"
        txt.write_text(text + "\n")
        cmd = [a.format(out=raw, txt=txt) for a in VOICES[voice]]
        if subprocess.run(cmd, capture_output=True).returncode != 0 or not raw.exists():
            return False
        subprocess.run(["sox", "-D", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out)], check=True)
    return True


def synth_with_pause(voice: str, text: str, out: Path, pause_s: float) -> bool:
    """The first and second half of the question's words, spoken apart, with silence between."""
    words = text.split()
    halves = [" ".join(words[: len(words) // 2]), " ".join(words[len(words) // 2 :])]
    frames = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, half in enumerate(halves):
            part = Path(tmp) / f"part{i}.wav"
            if not synth(voice, half, part):
                return False
            with wave.open(str(part), "rb") as w:
                frames.append(w.readframes(w.getnframes()))
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(frames[0] + bytes(2 * int(16000 * pause_s)) + frames[1])
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--pause", type=float, default=0.0, help="seconds of silence mid-question (0: none)")
    parser.add_argument("--questions", type=Path, default=ROOT / "bench" / "questions-own.jsonl")
    parser.add_argument("--voices", nargs="+", choices=list(VOICES), default=DEFAULT_VOICES)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = [json.loads(line) for line in args.questions.read_text().splitlines() if line]
    manifest = []
    for i, row in enumerate(rows):
        if args.pause and len(row["text"].split()) < 3:
            continue
        for voice in args.voices:
            variant = f"{voice}-pause{args.pause:g}" if args.pause else voice
            name = f"own-{i:03d}__{variant}.wav"
            made = (synth_with_pause(voice, row["text"], args.out / name, args.pause) if args.pause
                    else synth(voice, row["text"], args.out / name))  # fmt: skip
            if made:
                manifest.append({"id": f"own-{i:03d}", "file": name, "variant": variant, **row})
    (args.out / "manifest.jsonl").write_text("".join(json.dumps(m) + "\n" for m in manifest))
    print(f"wrote {len(manifest)} files for {len(rows)} questions to {args.out}")


if __name__ == "__main__":
    main()
