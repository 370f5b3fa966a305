"""A small trigram language model of what visitors are likely to say about the kiosk's content.

The default en-us model spreads its probability over all of English, so "blepharospasm" loses to
"estonia". A model of the content's sentences, generic question frames filled with its noun
phrases, and the voice commands cuts word errors (bench/ps_wer.py: 0.60 -> 0.06 WER on flite speech).
General English is mixed in (kiosk.englishlm): unigrams at weight 0.3, so out-of-scope speech comes out
as ordinary words instead of being forced onto domain words (which would make the kiosk answer it), and
bigrams at weight 0.3, so the everyday words around the content's words are heard too.
"""

from __future__ import annotations

import logging
import math
import re
import tempfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from kiosk.englishlm import GeneralBigrams, general_bigrams, general_unigrams
from kiosk.errors import ModelError
from kiosk.lexicon import WORD_RE, build_dictionary
from kiosk.recognizer import DomainModel

_LOGGER = logging.getLogger(__name__)

LM_FILE = "domain.lm"
"""The model as ARPA text, for reading; the decoder loads LM_BIN_FILE."""
LM_BIN_FILE = "domain.lm.bin"
DICT_FILE = "domain.dict"
GENERAL_WEIGHT = 0.3
"""Share of unigram mass given to general English (0.3 measured best for out-of-scope speech)."""
GENERAL_WORDS = 5000
BIGRAM_WEIGHT = 0.3
"""Share of a bigram's probability given to English bigrams, so words are heard in the company they
keep in English ("trouble swallowing", "play the piano"). Own spoken questions, festival and flite
voices, word errors: clean 0.335 -> 0.253, in white or pink noise 0.506 -> 0.442. Only bigrams after a
word English knows are mixed: trigrams (the question frames and the commands) and the start of an
utterance stay the content's own. Mixing those too cut word errors further (0.186) but let "tell me
more" be heard as "tell me mark" and a cough as "if" in the live conversation test, and it answered
fewer questions right: spoken dev set, festival family, 66 -> 63 of 78, own set 467 -> 451 of 753
(the start of an utterance alone: 64 and 450)."""
GENERAL_HISTORIES = 500
"""English bigrams are read after every content word and after this many of the commonest English
words (reading them costs about 5 ms a word)."""

COMMANDS = (
    "stop", "repeat", "repeat that", "say that again", "more", "tell me more", "go on", "continue",
    "slower", "faster", "louder", "quieter", "speak slower", "speak louder", "help", "what can i ask",
    "topics", "list the topics", "yes", "no", "yes please", "no thanks", "start over", "goodbye",
    "thank you", "cancel", "back", "next",
) + tuple(f"number {n}" for n in "one two three four five six seven eight nine ten".split())  # fmt: skip
"""Voice commands the dialogue understands; they must be easy for the recogniser to hear."""

TEMPLATES = (
    "what is {x}", "what are {x}", "what does {x} mean", "what causes {x}",
    "what is the cause of {x}", "why do people get {x}", "tell me about {x}", "tell me more about {x}",
    "explain {x}", "i want to know about {x}", "how is {x} treated", "how do you treat {x}",
    "is there a treatment for {x}", "can {x} be cured", "what are the symptoms of {x}",
    "what are the signs of {x}", "can {x} cause {t}", "does {x} cause {t}", "is {t} caused by {x}",
    "why do my {x}", "why does my {x}", "what about {x}", "is {x} genetic", "who gets {x}",
    "how does {x} affect me", "what happens in {x}", "i have {x}", "{x}",
    "why do i have {x}", "why do i get {x}", "why does my {x} hurt", "why is my {x}", "my {x}", "my {x} hurts",
    "i think i have {x}", "i keep getting {x}", "does {x} affect {t}",
    "is {x} linked to {t}", "is {x} related to {t}", "should i see a doctor about {x}",
    "when should i see a doctor about {x}", "what kinds of {x} are there", "what types of {x} are there",
    "is {x} inherited", "is {x} hereditary", "is {x} dangerous", "is {x} serious", "does {x} get worse",
    "does {x} go away", "how common is {x}", "how do i know if i have {x}", "what can i do about {x}",
    "what helps with {x}", "how long does {x} last", "can {x} be treated", "what is {x} like",
    "what does {x} do", "how does {x} work", "what happens if {x}", "is it {x}", "could it be {x}",
    "can you explain {x}", "i would like to know about {x}", "do you know about {x}",
    "what should i know about {x}",
)  # fmt: skip
"""Generic question frames: {x} is a phrase of the content, {t} one of its main subjects. The second
block (first-person complaints, "is X inherited", "should i see a doctor about X"...) lowered word
errors on the own spoken questions (bench/ps_sweep.py: festival ked 0.45 -> 0.42)."""
TEMPLATE_PHRASE_WORDS = 2
"""Longest noun phrase filling the frames: 2 heard better than 3 (fewer odd long frames, less
probability on "what does <phrase>"), 1 better still in WER but answered fewer questions."""

STOP = frozenset(
    """a an the of to in on at by for from with about into over as and or but if than so such also
    i me my you your we our he she it its they them their this that these those who whom which what
    is am are was were be been being do does did have has had may might can could will would should
    must not no some any most more many much all other others another less just only often while
    when then because both either each one two few between during over after before up down out
    again very own same until against while""".split()
)
"""Function words that cannot start or end a noun phrase for the templates."""

_TOKEN_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen \
sixteen seventeen eighteen nineteen".split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()


def spell_number(n: int) -> str:
    """Spoken form of 0..9999 ("forty two"); longer numbers digit by digit."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10 - 2] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        return f"{_ONES[n // 100]} hundred" + ("" if n % 100 == 0 else " " + spell_number(n % 100))
    if n < 10000:
        return spell_number(n // 1000) + " thousand" + ("" if n % 1000 == 0 else " " + spell_number(n % 1000))
    return " ".join(_ONES[int(d)] for d in str(n))


def words_of(text: str) -> list[str]:
    """Words as a speaker says them: lower case, hyphens split, numbers spelled, quotes normalised."""
    text = text.lower().replace("’", "'").replace("‘", "'").replace("-", " ")
    out: list[str] = []
    for token in _TOKEN_RE.findall(text):
        if token.isdigit():
            out.extend(spell_number(int(token)).split())
        elif WORD_RE.match(token):
            out.append(token)
    return out


def noun_phrases(sentences: Iterable[str], max_words: int = 3, limit: int = 800) -> list[str]:
    """Runs of content words (1..max_words) that neither start nor end on a function word.

    The `limit` most frequent are kept, so a long document cannot make the build slow.
    """
    found: Counter[str] = Counter()
    for sentence in sentences:
        for clause in re.split(r"[,.;:!?()—–\"]", sentence):
            words = words_of(clause)
            for i in range(len(words)):
                for j in range(i + 1, min(i + max_words, len(words)) + 1):
                    run = words[i:j]
                    if run[0] in STOP or run[-1] in STOP or len(run[-1]) < 3:
                        continue
                    found[" ".join(run)] += 1
    return sorted(found, key=lambda p: (-found[p], p))[:limit]


def build_corpus(sentences: list[str], extra_phrases: Iterable[str] = (),
                 fillers: Iterable[str] = ()) -> list[list[str]]:  # fmt: skip
    """Training lines: content sentences, question frames over its phrases, commands, extras.

    `fillers` also fill the frames: the words visitors use for the content's things ("blinks").
    """
    phrases = noun_phrases(sentences, max_words=TEMPLATE_PHRASE_WORDS)
    phrases += [f for f in dict.fromkeys(" ".join(words_of(f)) for f in fillers) if f and f not in phrases]
    counts = Counter(w for s in sentences for w in words_of(s) if w not in STOP and len(w) > 3)
    subjects = [w for w, _ in counts.most_common(2)] or ["it"]
    lines = [words_of(s) for s in sentences]
    for template in TEMPLATES:
        for x in phrases:
            for t in subjects if "{t}" in template else [""]:
                lines.append(template.format(x=x, t=t).split())
    lines.extend(words_of(p) for p in (*COMMANDS, *extra_phrases))
    return [line for line in lines if line]


def _discount(counts: Counter[tuple[str, ...]]) -> float:
    """Absolute discount D = n1 / (n1 + 2 n2) from count-of-counts (Ney et al.), kept sane."""
    n1 = sum(1 for c in counts.values() if c == 1)
    n2 = sum(1 for c in counts.values() if c == 2)
    return min(0.9, max(0.1, n1 / (n1 + 2 * n2))) if n1 + n2 else 0.5


Table = dict[tuple[str, ...], float]
"""Probabilities (or back-off weights) by n-gram."""


def domain_ngrams(lines: list[list[str]], general: dict[str, float] | None = None,
                  general_weight: float = GENERAL_WEIGHT) -> tuple[list[Table], list[Table]]:  # fmt: skip
    """([unigram, bigram, trigram] probabilities, [unigram, bigram] back-off weights) of the lines.

    Interpolated absolute discounting: interpolation's weight gamma(h) is exactly the back-off
    weight, so the model is normalised. The unigrams are mixed with `general` English unigrams.
    """
    grams: list[Counter[tuple[str, ...]]] = [Counter(), Counter(), Counter()]
    for line in lines:
        toks = ["<s>", *line, "</s>"]
        for n in (1, 2, 3):
            for i in range(len(toks) - n + 1):
                if toks[i + n - 1] != "<s>":  # <s> is only ever a context
                    grams[n - 1][tuple(toks[i : i + n])] += 1
    total = sum(grams[0].values())
    weight = general_weight if general else 0.0
    uni: dict[str, float] = {w[0]: (1 - weight) * c / total for w, c in grams[0].items()}
    for word, p in (general or {}).items():
        uni[word] = uni.get(word, 0.0) + weight * p
    probs: list[Table] = [{(w,): p for w, p in uni.items()}, {}, {}]
    bows: list[Table] = [{}, {}]
    for n in (2, 3):
        d = _discount(grams[n - 1])
        ctx_total: Counter[tuple[str, ...]] = Counter()
        ctx_types: Counter[tuple[str, ...]] = Counter()
        for gram, c in grams[n - 1].items():
            ctx_total[gram[:-1]] += c
            ctx_types[gram[:-1]] += 1
        for gram, c in grams[n - 1].items():
            h = gram[:-1]
            gamma = d * ctx_types[h] / ctx_total[h]
            probs[n - 1][gram] = (c - d) / ctx_total[h] + gamma * prob(probs, bows, gram[1:])
            bows[n - 2][h] = gamma
    return probs, bows


def prob(probs: list[Table], bows: list[Table], gram: tuple[str, ...]) -> float:
    """P(last word | the others) by the back-off rule."""
    if gram in probs[len(gram) - 1]:
        return probs[len(gram) - 1][gram]
    return bows[len(gram) - 2].get(gram[:-1], 1.0) * prob(probs, bows, gram[1:])


def mix_general_bigrams(probs: list[Table], bows: list[Table], english: GeneralBigrams,
                        weight: float) -> tuple[list[Table], list[Table]]:  # fmt: skip
    """The domain model with its bigrams after words English knows mixed with English bigrams.

    P(w | h) = (1 - weight) P_domain(w | h) + weight P_english(w | h), listed for every bigram either
    model lists. Trigrams keep their probabilities; back-off weights are recomputed so that every
    history still sums to one.
    """
    mixed: list[Table] = [dict(probs[0]), {}, dict(probs[2])]
    listed = set(probs[1]) | {(h, w) for h, row in english.rows.items() for w in row.listed if (w,) in probs[0]}
    for h, w in listed:
        share = weight if h in english.rows else 0.0
        mixed[1][(h, w)] = (1 - share) * prob(probs, bows, (h, w)) + share * english.prob(h, w)
    new_bows: list[Table] = [{}, {}]
    for order in (1, 2):
        seen: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
        for gram in mixed[order]:
            seen.setdefault(gram[:-1], []).append(gram)
        for context, members in seen.items():
            left = 1.0 - sum(mixed[order][g] for g in members)
            lower = 1.0 - sum(prob(mixed, new_bows, g[1:]) for g in members)
            new_bows[order - 1][context] = max(left, 1e-9) / max(lower, 1e-9)
    return mixed, new_bows


def write_arpa(probs: list[Table], bows: list[Table], out: Path) -> None:
    """Write the tables in ARPA text format (<s> has probability 0: it only starts sentences)."""
    probs[0][("<s>",)] = 0.0
    try:
        with out.open("w", encoding="utf-8") as f:
            f.write("\\data\\\n" + "".join(f"ngram {n + 1}={len(p)}\n" for n, p in enumerate(probs)))
            for n, table in enumerate(probs):
                f.write(f"\n\\{n + 1}-grams:\n")
                for gram, p in sorted(table.items()):
                    logp = math.log10(p) if p > 0 else -99.0
                    bow = bows[n].get(gram) if n < 2 else None
                    tail = f" {math.log10(bow):.4f}" if bow else ""
                    f.write(f"{logp:.4f} {' '.join(gram)}{tail}\n")
            f.write("\n\\end\\\n")
    except OSError as exc:
        raise ModelError(f"cannot write the language model {out}: {exc}") from exc


def build_domain_model(sentences: list[str], extra_phrases: Iterable[str] = (), out_dir: Path | None = None,
                       general_weight: float = GENERAL_WEIGHT, fillers: Iterable[str] = (),
                       bigram_weight: float = BIGRAM_WEIGHT,
                       other_words: Iterable[str] = ()) -> DomainModel:  # fmt: skip
    """Write the language model (`domain.lm`, and `domain.lm.bin` for the decoder) and `domain.dict`
    for the content into out_dir (a temp dir if None). A weight of 0 leaves that part of English out.

    `other_words` join the general English words even if rarer than the GENERAL_WORDS commonest: words
    of questions the content cannot answer, which must be heard as themselves to be declined."""
    out_dir = out_dir or Path(tempfile.mkdtemp(prefix="kiosk-lm-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    extra = list(extra_phrases)
    other = tuple(dict.fromkeys(other_words))  # read twice below: an iterator would be empty the second time
    corpus = build_corpus(sentences, extra, fillers)
    general = general_unigrams(GENERAL_WORDS, other) if general_weight > 0 else None
    probs, bows = domain_ngrams(corpus, general, general_weight)
    domain_words = sorted({w for line in corpus for w in line})
    if bigram_weight > 0:
        vocabulary = tuple(sorted(w for (w,) in probs[0] if w != "<s>"))
        histories = (*domain_words, *list(general or ())[:GENERAL_HISTORIES])  # most likely first
        english = general_bigrams(vocabulary, histories)
        probs, bows = mix_general_bigrams(probs, bows, english, bigram_weight)
    write_arpa(probs, bows, out_dir / LM_FILE)
    write_binary(out_dir / LM_FILE, out_dir / LM_BIN_FILE)
    vocab = {w for (w,) in probs[0]}
    generated = build_dictionary(vocab, out_dir / DICT_FILE)
    if generated:
        _LOGGER.info("pronounced %d new words with espeak-ng: %s", len(generated), ", ".join(generated))
    phrases = dict.fromkeys(" ".join(words_of(s)) for s in (*sentences, *COMMANDS, *extra))
    _LOGGER.debug("language model: %d lines, %d domain words, %d in all", len(corpus), len(domain_words), len(vocab))
    known = set(domain_words)
    return DomainModel(words=tuple(domain_words), phrases=tuple(p for p in phrases if p), build_dir=out_dir,
                       other_words=tuple(w for w in other if w not in known))


def write_binary(arpa: Path, out: Path) -> None:
    """The ARPA model in PocketSphinx's binary format, which loads in 1 ms instead of 0.3 s."""
    import pocketsphinx

    try:
        model = pocketsphinx.NGramModel.readfile(str(arpa))
        model.write(str(out), pocketsphinx.NGramModel.str_to_type("bin"))
    except (RuntimeError, OSError, ValueError) as exc:
        raise ModelError(f"cannot write the binary language model {out}: {exc}") from exc
