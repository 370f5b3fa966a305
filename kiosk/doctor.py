"""`kiosk doctor`: check everything the kiosk needs and say, for each problem, what to do.

Exit code 0 when the kiosk can run (at least in the text mode with its content), 1 when it cannot.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kiosk.config import Settings
from kiosk.errors import KioskError


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    essential: bool = False
    """When an essential check fails the kiosk cannot run at all."""


def check_content(settings: Settings) -> Check:
    from kiosk import content

    try:
        kb = content.load(settings.content_dir)
    except KioskError as exc:
        return Check("content", False, str(exc), f"put .txt or .md documents in {settings.content_dir / 'sources'}",
                     essential=True)
    detail = f"{len(kb.topics)} topics from {len({t.source for t in kb.topics})} documents"
    if kb.problems:
        return Check("content", True, f"{detail}; {len(kb.problems)} problem(s): " + "; ".join(kb.problems),
                     "fix or remove the files named, then run: kiosk content build")
    return Check("content", True, detail)


def check_speech_vocabulary(settings: Settings) -> Check:
    from kiosk.speechdomain import load_for_speech

    try:
        _, domain = load_for_speech(settings.content_dir)
    except KioskError as exc:
        return Check("speech vocabulary", False, str(exc), "run: kiosk content build")
    if domain is None:
        return Check("speech vocabulary", False, "not built; recognition uses the general English model",
                     "install espeak-ng, then run: kiosk content build")
    return Check("speech vocabulary", True, f"{len(domain.words)} words, files in {domain.build_dir}")


def check_recognizer(settings: Settings) -> Check:
    from kiosk.recognizer import create_recognizer

    rec = settings.recognition
    try:
        engine = create_recognizer(rec.engine, settings.models_dir, Path(rec.model_path) if rec.model_path else None)
    except KioskError as exc:
        return Check("speech recognition", False, str(exc),
                     "set recognition.engine = \"auto\", or install a model: kiosk models download small-en-us")
    return Check("speech recognition", True, f"engine {engine.name}")


def check_adaptation(settings: Settings) -> Check:
    from kiosk.adapt import tools

    if tools() is None:
        return Check("speaker adaptation", False, "off: SphinxTrain's bw and mllr_solve, or sphinx_fe, are missing",
                     "apt-get install sphinxtrain sphinxbase-utils pocketsphinx (./setup.sh does it)")
    return Check("speaker adaptation", True, "on: a spoken question not understood is heard again, adapted")


def check_audio_input(settings: Settings) -> Check:
    from kiosk.mic import audio_available

    ok, reason = audio_available()
    fix = "" if ok else "plug in a microphone (USB), or check that PulseAudio runs; `kiosk devices` lists devices"
    return Check("microphone", ok, reason, fix)


def check_audio_output(settings: Settings) -> Check:
    try:
        import sounddevice

        device = sounddevice.query_devices(settings.voice.output_device or None, kind="output")
    except Exception as exc:  # OSError, ValueError, PortAudioError: report, never crash the doctor
        return Check("speaker", False, f"no audio output ({exc})", "plug in speakers; answers are shown as captions")
    return Check("speaker", True, str(device["name"]))


def check_voice(settings: Settings) -> Check:
    if shutil.which("espeak-ng") is None:
        return Check("voice", False, "espeak-ng is not installed", "apt-get install espeak-ng (./setup.sh does it)")
    try:
        from kiosk.speaker import Synthesizer

        samples, rate = Synthesizer(settings.speech.voice).synthesize("Hello.", settings.speech.rate)
    except Exception as exc:  # any failure of the speech engine is reported, not raised
        return Check("voice", False, f"speech synthesis failed: {exc}", "check speech.voice in the config")
    return Check("voice", bool(len(samples)), f"pyttsx3/espeak-ng, {len(samples) / rate:.2f} s for 'Hello.'")


CHECKS: tuple[Callable[[Settings], Check], ...] = (
    check_content, check_speech_vocabulary, check_recognizer, check_adaptation, check_audio_input, check_audio_output,
    check_voice)


def run_doctor(settings: Settings, out: Callable[[str], None] = print) -> int:
    results = [check(settings) for check in CHECKS]
    for r in results:
        out(f"[{'ok' if r.ok else 'PROBLEM'}] {r.name}: {r.detail}")
        if r.fix and (not r.ok or "problem" in r.detail):
            out(f"        what to do: {r.fix}")
    blocked = [r for r in results if r.essential and not r.ok]
    voice_ok = all(r.ok for r in results if r.name in ("microphone", "speech recognition"))
    if blocked:
        out("The kiosk cannot run: " + ", ".join(r.name for r in blocked) + ".")
        return 1
    out("The kiosk can run" + ("." if voice_ok else ", in the text mode only (no voice input)."))
    return 0
