"""Command line: parse arguments, build settings once, run one sub-command.

Every KioskError becomes a one-line message and exit code 2; tracebacks only with --debug.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

from kiosk import content
from kiosk.config import Settings, as_toml, load_settings
from kiosk.content import KnowledgeBase
from kiosk.dialogue import Session, answer_question
from kiosk.errors import KioskError
from kiosk.matcher import Index

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

    text = sub.add_parser("text", help="the text mode: type questions, or a topic number")
    text.add_argument("--speak", action="store_true", help="also read everything aloud")

    cont = sub.add_parser("content", help="manage the documents the kiosk answers from")
    csub = cont.add_subparsers(dest="action", required=True)
    csub.add_parser("build", help="rebuild the knowledge base from content/sources")
    csub.add_parser("list", help="show every topic with its id and title")
    add = csub.add_parser("add", help="copy a document into content/sources and rebuild")
    add.add_argument("file", type=Path)

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
    for question in args.text:
        record = ask_text(question, kb, index, settings)
        print(json.dumps(record, ensure_ascii=False) if args.json else readable(record), flush=True)
    for path in args.audio:
        record = {"input": str(path), "heard": "", "answered": False, "confirm": False, "topic": None,
                  "title": None, "answer": None, "confidence": 0.0, "timings_ms": {},
                  "error": "speech recognition is not available in this version"}
        print(json.dumps(record) if args.json else readable(record), flush=True)
    return 0


def ask_text(question: str, kb: KnowledgeBase, index: Index, settings: Settings,
             heard: str | None = None, asr_confidence: float = 1.0) -> dict[str, Any]:
    """One question -> one record of the `ask --json` contract."""
    start = time.perf_counter()
    result, answer = answer_question(heard if heard is not None else question, kb, index, settings.match,
                                     asr_confidence)
    match_ms = (time.perf_counter() - start) * 1000
    decision = result.decision.value
    return {
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


def readable(record: dict[str, Any]) -> str:
    if record.get("error"):
        return f"{record['input']}\n  error: {record['error']}\n"
    if record["answered"]:
        return f"{record['input']}\n  [{record['title']}] {record['answer']}\n"
    if record.get("confirm"):
        return f"{record['input']}\n  Did you mean: {record['title']}? ({record['confidence']:.2f})\n"
    return f"{record['input']}\n  Sorry, I don't have information about that here.\n"


def cmd_text(args: argparse.Namespace, settings: Settings) -> int:
    from kiosk.speaker import SilentSpeaker, create_speaker
    from kiosk.textmode import run_text_mode

    kb, index = load_knowledge(settings)
    s = settings.speech
    speaker = create_speaker(True, s.rate, s.volume, s.voice) if args.speak else SilentSpeaker()
    return run_text_mode(Session(kb, index, settings.match), speaker)


def cmd_content(args: argparse.Namespace, settings: Settings) -> int:
    folder = settings.content_dir
    if args.action == "add":
        kb = content.add_document(folder, args.file)
        added = [t for t in kb.topics if t.source == args.file.name]
        print(f"added {args.file.name}: {len(added)} topics; {len(kb.topics)} topics in all")
    elif args.action == "build":
        kb = content.rebuild(folder)
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
        if args.command == "config":
            print(as_toml(settings), end="")
            return 0
        return cmd_text(args if args.command == "text" else argparse.Namespace(speak=True), settings)
    except KioskError as exc:
        if args.debug:
            raise
        print(f"kiosk: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
