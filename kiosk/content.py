"""The knowledge base: operator documents in content/sources/, one derived file content/knowledge.json.

A malformed document is reported by name and left out; the others still load. The derived file is
written to a temporary file and renamed, so a failed build never leaves half a knowledge base, and
a build that yields nothing keeps the last good one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from kiosk.errors import ContentError
from kiosk.parse import parse_document
from kiosk.textnorm import expand_compounds, synonym_words, tokenize
from kiosk.topics import Topic, build_topics
from kiosk.wordstats import rarity

_LOGGER = logging.getLogger(__name__)

BUILD_VERSION = 12
"""Bump when the derived format or the parser changes, so old builds are redone."""
SOURCE_SUFFIXES = {".txt": False, ".text": False, ".md": True, ".markdown": True}
SIDECAR = "questions.toml"
KB_FILE = "knowledge.json"
MAX_SOURCE_BYTES = 2_000_000


@dataclass
class KnowledgeBase:
    """All topics of all documents, plus what went wrong reading them."""

    topics: list[Topic]
    problems: list[str] = field(default_factory=list)
    """One plain sentence per document that could not be used."""
    fingerprint: list[list[object]] = field(default_factory=list)
    """(name, size, mtime) of every input, to know when to rebuild."""
    extras: dict[str, object] = field(default_factory=dict)
    """Derived data of later stages (e.g. speech vocabulary), rebuilt with the topics."""

    def topic(self, topic_id: str) -> Topic:
        for topic in self.topics:
            if topic.id == topic_id:
                return topic
        raise KeyError(topic_id)

    def menu(self) -> list[Topic]:
        """Topics for a numbered menu: whole paragraphs and lists, not single items."""
        return [t for t in self.topics if t.kind != "item"]

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> KnowledgeBase:
        raw_topics = data.get("topics")
        if not isinstance(raw_topics, list):
            raise ContentError("the knowledge base file has no topic list")
        topics = [Topic(**t) for t in raw_topics]
        return cls(
            topics=topics,
            problems=list(data.get("problems", [])),  # type: ignore[call-overload]
            fingerprint=list(data.get("fingerprint", [])),  # type: ignore[call-overload]
            extras=dict(data.get("extras", {})),  # type: ignore[call-overload]
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "version": BUILD_VERSION,
            "fingerprint": self.fingerprint,
            "problems": self.problems,
            "topics": [t.to_dict() for t in self.topics],
            "extras": self.extras,
        }


def source_files(content_dir: Path) -> list[Path]:
    folder = content_dir / "sources"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def word_lists() -> list[tuple[str, bytes]]:
    """The kiosk's own word lists (kiosk/data): the synonyms and health words go into every build."""
    data = resources.files("kiosk.data")
    return sorted((f.name, f.read_bytes()) for f in data.iterdir() if f.name.endswith(".txt"))


def fingerprint(content_dir: Path) -> list[list[object]]:
    """What a build depends on: the operator's files, the build version and the kiosk's word lists, so
    that a change to any of them rebuilds."""
    files = source_files(content_dir) + [content_dir / SIDECAR]
    found: list[list[object]] = [[p.name, p.stat().st_size, p.stat().st_mtime_ns] for p in files if p.is_file()]
    lists: list[list[object]] = [[name, hashlib.sha256(text).hexdigest()[:16]] for name, text in word_lists()]
    return [*found, ["build", BUILD_VERSION], *lists]


def read_source(path: Path) -> str:
    """Read one document as text, or raise ContentError saying plainly what is wrong with it."""
    if path.suffix.lower() not in SOURCE_SUFFIXES:
        raise ContentError(f"{path.name}: not a text or Markdown document (.txt, .md); left out")
    size = path.stat().st_size
    if size == 0:
        raise ContentError(f"{path.name}: the file is empty; left out")
    if size > MAX_SOURCE_BYTES:
        raise ContentError(f"{path.name}: too large ({size:,} bytes; limit {MAX_SOURCE_BYTES:,}); left out")
    raw = path.read_bytes()
    if b"\x00" in raw[:8192]:
        raise ContentError(f"{path.name}: looks like a binary file, not text; left out")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ContentError(f"{path.name}: not UTF-8 text (byte {exc.start}); save it as UTF-8; left out") from exc
    if not text.strip():
        raise ContentError(f"{path.name}: has no text; left out")
    return text


def document_title(path: Path, text: str) -> str:
    """A Markdown "# Title" at the top, else the file name: "writers-cramp.md" -> "Writers cramp"."""
    for line in text.splitlines():
        if line.strip():
            if line.startswith("# "):
                return line[2:].strip()
            break
    words = path.stem.replace("_", " ").replace("-", " ").split()
    return " ".join(words).capitalize() or "Document"


def topics_from_file(path: Path) -> list[Topic]:
    text = read_source(path)
    markdown = SOURCE_SUFFIXES[path.suffix.lower()]
    topics = build_topics(parse_document(text, markdown=markdown), document_title(path, text), path.name)
    if not topics:
        raise ContentError(f"{path.name}: no paragraphs, headings or lists found; left out")
    return topics


def apply_sidecar(content_dir: Path, topics: list[Topic], problems: list[str]) -> None:
    """Add the operator's titles, phrasings and lay synonyms from questions.toml."""
    path = content_dir / SIDECAR
    if not path.is_file():
        return
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        problems.append(f"{SIDECAR}: cannot be read ({exc}); its phrasings are not used")
        return
    by_id = {t.id: t for t in topics}
    entries = data.get("topics", {})
    if not isinstance(entries, dict):
        problems.append(f"{SIDECAR}: [topics] must be a table of topic ids")
        return
    for topic_id, entry in entries.items():
        topic = by_id.get(topic_id)
        if topic is None or not isinstance(entry, dict):
            problems.append(f"{SIDECAR}: no topic with id {topic_id!r} (see `kiosk content list`)")
            continue
        if isinstance(entry.get("title"), str) and entry["title"].strip():
            topic.title = entry["title"].strip()
        phrases = entry.get("phrases", [])
        if isinstance(phrases, list):
            topic.phrases.extend(str(p) for p in phrases if str(p).strip())


def unique_ids(topics: list[Topic]) -> None:
    """Two documents with one title ("dystonia.txt", "dystonia.md") must not share topic ids."""
    seen: set[str] = set()
    renamed: dict[str, str] = {}
    for topic in topics:
        base, n = topic.id, 2
        while topic.id in seen:
            topic.id, n = f"{base}-{n}", n + 1
        if topic.id != base:
            renamed[f"{topic.source}:{base}"] = topic.id
        seen.add(topic.id)
        if topic.parent and f"{topic.source}:{topic.parent}" in renamed:
            topic.parent = renamed[f"{topic.source}:{topic.parent}"]


def build(content_dir: Path) -> KnowledgeBase:
    """Read every source; each bad one becomes a problem sentence, never an exception."""
    topics: list[Topic] = []
    problems: list[str] = []
    for path in source_files(content_dir):
        try:
            topics.extend(topics_from_file(path))
        except ContentError as exc:
            problems.append(str(exc))
        except OSError as exc:
            problems.append(f"{path.name}: cannot be read ({exc.strerror}); left out")
    unique_ids(topics)
    apply_sidecar(content_dir, topics, problems)
    for problem in problems:
        _LOGGER.warning("%s", problem)
    kb = KnowledgeBase(topics=topics, problems=problems, fingerprint=fingerprint(content_dir))
    kb.extras["rarity"] = rarity(vocabulary(kb) | synonym_words())
    return kb


def vocabulary(kb: KnowledgeBase) -> set[str]:
    """Every word a visitor could use to reach a topic: titles, names, phrasings, text."""
    words: set[str] = set()
    for topic in kb.topics:
        for text in [topic.title, topic.context, *topic.aliases, *topic.phrases, *topic.sentences]:
            words.update(expand_compounds(tokenize(text)))
    return words


def save(kb: KnowledgeBase, content_dir: Path) -> None:
    """Write atomically: a temporary file in the same folder, then rename over the old one."""
    fd, tmp = tempfile.mkstemp(prefix=".knowledge-", suffix=".tmp", dir=content_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(kb.to_dict(), fh, ensure_ascii=False, indent=1)
        os.replace(tmp, content_dir / KB_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_saved(content_dir: Path) -> KnowledgeBase | None:
    path = content_dir / KB_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return KnowledgeBase.from_dict(data)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, ContentError) as exc:
        _LOGGER.warning("%s is unreadable (%s); rebuilding it", path, exc)
        return None


Enricher = Callable[["KnowledgeBase", Path], None]
"""A later stage's build step (e.g. the speech vocabulary), run on every rebuild."""


def rebuild(content_dir: Path, enrich: Sequence[Enricher] = ()) -> KnowledgeBase:
    """Build and save. With no usable topic at all, keep serving the last good build."""
    if not content_dir.is_dir():
        raise ContentError(f"content folder {content_dir} does not exist")
    kb = build(content_dir)
    if not kb.topics:
        previous = load_saved(content_dir)
        detail = "; ".join(kb.problems) or f"no documents in {content_dir / 'sources'}"
        if previous is not None and previous.topics:
            previous.problems = kb.problems + ["the last good knowledge base is still in use"]
            return previous
        raise ContentError(f"no usable content: {detail}")
    for step in enrich:
        step(kb, content_dir)
    try:
        save(kb, content_dir)
    except OSError as exc:
        _LOGGER.warning("cannot save %s (%s); using the build in memory", content_dir / KB_FILE, exc)
    return kb


def load(content_dir: Path, enrich: Sequence[Enricher] = ()) -> KnowledgeBase:
    """The saved knowledge base if it is up to date with its sources, else a fresh build."""
    saved = load_saved(content_dir)
    if saved is not None and content_dir.is_dir() and saved.fingerprint == fingerprint(content_dir):
        return saved
    return rebuild(content_dir, enrich)


def add_document(content_dir: Path, file: Path, enrich: Sequence[Enricher] = ()) -> KnowledgeBase:
    """Check a document first, so nothing unusable is copied in; then copy and rebuild."""
    if not file.is_file():
        raise ContentError(f"{file}: no such file")
    topics_from_file(file)
    target = content_dir / "sources" / file.name
    if target.exists() and target.resolve() != file.resolve():
        raise ContentError(f"{target} already exists; rename the new file or remove the old one first")
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.resolve() != file.resolve():
        shutil.copy2(file, target)
    return rebuild(content_dir, enrich)
