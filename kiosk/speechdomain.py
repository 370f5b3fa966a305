"""The content build step that teaches recognisers the kiosk's own words.

Run on every `kiosk content build` (and automatic rebuild), so an operator's new document is also
heard correctly: a PocketSphinx language model and dictionary of the content's sentences, titles,
phrasings and voice commands (new words pronounced by espeak-ng), and the word list Vosk's grammar
mode uses. Both also get health words the content lacks, so questions about them are heard and
declined. Files go to content/build/speech/; a failure here never stops the text answers.
"""

from __future__ import annotations

import logging
from pathlib import Path

from kiosk.content import KnowledgeBase
from kiosk.dialogue import COMMANDS
from kiosk.errors import KioskError
from kiosk.recognizer import DomainModel
from kiosk.textnorm import health_words, synonym_words

_LOGGER = logging.getLogger(__name__)

BUILD_DIR = Path("build") / "speech"
FILLER_WORDS = 3
"""Titles and phrasings up to this long fill the question frames ("why do my eyes keep closing")."""


def training_text(kb: KnowledgeBase, wake_phrase: str = "hello kiosk") -> tuple[list[str], list[str], list[str]]:
    """(sentences, extra phrases, fillers): what visitors hear, what they are likely to say, and the
    words and short names they use for the content's things (which fill the question frames)."""
    sentences = [s for t in kb.topics for s in t.sentences]
    names = [p for t in kb.topics for p in (t.title, *t.aliases, *t.phrases)]
    extra = names + [option for options in COMMANDS.values() for option in options]
    extra += [wake_phrase] * 3  # the wake phrase must be easy to hear, or wake mode never wakes
    fillers = [n for n in names if len(n.split()) <= FILLER_WORDS] + sorted(synonym_words())
    return sentences, extra, fillers


def enrich(kb: KnowledgeBase, content_dir: Path) -> None:
    """Build the speech files and record them in the knowledge base's extras."""
    from kiosk.langmodel import build_domain_model

    sentences, extra, fillers = training_text(kb)
    try:
        domain = build_domain_model(sentences, extra, content_dir / BUILD_DIR, fillers=fillers,
                                    other_words=[w for words in health_words().values() for w in words])
    except (KioskError, OSError) as exc:
        _LOGGER.warning("speech vocabulary not built (%s); recognition uses the general model", exc)
        kb.extras.pop("speech", None)
        return
    kb.extras["speech"] = {"words": list(domain.words), "phrases": list(domain.phrases), "dir": str(BUILD_DIR),
                           "other_words": list(domain.other_words)}


def domain_of(kb: KnowledgeBase, content_dir: Path) -> DomainModel | None:
    """The DomainModel saved with the knowledge base, if its files are still there."""
    speech = kb.extras.get("speech")
    if not isinstance(speech, dict):
        return None
    folder = content_dir / str(speech.get("dir", BUILD_DIR))
    if not folder.is_dir():
        return None
    return DomainModel(words=tuple(speech.get("words", ())), phrases=tuple(speech.get("phrases", ())),
                       build_dir=folder, other_words=tuple(speech.get("other_words", ())))


def load_for_speech(content_dir: Path) -> tuple[KnowledgeBase, DomainModel | None]:
    """The knowledge base with its speech files, building them if they are missing or stale."""
    from kiosk import content

    kb = content.load(content_dir, [enrich])
    domain = domain_of(kb, content_dir)
    if domain is None:
        kb = content.rebuild(content_dir, [enrich])
        domain = domain_of(kb, content_dir)
    return kb, domain
