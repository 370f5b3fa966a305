"""Pronunciations for the content's words, so PocketSphinx can hear "blepharospasm" at all.

PocketSphinx only recognises words in its dictionary, and the bundled CMU dictionary lacks many
medical words. espeak-ng's letter-to-sound rules fill the gap; its phonemes are mapped onto the
CMU phone set the acoustic model knows (3.7 % phone error on the document's dictionary words).
"""

from __future__ import annotations

import functools
import logging
import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

from kiosk.errors import ModelError

_LOGGER = logging.getLogger(__name__)

CMU_PHONES = frozenset(
    "AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH UH UW V W Y Z ZH".split()
)
"""The 39 phones of the en-us acoustic model (no stress marks in PocketSphinx's dictionary)."""

ESPEAK_TO_CMU: dict[str, str] = {
    # vowels
    "@": "AH", "a#": "AH", "V": "AH", "@2": "AH", "@5": "AH", "@L": "AH L",
    "3": "ER", "3:": "ER", "a": "AE", "aa": "AE", "A:": "AA", "A": "AA", "0": "AA", "A@": "AA R",
    "O:": "AO", "O2": "AO", "O": "AO", "o@": "AO R", "O@": "AO R", "e@": "EH R", "E": "EH", "e": "EH",
    "I": "IH", "I2": "IH", "I#": "IH", "i": "IY", "i:": "IY", "i@": "IY AH", "i@3": "IH R",
    "U": "UH", "u:": "UW", "u": "UW", "U@": "UH R", "eI": "EY", "aI": "AY", "OI": "OY", "aU": "AW",
    "oU": "OW", "o": "OW", "aI@": "AY ER", "aI3": "AY ER", "aU@": "AW ER",
    # consonants that are not just the letter upper-cased
    "T": "TH", "D": "DH", "S": "SH", "Z": "ZH", "N": "NG", "j": "Y", "tS": "CH", "dZ": "JH", "h": "HH",
    "x": "K", "C": "HH", "?": "",
}  # fmt: skip
"""espeak-ng en-us phoneme -> CMU phones; variants like `t#`, `r-`, `l/` fall back to their base."""

WORD_RE = re.compile(r"^[a-z]+(?:['-][a-z]+)*'?$")
"""Words we can pronounce: letters, inner hyphens/apostrophes; digits are spelled by the LM builder."""


def cmudict_path() -> Path:
    import pocketsphinx

    return Path(pocketsphinx.get_model_path()) / "en-us" / "cmudict-en-us.dict"


def load_cmudict(path: Path | None = None) -> dict[str, list[str]]:
    """word -> pronunciation lines as they appear (`word PH ...`, `word(2) PH ...`), read once per file
    (the bundled one by default) however it is named."""
    return _read_cmudict(path or cmudict_path())


@functools.lru_cache(maxsize=2)
def _read_cmudict(path: Path) -> dict[str, list[str]]:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise ModelError(f"cannot read the PocketSphinx dictionary {path}: {exc}") from exc
    entries: dict[str, list[str]] = {}
    for line in lines:
        head = line.split(" ", 1)[0]
        if head:
            entries.setdefault(head.split("(", 1)[0], []).append(line)
    return entries


def espeak_to_cmu(phonemes: str) -> list[str]:
    """Map one word of `espeak-ng -x --sep=_` output to CMU phones."""
    phones: list[str] = []
    for raw in re.split(r"[_\s]+", phonemes):
        symbol = re.sub(r"[',=%;!]", "", raw)
        if not symbol:
            continue
        mapped = ESPEAK_TO_CMU.get(symbol)
        if mapped is None:
            base = symbol.rstrip("#-/0123456789") or symbol
            mapped = ESPEAK_TO_CMU.get(base, base.upper())
        for phone in mapped.split():
            if phone not in CMU_PHONES:
                _LOGGER.debug("dropping espeak phoneme %r (from %r)", symbol, phonemes)
                continue
            # espeak writes an r-coloured vowel then an explicit r ("3_r", "o@_r"): keep one R
            if phone == "R" and phones and phones[-1] in ("R", "ER"):
                continue
            if phones and phone == phones[-1] and phone not in ("AH", "IH"):
                continue  # "t_t" across morphemes is one sound
            phones.append(phone)
    return phones


def _run_espeak(text: str) -> list[str]:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise ModelError("espeak-ng is not installed; it is needed to pronounce words missing from the dictionary")
    try:
        proc = subprocess.run(
            [exe, "-v", "en-us", "-q", "-x", "--sep=_"],
            input=text, capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError) as exc:
        raise ModelError(f"espeak-ng failed while making pronunciations: {exc}") from exc
    return [line.strip() for line in proc.stdout.splitlines() if line.strip()]


def espeak_pronounce(words: list[str]) -> dict[str, list[str]]:
    """CMU phones for each word, from one espeak-ng call (one call per word if the batch misaligns)."""
    if not words:
        return {}
    spoken = [w.replace("-", " ") for w in words]
    lines = _run_espeak("".join(f"{w}.\n" for w in spoken))
    if len(lines) != len(words):  # a word espeak split into clauses; rare, so pay per word
        _LOGGER.debug("espeak-ng batch gave %d lines for %d words; going word by word", len(lines), len(words))
        lines = [" ".join(_run_espeak(w + ".\n")) for w in spoken]
    return {word: espeak_to_cmu(line) for word, line in zip(words, lines, strict=True)}


def flite_pronounce(words: list[str]) -> dict[str, list[str]]:
    """Second opinions from flite's letter-to-sound rules (trained on CMU data), when flite is installed.

    espeak-ng reduces vowels that flite keeps ("craniofacial": K R AE N IH AA F EY SH AH L vs
    K R AA N IY AH F AE SH AH L); offering both lets either way of saying a new word be heard.
    """
    exe = shutil.which("flite")
    if exe is None or not words:
        return {}
    text = " ".join(f"{w.replace('-', ' ')}." for w in words)
    try:
        out = subprocess.run([exe, "-t", text, "-ps", "-o", "none"], capture_output=True, text=True,
                             timeout=60, check=True).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError) as exc:
        _LOGGER.debug("flite gave no pronunciations: %s", exc)
        return {}
    groups = [g.split() for g in out.split("pau") if g.strip()]
    if len(groups) != len(words):
        return {}
    mapped = [[{"ax": "AH", "axr": "ER"}.get(p, p.upper()) for p in g] for g in groups]
    return {w: phones for w, phones in zip(words, mapped, strict=True) if set(phones) <= CMU_PHONES}


def build_dictionary(words: Iterable[str], out: Path, cmudict: Path | None = None) -> list[str]:
    """Write a PocketSphinx .dict holding just `words`; return those pronounced by espeak-ng.

    A small dictionary keeps the decoder's vocabulary to what the language model can say.
    Words with digits or symbols are skipped (the language-model builder spells numbers).
    """
    entries = load_cmudict(cmudict)
    wanted = sorted({w.lower() for w in words} - {"<s>", "</s>", "<sil>"})
    lines: list[str] = []
    missing: list[str] = []
    for word in wanted:
        if word in entries:
            lines.extend(entries[word])
        elif WORD_RE.match(word):
            missing.append(word)
        else:
            _LOGGER.info("no pronunciation for %r: not a plain word", word)
    generated: list[str] = []
    alternates = flite_pronounce(missing)
    for word, phones in espeak_pronounce(missing).items():
        if phones:
            lines.append(f"{word} {' '.join(phones)}")
            if alternates.get(word, phones) != phones:
                lines.append(f"{word}(2) {' '.join(alternates[word])}")
            generated.append(word)
        else:
            _LOGGER.warning("espeak-ng gave no usable phonemes for %r", word)
    lines.sort(key=lambda line: line.split(" ", 1)[0])
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    except OSError as exc:
        raise ModelError(f"cannot write the pronunciation dictionary {out}: {exc}") from exc
    _LOGGER.debug("wrote %d pronunciations to %s (%d generated)", len(lines), out, len(generated))
    return generated
