"""Recover a document's structure (headings, paragraphs, bullet lists) from plain text or Markdown.

Operators bring text copied from leaflets and web pages: headings are bare short lines ("Genetic
changes", "Dystonia symptoms:"), lists use "•", "-", "*" or numbers. The parser turns that into
blocks; `topics.py` turns blocks into answerable topics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

BULLET_RE = re.compile(r"^\s*(?:[•◦▪‣●○■□\-*+–—]|\d{1,2}[.)])\s+(?P<text>.+)$")
MD_HEADING_RE = re.compile(r"^\s{0,3}(?P<hashes>#{1,6})\s+(?P<text>.+)$")
"""The closing "##" is stripped in code: a lazy text followed by `\\s*#*\\s*$` is cubic on long blank runs."""
SETEXT_RE = re.compile(r"^\s{0,3}(=+|-+)\s*$")
MD_LINK_RE = re.compile(r"!?\[([^\[\]]*)\]\([^()]*\)")
MD_EMPHASIS_RE = re.compile(r"(\*\*|__|\*|_|`)(?=\S)((?:(?!\1).)+?)(?<=\S)\1")
"""Link text and emphasis never contain their own opening mark, so unclosed marks cost linear, not quadratic, time."""
SENTENCE_END_RE = re.compile(r"[.!?…][\"'”’)\]]*$")
ABBREVIATIONS = {"e.g.", "i.e.", "dr.", "mr.", "mrs.", "ms.", "st.", "vs.", "etc.", "approx.", "no.", "fig."}

MAX_HEADING_WORDS = 10
MAX_HEADING_CHARS = 80
MAX_LABEL_WORDS = 4
"""A line ending in ":" is a heading ("Dystonia symptoms:") only when this short."""


@dataclass
class Block:
    """A heading, a paragraph or a list, in document order."""

    kind: str
    """"heading", "paragraph" or "list"."""
    text: str = ""
    """Heading or paragraph text (whitespace collapsed, Markdown marks removed)."""
    items: list[str] = field(default_factory=list)
    """List items, for kind == "list"."""
    level: int = 1
    """Heading level (Markdown #, ##, ...; plain-text headings are level 2)."""


def clean_inline(text: str) -> str:
    """Drop Markdown links/emphasis marks and collapse whitespace; keep the words."""
    text = MD_LINK_RE.sub(r"\1", text)
    text = MD_EMPHASIS_RE.sub(r"\2", text)
    return re.sub(r"\s+", " ", text).strip()


def looks_like_heading(line: str) -> bool:
    """A short line with no sentence ending: "Genetic changes", "Dystonia symptoms:"."""
    line = line.strip()
    if not line or len(line) > MAX_HEADING_CHARS or len(line.split()) > MAX_HEADING_WORDS:
        return False
    if SENTENCE_END_RE.search(line) or line.endswith(","):
        return False
    if line.endswith(":") and len(line.split()) > MAX_LABEL_WORDS:
        return False  # "It may come with other conditions, including:" introduces a list
    return line[0].isupper() or line[0].isdigit()


def split_sentences(text: str) -> list[str]:
    """Split a paragraph into sentences, keeping abbreviations like "e.g." intact."""
    parts: list[str] = []
    current: list[str] = []
    tokens = text.split()
    for i, token in enumerate(tokens):
        current.append(token)
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        ends = bool(SENTENCE_END_RE.search(token)) and token.lower() not in ABBREVIATIONS
        if ends and (not nxt or nxt[0].isupper() or nxt[0] in "\"'“‘(0123456789"):
            parts.append(" ".join(current))
            current = []
    if current:
        parts.append(" ".join(current))
    return parts


def parse_document(text: str, markdown: bool = False) -> list[Block]:
    """Turn a document's text into blocks. Never raises on odd input; may return []."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ").split("\n")
    blocks: list[Block] = []
    paragraph: list[str] = []
    in_code = False
    continued: Block | None = None
    continuation: list[str] = []
    """The last list item and its indented continuation lines, cleaned once when complete (not per line)."""

    def end_item() -> None:
        nonlocal continued
        if continued is not None:
            continued.items[-1] = clean_inline(" ".join(continuation))
            continued = None
            continuation.clear()

    def flush() -> None:
        if paragraph:
            joined = clean_inline(" ".join(paragraph))
            if joined:
                if len(paragraph) == 1 and looks_like_heading(joined):
                    blocks.append(Block("heading", joined, level=2))
                else:
                    blocks.append(Block("paragraph", joined))
            paragraph.clear()

    def add_item(item: str) -> None:
        end_item()
        item = clean_inline(item)
        if not item:
            return
        if blocks and blocks[-1].kind == "list":
            blocks[-1].items.append(item)
        else:
            blocks.append(Block("list", items=[item]))

    for raw in lines:
        if markdown and raw.strip().startswith("```"):
            flush()
            in_code = not in_code
            continue
        if in_code:
            continue
        line = raw.strip()
        if markdown and SETEXT_RE.match(raw) and len(paragraph) == 1:
            level = 1 if line.startswith("=") else 2
            blocks.append(Block("heading", clean_inline(paragraph[0]).rstrip(":"), level=level))
            paragraph.clear()
            continue
        if markdown and line.startswith(("<!--", "|", "---", "***", "___")):
            continue  # comments, tables and rules carry no answerable prose
        heading = MD_HEADING_RE.match(raw) if markdown else None
        bullet = BULLET_RE.match(raw)
        if not line:
            flush()
            continue
        if heading:
            flush()
            text = heading["text"].rstrip().rstrip("#").rstrip() or heading["text"]
            blocks.append(Block("heading", clean_inline(text).rstrip(":"), level=len(heading["hashes"])))
        elif bullet:
            flush()
            add_item(bullet["text"])
        elif raw[:1].isspace() and blocks and blocks[-1].kind == "list" and not paragraph:
            # An indented continuation line of the last list item.
            if continued is None:
                continued = blocks[-1]
                continuation.append(continued.items[-1])
            continuation.append(line)
        else:
            if blocks and blocks[-1].kind == "list" and not paragraph and not raw[:1].isspace():
                flush()
            paragraph.append(line)
    end_item()
    flush()
    return blocks
