"""Turn a parsed document into topics: the units the kiosk can answer with.

Every paragraph is a topic, every list is a topic, and every list item is a topic of its own, so
"what is blepharospasm" gets the Eyelids item and not the whole list. A short item ("Stroke") is
answered together with the sentence that introduces its list, so the answer still makes sense
when heard alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kiosk.parse import Block, split_sentences

LABEL_RE = re.compile(r"^(?P<label>[A-Z][^.:!?]{1,40}?)[.:]\s+(?P<rest>[A-Z(].+)$")
PAREN_TERM_RE = re.compile(r"\(([^()]{3,40})\)")
IN_TERM_RE = re.compile(r"(?:^|[.;]\s+)In ([a-z][\w’'-]*(?: [\w’'-]+){0,3}),")
TERM_SUBJECT_RE = re.compile(r"(?:^|[.;]\s+)([A-Z][a-z]+ (?:dystonia|cramp|syndrome|disease|palsy))\b")
MAX_TITLE_WORDS = 8
SHORT_ITEM_WORDS = 6
ALIAS_STOP_WORDS = {"in", "some", "the", "a", "an", "most", "many", "this", "that", "these", "such", "other", "all"}


@dataclass
class Topic:
    """One answerable unit of content."""

    id: str
    """Stable, readable id: "<document>/<slug>"."""
    title: str
    """Said before the answer and shown in menus."""
    sentences: list[str]
    """The answer text, sentence by sentence, copied from the document."""
    source: str
    """The file it came from."""
    kind: str
    """"paragraph", "list" or "item"."""
    aliases: list[str] = field(default_factory=list)
    """Other names for the subject, found in the text ("blepharospasm", "cervical dystonia")."""
    context: str = ""
    """Heading and lead-in words: used for matching, not spoken."""
    subject: str = ""
    """The document's title: what every topic of it is about, even when it does not say so."""
    phrases: list[str] = field(default_factory=list)
    """Operator-supplied question phrasings and lay synonyms (content/questions.toml)."""
    parent: str = ""
    """For an item, the id of its list."""

    @property
    def text(self) -> str:
        return " ".join(self.sentences)

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower().replace("’", "").replace("'", "")).strip("-")
    return "-".join(slug.split("-")[:6]) or "topic"


def short_title(text: str) -> str:
    """A paragraph with no heading is named by its opening words."""
    words = re.split(r"[,;:—–]", text, maxsplit=1)[0].rstrip(".").split()
    return " ".join(words[:MAX_TITLE_WORDS]) + ("…" if len(words) > MAX_TITLE_WORDS else "")


def find_aliases(text: str, subject: str = "") -> list[str]:
    """Names the text gives its subject: "(blepharospasm)", "In cervical dystonia, ..."."""
    found = PAREN_TERM_RE.findall(text) + IN_TERM_RE.findall(text) + TERM_SUBJECT_RE.findall(text)
    seen: list[str] = []
    seen_lower: set[str] = set()  # a set: a list scanned per term is quadratic on long texts
    for term in found:
        term = term.strip()
        first = term.split()[0].lower() if term else ""
        if first in ALIAS_STOP_WORDS or term.lower() == subject.lower():
            continue
        if term.lower() not in seen_lower:
            seen.append(term)
            seen_lower.add(term.lower())
    return seen


def _as_sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?", ":")) else text + "."


def _lead_in(paragraph: str | None) -> str:
    """The sentence that introduces a list ("...other disorders, including:")."""
    if not paragraph or not paragraph.rstrip().endswith(":"):
        return ""
    return split_sentences(paragraph)[-1]


class _Ids:
    def __init__(self, doc: str, subject: str) -> None:
        self.doc = doc
        self.subject = subject
        self.used: set[str] = set()

    def make(self, *parts: str) -> str:
        base = "/".join([self.doc, *(slugify(p) for p in parts if p)])
        candidate, n = base, 2
        while candidate in self.used:
            candidate, n = f"{base}-{n}", n + 1
        self.used.add(candidate)
        return candidate


def build_topics(blocks: list[Block], doc_title: str, source: str) -> list[Topic]:
    """Make topics from blocks. The first untitled paragraph of a document is its overview."""
    ids = _Ids(slugify(doc_title), doc_title)
    topics: list[Topic] = []
    heading = ""
    heading_is_lead_in = False
    blocks_since_heading = 0
    previous: Block | None = None
    for block in blocks:
        if block.kind == "heading":
            heading = block.text.rstrip(":").strip()
            heading_is_lead_in = block.text.endswith(":")
            blocks_since_heading = 0
            previous = block
            continue
        if block.kind == "paragraph":
            if heading and blocks_since_heading == 0:
                title = heading
            elif not topics and not heading:
                title = doc_title
            else:
                title = short_title(block.text)
            topics.append(
                Topic(
                    id=ids.make(title),
                    title=title,
                    sentences=split_sentences(block.text),
                    source=source,
                    kind="paragraph",
                    aliases=find_aliases(block.text, ids.subject),
                    context=heading,
                    subject=ids.subject,
                )
            )
        elif block.kind == "list":
            lead = _lead_in(previous.text if previous and previous.kind == "paragraph" else None)
            if not lead and previous is not None and previous.kind == "heading" and heading_is_lead_in:
                lead = heading + ":"
            topics.extend(_list_topics(block, lead, heading, ids, source, topics, previous))
        blocks_since_heading += 1
        previous = block
    return topics


def _list_topics(
    block: Block, lead: str, heading: str, ids: _Ids, source: str, topics: list[Topic], previous: Block | None
) -> list[Topic]:
    """A list topic (all items) plus one topic per item."""
    labelled = [LABEL_RE.match(item) for item in block.items]
    short = all(len(item.split()) <= SHORT_ITEM_WORDS for item in block.items)
    # A one-sentence paragraph ending in ":" is only the list's lead-in: fold it into the list.
    if previous is not None and previous.kind == "paragraph" and topics and lead and topics[-1].text == lead:
        lead_topic = topics.pop()
        ids.used.discard(lead_topic.id)
        title = lead_topic.title
    else:
        title = heading if heading and lead.startswith(heading) else short_title(lead) if lead else heading
    title = title or short_title(block.items[0])
    names = [m["label"] if m else item for m, item in zip(labelled, block.items, strict=True)]
    if short or all(labelled):
        body = [_as_sentence(lead + " " + ", ".join(n.rstrip(".") for n in names) if lead else ", ".join(names))]
    else:
        body = ([lead] if lead else []) + [_as_sentence(item) for item in block.items]
    list_id = ids.make(title)
    out = [
        Topic(
            id=list_id,
            title=title,
            sentences=body,
            source=source,
            kind="list",
            aliases=[],
            context=" ".join([heading, lead]).strip(),
                subject=ids.subject,
        )
    ]
    for match, item in zip(labelled, block.items, strict=True):
        if match:
            item_title, sentences = match["label"].strip(), split_sentences(match["rest"])
        elif short:
            item_title = item.rstrip(".")
            sentences = [_as_sentence(f"{lead} {item_title}" if lead else item_title)]
        else:
            item_title = f"{title}: {short_title(item)}"
            sentences = split_sentences(_as_sentence(f"{lead} {item}" if lead else item))
        out.append(
            Topic(
                id=ids.make(item_title) if match else ids.make(title, short_title(item)),
                title=item_title,
                sentences=sentences,
                source=source,
                kind="item",
                aliases=find_aliases(item, ids.subject),
                context=" ".join([heading, lead]).strip(),
                subject=ids.subject,
                parent=list_id,
            )
        )
    return out
