"""The `kiosk ask` batch: questions (typed, or spoken in audio files) in, contract records out.

One record per input, in order, as ../shared/eval-dev/README.md specifies; a bad file gets a record
with "error" and the batch goes on.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from kiosk.config import Settings
from kiosk.content import KnowledgeBase
from kiosk.dialogue import answer_question
from kiosk.errors import AudioError, ModelError
from kiosk.matcher import Index, best_hearing
from kiosk.messages import Transcript

_LOGGER = logging.getLogger(__name__)
NOT_HEARD = "I didn't hear a question."
UNSURE_HEARING = 0.35
"""Below this utterance confidence or completeness, what was "heard" in a declined input is most
likely noise (measured: noise < 0.35, speech about 0.8 in the content, 0.1-0.4 off it)."""


def ask_text(question: str, kb: KnowledgeBase, index: Index, settings: Settings,
             heard: Transcript | None = None) -> dict[str, Any]:
    """One question -> one record of the `ask --json` contract. A spoken question declined because it
    asked nothing, or was heard too unsurely to be speech, is reported as not heard."""
    start = time.perf_counter()
    if heard is None:
        result, answer = answer_question(question, kb, index, settings.match)
    else:
        result, answer = answer_question(heard.text, kb, index, settings.match, heard)
    match_ms = (time.perf_counter() - start) * 1000
    decision = result.decision.value
    record = {
        "input": question,
        "heard": result.question,
        "answered": decision == "answer",
        "confirm": decision == "confirm",
        "topic": answer.topic_id if answer else None,
        "title": answer.title if answer else None,
        "answer": answer.text if answer else None,
        "confidence": result.confidence,
        "timings_ms": {"asr_ms": 0.0, "match_ms": round(match_ms, 2), "total_ms": round(match_ms, 2)},
    }
    if heard is not None and decision == "decline":  # question words alone, or noise heard as words
        if not result.asked or min(heard.confidence, heard.completeness) < UNSURE_HEARING:
            record["message"] = NOT_HEARD
    return record


def empty_record(path: Path, **extra: Any) -> dict[str, Any]:
    return {"input": str(path), "heard": "", "answered": False, "confirm": False, "topic": None, "title": None,
            "answer": None, "confidence": 0.0, "timings_ms": {"asr_ms": 0.0, "match_ms": 0.0, "total_ms": 0.0},
            **extra}


def ask_audio(paths: list[Path], settings: Settings, engine: str | None = None) -> Iterator[dict[str, Any]]:
    """Recognise each file with one recogniser (it adapts to the voice), then answer as text."""
    from kiosk.audio_in import load_utterance
    from kiosk.recognizer import create_recognizer, with_completeness
    from kiosk.speechdomain import load_for_speech

    kb, domain = load_for_speech(settings.content_dir)
    index = Index(kb)
    rec = settings.recognition
    model_path = Path(rec.model_path) if rec.model_path else None
    try:
        recognizer = create_recognizer(engine or rec.engine, settings.models_dir, model_path, domain)
    except ModelError as exc:
        for path in paths:
            yield empty_record(path, error=f"no speech recogniser: {exc}")
        return
    print(f"speech engine: {recognizer.name}", file=sys.stderr)
    for path in paths:
        start = time.perf_counter()
        try:
            utterance = load_utterance(path, denoise=rec.denoise)
        except AudioError as exc:
            yield empty_record(path, error=str(exc))
            continue
        if not utterance.has_speech:
            yield empty_record(path, message=NOT_HEARD, audio_s=round(utterance.duration_s, 3))
            continue
        asr_start = time.perf_counter()
        # Words per second of the speech the VAD found, not of the kept padding and pauses, which hold no
        # words. Own spoken questions: right answers 447 -> 458 of 753, false answers 22 -> 22 of 1073.
        heard = with_completeness(recognizer.recognize(utterance.pcm), utterance.speech_s)
        transcript = best_hearing(heard, index, settings.match)
        asr_ms = (time.perf_counter() - asr_start) * 1000
        if not transcript.text:
            record = empty_record(path, message=NOT_HEARD)
        else:
            record = ask_text(str(path), kb, index, settings, heard=transcript)
            if not record["answered"] and not record.get("message"):  # unsure: listen again, adapted
                again = recognizer.hear_adapted(utterance.pcm, heard)
                if again is not None and again.text:
                    again = with_completeness(again, utterance.speech_s)
                    heard = replace(heard, alternatives=(*heard.alternatives, again))
                    transcript = best_hearing(heard, index, settings.match)
                    record = ask_text(str(path), kb, index, settings, heard=transcript)
                asr_ms = (time.perf_counter() - asr_start) * 1000
        total_ms = (time.perf_counter() - start) * 1000
        record["timings_ms"].update(asr_ms=round(asr_ms, 2), total_ms=round(total_ms, 2))
        record["audio_s"] = round(utterance.duration_s, 3)
        record["asr_confidence"] = round(transcript.confidence, 3)
        record["words"] = [[w.text, round(w.confidence, 3)] for w in transcript.words]
        yield record


def readable(record: dict[str, Any]) -> str:
    """The same record for a person reading a terminal."""
    label = record["input"]
    if record.get("heard") and record["heard"] != record["input"]:
        label = f"{label} (heard: {record['heard']})"
    if record.get("error"):
        return f"{label}\n  error: {record['error']}\n"
    if record.get("message"):
        return f"{label}\n  {record['message']}\n"
    if record["answered"]:
        return f"{label}\n  [{record['title']}] {record['answer']}\n"
    if record.get("confirm"):
        return f"{label}\n  Did you mean: {record['title']}? ({record['confidence']:.2f})\n"
    return f"{label}\n  Sorry, I don't have information about that here.\n"
