"""Command line: parse arguments, build settings once, run one sub-command.

Every KioskError becomes a one-line message and exit code 2; tracebacks only with --debug.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from kiosk import content
from kiosk.asking import ask_text, readable
from kiosk.config import ENGINES, Settings, as_toml, load_settings
from kiosk.content import KnowledgeBase
from kiosk.dialogue import Session
from kiosk.errors import KioskError
from kiosk.loop import LISTEN_MODES
from kiosk.wordindex import Index

_LOGGER = logging.getLogger("kiosk")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk", description="Offline voice information kiosk about dystonia.")
    parser.add_argument("--content", type=Path, help="content folder (default: the project's content/)")
    parser.add_argument("--config", type=Path, help="TOML config file")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    sub = parser.add_subparsers(dest="command")

    ask = sub.add_parser("ask", help="answer questions given as text or audio files, then exit")
    ask.add_argument("--text", action="append", default=[], help="a question (repeatable)")
    ask.add_argument("--audio", nargs="+", default=[], type=Path, help="spoken questions as audio files")
    ask.add_argument("--json", action="store_true", help="print JSON Lines (one object per question)")
    ask.add_argument("--engine", choices=ENGINES, help="speech engine for --audio (default: config, auto)")

    voice = sub.add_parser("voice", help="the voice kiosk (the default): listen, answer aloud")
    voice.add_argument("--engine", choices=ENGINES, help="speech engine (default: config, auto)")
    voice.add_argument("--listen", choices=LISTEN_MODES, help="always, wake (wake phrase) or push (press a key)")
    voice.add_argument("--max-seconds", type=float, help="stop after this long (tests, benchmarks)")
    sub.add_parser("devices", help="list audio input and output devices")

    scan = sub.add_parser("scan", help="single-switch scanning: choices are read one by one, a key press picks")
    scan.add_argument("--step", type=float, help="seconds a choice stays after it is read (default: config)")
    scan.add_argument("--key", help="the switch key: any, space, enter, tab or one character (default: config)")
    scan.add_argument("--max-seconds", type=float, help="stop after this long (tests, benchmarks)")

    text = sub.add_parser("text", help="the text mode: type questions, or a topic number")
    text.add_argument("--speak", action="store_true", help="also read everything aloud")

    cont = sub.add_parser("content", help="manage the documents the kiosk answers from")
    csub = cont.add_subparsers(dest="action", required=True)
    csub.add_parser("build", help="rebuild the knowledge base from content/sources")
    csub.add_parser("list", help="show every topic with its id and title")
    add = csub.add_parser("add", help="copy a document into content/sources and rebuild")
    add.add_argument("file", type=Path)

    models = sub.add_parser("models", help="speech models: list what is installed, download a Vosk model")
    msub = models.add_subparsers(dest="action", required=True)
    msub.add_parser("list", help="installed models and the engine in use")
    download = msub.add_parser("download", help="download an official Vosk model into models/")
    download.add_argument("name", help="catalogue name, e.g. small-en-us")
    download.add_argument("--force", action="store_true", help="replace an installed model of that name")

    sub.add_parser("doctor", help="check devices, engines, models, content, voice and config")
    sub.add_parser("report", help="answer/confirm/decline rates and the most frequent unanswered questions")

    conf = sub.add_parser("config", help="show the effective settings")
    conf.add_argument("action", choices=["show"])
    return parser


def load_knowledge(settings: Settings) -> tuple[KnowledgeBase, Index]:
    kb = content.load(settings.content_dir)
    for problem in kb.problems:
        print(f"note: {problem}", file=sys.stderr)
    return kb, Index(kb)


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    if not args.text and not args.audio:
        raise KioskError("give at least one --text QUESTION or --audio FILE")
    kb, index = load_knowledge(settings)
    records = (ask_text(question, kb, index, settings) for question in args.text)
    for record in records:
        print(json.dumps(record) if args.json else readable(record), flush=True)
    if args.audio:
        from kiosk.asking import ask_audio

        for record in ask_audio(args.audio, settings, engine=args.engine):
            print(json.dumps(record) if args.json else readable(record), flush=True)
    return 0


def cmd_text(args: argparse.Namespace, settings: Settings) -> int:
    from kiosk.speaker import SilentSpeaker, create_speaker
    from kiosk.textmode import run_text_mode

    kb, index = load_knowledge(settings)
    s = settings.speech
    speaker = create_speaker(True, s.rate, s.volume, s.voice) if args.speak else SilentSpeaker()
    from kiosk.oplog import OperatorLog

    session = Session(kb, index, settings.match, on_match=OperatorLog(settings.privacy).record)
    return run_text_mode(session, speaker)


def cmd_voice(args: argparse.Namespace, settings: Settings) -> int:
    """The kiosk a visitor meets. With no microphone at all, say so plainly and offer the text mode."""
    from kiosk.mic import MicSupervisor, audio_available

    ok, reason = audio_available()
    if not ok:
        print(f"kiosk: {reason}.\nThe voice kiosk needs a microphone; starting the text mode instead.\n",
              file=sys.stderr, flush=True)
        return cmd_text(argparse.Namespace(speak=True), settings)
    from kiosk.events import Commands, EventBus
    from kiosk.loop import Caption, VoiceLoop, start_key_thread
    from kiosk.mic import exact_frames
    from kiosk.recognizer import create_recognizer
    from kiosk.screen import start_screen
    from kiosk.speaker import create_speaker
    from kiosk.speechdomain import load_for_speech
    from kiosk.textnorm import english_words

    kb, domain = load_for_speech(settings.content_dir)
    english_words()  # the typo check's dictionary (32 MB, 0.2 s): loaded now, not on the first visitor's question
    rec, voice, s = settings.recognition, settings.voice, settings.speech
    engine = getattr(args, "engine", None) or rec.engine
    model_path = Path(rec.model_path) if rec.model_path else None
    recognizer = create_recognizer(engine, settings.models_dir, model_path, domain)
    watcher = create_recognizer(engine, settings.models_dir, model_path, domain, quick=True)
    print(f"speech engine: {recognizer.name}", file=sys.stderr, flush=True)
    if getattr(args, "listen", None):
        import dataclasses

        voice = dataclasses.replace(voice, listen_mode=args.listen)
    speaker = create_speaker(s.enabled, s.rate, s.volume, s.voice, voice.output_device or None)
    mic = MicSupervisor(voice.input_device or None, lambda working, detail: loop.on_mic_status(working, detail),
                        may_reinitialise=lambda: not speaker.busy())
    from kiosk.oplog import OperatorLog

    session = Session(kb, Index(kb), settings.match, on_match=OperatorLog(settings.privacy).record)
    bus, commands = EventBus(), Commands()
    screen = start_screen(settings.screen, bus, commands, [t.title for t in kb.menu()])
    from kiosk.denoise import NoiseSuppressor

    loop = VoiceLoop(session, recognizer, speaker, exact_frames(mic), voice, Caption(), watcher, events=bus,
                     commands=commands, suppressor=NoiseSuppressor() if rec.denoise else None)
    start_key_thread(loop)
    speaker.prepare(session.openings())
    try:
        loop.run(getattr(args, "max_seconds", None))
    finally:
        mic.stop()
        speaker.close()
        if screen is not None:
            screen.stop()
    return 0


def cmd_scan(args: argparse.Namespace, settings: Settings) -> int:
    """Single-switch scanning: no microphone or recogniser needed, for a visitor who cannot speak."""
    import dataclasses

    from kiosk.events import Commands, EventBus
    from kiosk.scanning import run_scan
    from kiosk.screen import start_screen

    flags = {"step_s": args.step, "key": args.key}
    scan = dataclasses.replace(settings.scan, **{k: v for k, v in flags.items() if v is not None})
    bus = EventBus()
    screen = start_screen(settings.screen, bus, Commands(), [])
    try:
        return run_scan(settings, scan, args.max_seconds, events=bus)
    finally:
        if screen is not None:
            screen.stop()


def cmd_devices() -> int:
    from kiosk.mic import audio_available, list_devices

    ok, reason = audio_available()
    for d in list_devices():
        kinds = ", ".join(k for k, n in (("in", d.inputs), ("out", d.outputs)) if n)
        print(f"{d.index:3d}  {d.name}  ({kinds})")
    if not ok:
        print(reason)
    return 0


def cmd_content(args: argparse.Namespace, settings: Settings) -> int:
    from kiosk.speechdomain import enrich

    folder = settings.content_dir
    if args.action == "add":
        kb = content.add_document(folder, args.file, [enrich])
        added = [t for t in kb.topics if t.source == args.file.name]
        print(f"added {args.file.name}: {len(added)} topics; {len(kb.topics)} topics in all")
    elif args.action == "build":
        kb = content.rebuild(folder, [enrich])
        print(f"built {folder / content.KB_FILE}: {len(kb.topics)} topics from "
              f"{len({t.source for t in kb.topics})} documents")
    else:
        kb = content.load(folder)
        for topic in kb.topics:
            indent = "    " if topic.kind == "item" else ""
            print(f"{indent}{topic.id}  —  {topic.title}")
    for problem in kb.problems:
        print(f"note: {problem}", file=sys.stderr)
    return 0


def cmd_models(args: argparse.Namespace, settings: Settings) -> int:
    from kiosk import models

    folder = settings.models_dir
    if args.action == "download":
        path = models.download_model(args.name, folder, force=args.force)
        print(f"installed {path}")
        return 0
    installed = models.list_models(folder)
    for info in installed:
        state = "ok" if info.valid else "BROKEN"
        print(f"{info.name:40s} {info.size_mb:8.1f} MB  {info.language or '?':6s} {state}  {info.path}")
    if not installed:
        print(f"no Vosk models in {folder} (download one with: kiosk models download small-en-us)")
    configured = Path(settings.recognition.model_path) if settings.recognition.model_path else None
    vosk_model = models.find_vosk_model(folder, configured)
    engine = settings.recognition.engine
    if engine == "vosk" and vosk_model is None:
        print("in use: none — the engine is set to vosk but no Vosk model was found")
    elif engine == "pocketsphinx" or (engine == "auto" and vosk_model is None):
        print("in use: PocketSphinx with its bundled English model (and the content's vocabulary)")
    else:
        print(f"in use: Vosk with {vosk_model}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        settings = load_settings(args.config, {"content_dir": args.content})
        if args.command == "ask":
            return cmd_ask(args, settings)
        if args.command == "content":
            return cmd_content(args, settings)
        if args.command == "models":
            return cmd_models(args, settings)
        if args.command == "config":
            print(as_toml(settings), end="")
            return 0
        if args.command == "doctor":
            from kiosk.doctor import run_doctor

            return run_doctor(settings)
        if args.command == "report":
            from kiosk.oplog import OperatorLog

            print(OperatorLog(settings.privacy).report())
            return 0
        if args.command == "scan":
            return cmd_scan(args, settings)
        if args.command == "devices":
            return cmd_devices()
        if args.command == "text":
            return cmd_text(args, settings)
        return cmd_voice(args, settings)
    except KioskError as exc:
        if args.debug:
            raise
        print(f"kiosk: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`kiosk content list | head`): nothing left to tell
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit flush cannot fail too
        return 0


if __name__ == "__main__":
    sys.exit(main())
