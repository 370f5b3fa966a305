"""The conversation: commands, topic menu, answers, "more", "repeat", confirmation.

One Session serves one visitor. It is pure logic over the matcher and the knowledge base (no
audio, no terminal), so the text mode, the voice loop and the tests share it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from kiosk import phrases
from kiosk.answering import first_selection, make_answer, next_selection
from kiosk.content import KnowledgeBase
from kiosk.matcher import Index, MatchSettings, match
from kiosk.messages import Answer, Candidate, Decision, Match, Reply, Transcript
from kiosk.parse import split_sentences
from kiosk.textnorm import FILLERS, tokenize

COMMANDS: dict[str, tuple[str, ...]] = {
    "stop": ("stop", "quiet", "be quiet", "cancel", "shush", "hush", "enough", "stop talking", "silence"),
    "repeat": ("repeat", "say that again", "again", "pardon", "what did you say", "repeat that", "once more",
               "say it again", "come again"),
    "more": ("more", "tell me more", "go on", "continue", "next", "keep going", "and then", "what else"),
    "slower": ("slower", "slow down", "speak slower", "more slowly", "speak more slowly", "too fast"),
    "faster": ("faster", "speed up", "speak faster", "more quickly", "too slow"),
    "louder": ("louder", "speak up", "volume up", "i cant hear you", "too quiet", "speak louder"),
    "quieter": ("quieter", "softer", "volume down", "not so loud", "too loud", "speak softer"),
    "help": ("help", "what can i ask", "what can you do", "how does this work", "instructions", "help me",
             "what do i say", "what can i say"),
    "topics": ("topics", "list topics", "menu", "what topics", "list", "show topics", "topic list",
               "what do you know about", "list the topics"),
    "yes": ("yes", "yeah", "yep", "correct", "right", "thats right", "sure", "yes please", "exactly", "ok yes"),
    "no": ("no", "nope", "wrong", "not that", "no thanks", "no thank you", "thats wrong", "neither"),
    "start_over": ("start over", "start again", "restart", "reset", "from the beginning", "new question"),
    "goodbye": ("goodbye", "bye", "quit", "exit", "im done", "thank you goodbye", "good bye", "thats all",
                "finished"),
    "back": ("back", "go back", "previous"),
}
KEYS = {"h": "help", "t": "topics", "m": "more", "r": "repeat", "b": "back", "q": "goodbye", "s": "stop"}
"""One-key commands for the text mode."""
NUMBER_WORDS = {w: i + 1 for i, w in enumerate(
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
ORDINALS = {w: i + 1 for i, w in enumerate(
    "first second third fourth fifth sixth seventh eighth ninth tenth".split())}
NUMBER_RE = re.compile(r"^(?:number |topic |option )?(\w+)(?: one| please)?$")


def command_of(text: str) -> str | None:
    """The voice or typed command a short utterance means, if any ("tell me more" -> "more")."""
    words = [w for w in tokenize(text) if w not in FILLERS or w in ("okay", "ok")]
    if not words or len(words) > 6:
        return None
    said = " ".join(words)
    if len(words) == 1 and said in KEYS:
        return KEYS[said]
    best, best_score = None, 0.0
    for name, options in COMMANDS.items():
        for option in options:
            score = 100.0 if said == option else fuzz.ratio(said, option)
            if score > best_score:
                best, best_score = name, score
    return best if best_score >= 88 else None


def number_of(text: str) -> int | None:
    """"3", "three", "number three", "the third one" -> 3."""
    said = " ".join(w for w in tokenize(text) if w not in FILLERS and w != "the")
    found = NUMBER_RE.match(said)
    if not found:
        return None
    word = found.group(1)
    if word.isdigit():
        return int(word) if len(word) <= 4 else None
    return NUMBER_WORDS.get(word) or ORDINALS.get(word)


def answer_question(question: str, kb: KnowledgeBase, index: Index, settings: MatchSettings,
                    heard_as: Transcript | None = None) -> tuple[Match, Answer | None]:
    """Stateless: match, and the first extract of the best topic (for answer or confirm)."""
    result = match(question, index, settings, heard_as)
    if result.best is None or result.decision is Decision.DECLINE:
        return result, None
    topic = kb.topic(result.best.topic_id)
    return result, make_answer(topic, first_selection(topic, result.normalized, index), set())


def spoken(answer: Answer) -> str:
    """Title first, so a listener knows what they hear, unless the text already starts with it."""
    if answer.text.lower().startswith(answer.title.lower()):
        return answer.text
    return f"{title_sentence(answer.title)} {answer.text}"


def title_sentence(title: str) -> str:
    """A topic's title as it is said before its answer: a sentence of its own."""
    return f"{title}."


def confirm_title(kb: KnowledgeBase, candidate: Candidate) -> str:
    topic = kb.topic(candidate.topic_id)
    names = [a for a in topic.aliases if a.lower() not in topic.title.lower()]
    return f"{topic.title}, {names[0]}" if names else topic.title


@dataclass
class Session:
    """One visitor's conversation. `handle` takes what they typed or said and returns the reply."""

    kb: KnowledgeBase
    index: Index
    settings: MatchSettings = field(default_factory=MatchSettings)
    topic_id: str | None = None
    said: set[int] = field(default_factory=set)
    history: list[str] = field(default_factory=list)
    pending: list[Candidate] = field(default_factory=list)
    pending_question: str = ""
    last: Reply | None = None
    misses: int = 0
    on_match: Callable[[Match], None] | None = None
    """Told of every question matched (the operator's counts and, if allowed, unanswered log)."""

    def subjects(self) -> str:
        """What the documents are about: their titles ("dystonia", "dystonia and essential tremor")."""
        names = list(dict.fromkeys(t.subject.lower() for t in self.kb.topics if t.subject))
        return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names) or "this subject"

    def openings(self) -> list[str]:
        """The sentences answers begin with, their topics' titles (`spoken`): the speaker makes them ahead."""
        return [split_sentences(title_sentence(t.title))[0] for t in self.kb.topics if t.title]

    def example(self) -> str:
        named = [t for t in self.kb.topics if t.aliases]
        topic = named[0] if named else self.kb.topics[0]
        return f"What is {(topic.aliases or [topic.title])[0]}?"

    def topics(self) -> Reply:
        menu = [t.title for t in self.kb.menu()]
        return Reply(f"{phrases.TOPICS_INTRO} {self.menu_text()}", kind="topics", extra={"menu": menu})

    def menu_text(self) -> str:
        return " ".join(f"{i}. {t.title}." for i, t in enumerate(self.kb.menu(), start=1))

    def handle(self, text: str, heard_as: Transcript | None = None) -> Reply:
        """What the visitor typed, or said (`heard_as` then carries the recogniser's confidences)."""
        reply = self._route(text.strip(), heard_as)
        if reply.kind not in ("command", "repeat"):
            self.last = reply
        return reply

    def _route(self, text: str, heard_as: Transcript | None) -> Reply:
        if not text:
            return self.more() if self.topic_id else self.not_understood()
        command = command_of(text)
        if command in ("yes", "no") and self.pending:
            return self.confirmed() if command == "yes" else self.rejected()
        if command is not None:
            return self.command(command)
        number = number_of(text)
        if number is not None:
            return self.pick(number)
        return self.ask(text, heard_as)

    def command(self, name: str) -> Reply:
        simple = {"slower": phrases.SLOWER, "faster": phrases.FASTER, "louder": phrases.LOUDER,
                  "quieter": phrases.QUIETER, "stop": phrases.STOPPED}
        if name in simple:
            return Reply(simple[name], kind="command", extra={"command": name})
        if name == "more":
            return self.more()
        if name == "repeat":
            return self.last or Reply(phrases.NOTHING_YET, kind="help")
        if name == "help":
            return Reply(phrases.HELP.format(example=self.example()), kind="help")
        if name == "topics":
            return self.topics()
        if name == "back":
            return self.back()
        if name in ("yes", "no"):
            return Reply(phrases.NOTHING_TO_CONFIRM, kind="help")
        if name == "start_over":
            self.reset()
            return Reply(f"{phrases.START_OVER} {self.greeting()}", kind="help")
        self.reset()
        return Reply(phrases.GOODBYE, kind="goodbye")

    def greeting(self, text_mode: bool = False) -> str:
        template = phrases.TEXT_GREETING if text_mode else phrases.GREETING
        return template.format(subjects=self.subjects())

    def reset(self) -> None:
        """Forget everything about this visitor (start over, goodbye, idle)."""
        self.topic_id, self.said, self.history, self.pending, self.last, self.misses = None, set(), [], [], None, 0

    def ask(self, question: str, heard_as: Transcript | None = None) -> Reply:
        result, answer = answer_question(question, self.kb, self.index, self.settings, heard_as)
        if self.on_match is not None:
            self.on_match(result)
        if result.decision is Decision.ANSWER and answer is not None:
            self.misses = 0
            return self._say(answer, result, first_selection_of(answer, self.kb))
        if result.decision is Decision.CONFIRM and result.best is not None:
            # after a "no", only a runner-up that would be confirmed if typed is offered next
            self.pending = [result.best, *(c for c in result.candidates[1:] if c.score >= self.settings.confirm_at)]
            self.pending_question = result.normalized
            title = confirm_title(self.kb, result.best)
            return Reply(phrases.CONFIRM.format(title=title), answer=answer, match=result, kind="confirm")
        return self.not_understood(result)

    def not_understood(self, result: Match | None = None) -> Reply:
        """Decline kindly; a visitor who keeps missing gets examples, then the topic list."""
        self.misses += 1
        if result is not None and result.asked:
            examples = ", ".join(t.title.lower() for t in self.kb.menu()[:3])
            say = f"{phrases.DECLINE} {phrases.DECLINE_HINT.format(examples=examples)}"
            if self.misses >= 3:
                say = f"{phrases.DECLINE} {phrases.NOT_CAUGHT[2].format(topics=self.menu_text())}"
            return Reply(say, match=result, kind="decline")
        step = min(self.misses, len(phrases.NOT_CAUGHT)) - 1
        say = phrases.NOT_CAUGHT[step].format(example=self.example(), topics=self.menu_text())
        return Reply(say, kind="decline")

    def confirmed(self) -> Reply:
        candidate = self.pending[0]
        self.pending = []
        topic = self.kb.topic(candidate.topic_id)
        indices = first_selection(topic, self.pending_question, self.index)
        return self._say(make_answer(topic, indices, set()), None, indices)

    def rejected(self) -> Reply:
        self.pending = self.pending[1:]
        if self.pending:
            title = confirm_title(self.kb, self.pending[0])
            return Reply(phrases.CONFIRM_NEXT.format(title=title), kind="confirm")
        return Reply(phrases.CONFIRM_NO, kind="help")

    def pick(self, number: int) -> Reply:
        menu = self.kb.menu()
        if not 1 <= number <= len(menu):
            return Reply(phrases.NO_SUCH_NUMBER.format(number=number, count=len(menu)), kind="help")
        return self.open(menu[number - 1].id)

    def open(self, topic_id: str) -> Reply:
        topic = self.kb.topic(topic_id)
        indices = next_selection(topic, set())
        return self._say(make_answer(topic, indices, set()), None, indices)

    def more(self) -> Reply:
        if self.topic_id is None:
            return Reply(phrases.NOTHING_YET, kind="help")
        topic = self.kb.topic(self.topic_id)
        indices = next_selection(topic, self.said)
        if indices:
            answer = make_answer(topic, indices, self.said)
            self.said |= set(indices)
            return self._reply(answer)
        if topic.parent:  # a single item: go on with the whole list it belongs to
            self.history.append(topic.id)
            return self.open(topic.parent)
        return Reply(phrases.NO_MORE.format(title=topic.title), kind="help")

    def back(self) -> Reply:
        if not self.history:
            return self.topics()
        return self.open(self.history.pop())

    def _say(self, answer: Answer, result: Match | None, indices: list[int]) -> Reply:
        if self.topic_id and self.topic_id != answer.topic_id:
            self.history.append(self.topic_id)
        self.topic_id, self.said = answer.topic_id, set(indices)
        return self._reply(answer, result)

    @staticmethod
    def _reply(answer: Answer, result: Match | None = None) -> Reply:
        say = spoken(answer) + (f" {phrases.MORE_HINT}" if answer.has_more else "")
        return Reply(say, answer=answer, match=result, kind="answer")


def first_selection_of(answer: Answer, kb: KnowledgeBase) -> list[int]:
    """Which sentence indices an answer's text covers (to know what "more" still has)."""
    topic = kb.topic(answer.topic_id)
    return [i for i, s in enumerate(topic.sentences) if s in answer.text]
