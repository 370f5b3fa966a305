"""The text fallback: for a visitor who can type a little, or only press Enter and a digit.

Large, plain output (short lines, blank lines between turns, no colours or boxes); a numbered topic
menu so one digit opens a topic; one-letter commands; Enter alone means "more". With --speak it
also reads everything aloud, without ever blocking the keyboard.
"""

from __future__ import annotations

import sys
import textwrap
from typing import TextIO

from kiosk import phrases
from kiosk.dialogue import Session
from kiosk.messages import Reply
from kiosk.speaker import SilentSpeaker, Speaker

WIDTH = 60
KEY_HELP = "Keys:  number = topic   Enter = more   r = repeat   t = topics   b = back   h = help   q = quit"


def show(text: str, out: TextIO) -> None:
    out.write("\n")
    for paragraph in text.split("\n"):
        out.write(textwrap.fill(paragraph, WIDTH) + "\n")
    out.flush()


def run_text_mode(session: Session, speaker: Speaker | None = None, stdin: TextIO = sys.stdin,
                  out: TextIO = sys.stdout) -> int:
    speaker = speaker or SilentSpeaker()
    greeting = session.greeting(text_mode=True)
    show(greeting, out)
    render(session.topics(), out)
    show(KEY_HELP, out)
    speaker.say(greeting)
    while True:
        out.write("\n> ")
        out.flush()
        line = stdin.readline()
        if not line:  # end of input
            break
        reply = session.handle(line.strip())
        if reply.extra.get("command") in ("slower", "faster", "louder", "quieter", "stop"):
            adjust(speaker, str(reply.extra["command"]))
        render(reply, out)
        if reply.say:
            speaker.stop()
            speaker.say(reply.say)
        if reply.kind == "goodbye":
            break
    speaker.close()
    return 0


def adjust(speaker: Speaker, command: str) -> None:
    """Voice changes for this visit only; the next visitor starts from the operator's settings."""
    if command == "stop":
        speaker.stop()
    elif command in ("slower", "faster"):
        speaker.rate = max(80, min(300, speaker.rate + (-25 if command == "slower" else 25)))
    else:
        speaker.volume = max(0.2, min(1.0, speaker.volume + (0.15 if command == "louder" else -0.15)))


def render(reply: Reply, out: TextIO) -> None:
    if reply.kind == "topics":
        menu = list(reply.extra.get("menu", []))  # type: ignore[call-overload]
        show("\n".join([phrases.TOPICS_INTRO] + [f"  {i}. {t}" for i, t in enumerate(menu, start=1)]), out)
    elif reply.answer is not None and reply.kind == "answer":
        show(f"== {reply.answer.title} ==\n{reply.answer.text}" +
             ("\n\n(Enter = more)" if reply.answer.has_more else ""), out)
    elif reply.say:
        show(reply.say, out)

