"""Property-based fuzzing (hypothesis): odd input gives the kiosk's own clear errors, never a crash or a hang.

Targets: the content parser and topic builder, the content build over a folder of arbitrary files,
the audio reader, the config loader, the question matcher and dialogue, and the `ask --json` record.
Every test is derandomized and keeps no example database, so CI runs the same examples every time;
the example counts keep the whole file under about a minute on two cores.

A few known bugs in files this module does not own are kept out of the generators (each is named
where it is excluded) and pinned by strict-xfail tests at the end: when one is fixed, its xfail
turns into a failure, and the exclusion can go.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import re
import shutil
import struct
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from kiosk import content
from kiosk.asking import ask_text
from kiosk.audio_in import Utterance, load_utterance
from kiosk.config import ENV, Settings, load_settings
from kiosk.content import KnowledgeBase
from kiosk.dialogue import COMMANDS, Session
from kiosk.errors import AudioError, ConfigError
from kiosk.matcher import Index, MatchSettings, match
from kiosk.messages import Decision, Reply
from kiosk.parse import MD_LINK_RE, parse_document
from kiosk.topics import build_topics

PROJECT = Path(__file__).resolve().parent.parent
SOURCES = PROJECT / "content" / "sources"


def fuzz(examples: int, deadline_ms: int | None = 2000, *checks: HealthCheck) -> settings:
    """Reproducible settings: the same examples on every run, no example database."""
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=deadline_ms,
        suppress_health_check=checks,
    )


# A module-scoped folder: hypothesis runs many examples per test function, and function-scoped
# fixtures such as tmp_path would be shared between them anyway (HealthCheck.function_scoped_fixture).
@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


# ---------------------------------------------------------------------------------------------------
# Text: arbitrary unicode (control characters included) and document-shaped text.

CONTENT_WORDS = sorted(
    {w for p in SOURCES.iterdir() for w in re.findall(r"[A-Za-z][A-Za-z'’-]*", p.read_text(encoding="utf-8"))}
)
COMMAND_PHRASES = sorted({phrase for options in COMMANDS.values() for phrase in options})

any_text = st.text(st.characters(), max_size=300)  # lone surrogates included
file_text = st.text(st.characters(codec="utf-8"), max_size=300)  # what a UTF-8 file can hold
word = st.one_of(
    st.sampled_from(CONTENT_WORDS),
    st.text(st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc")), min_size=1, max_size=12),
)
words = st.lists(word, min_size=1, max_size=12).map(" ".join)
sentence_end = st.sampled_from(["", ".", ".", "!", "?", ":", ",", "…", '."', ")"])
prose = st.builds(lambda w, end: w + end, words, sentence_end)
marked = st.one_of(
    prose,
    st.builds("**{}**".format, words),
    st.builds("_{}_".format, words),
    st.builds("`{}`".format, words),
    st.builds("*{}".format, words),  # an unclosed mark
    st.builds("[{}]({})".format, words, st.sampled_from(["http://x.org/a", "", "a (b)", "<x>"])),
    st.builds("{} [{}".format, words, words),  # an unclosed link
)


def _lines(free_text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        marked,
        st.just(""),
        st.builds("{}{}".format, st.sampled_from(["• ", "- ", "* ", "+ ", "– ", "◦ ", "1. ", "12) ", "  • ", "\t- "]),
                  marked),
        st.builds("{}{}".format, st.sampled_from(["   ", "  ", "\t"]), marked),  # continuation of a list item
        st.builds("{} {}".format, st.sampled_from(["#", "##", "###", "######", "#######"]), marked),
        st.builds("{} {}".format, words, st.sampled_from(["#", "##", ""])),
        st.builds("{}:".format, words),  # a lead-in or a label heading
        st.sampled_from(["===", "---", "***", "___", "```", "```python", "<!-- note -->", "| a | b |", "\f", "\x00"]),
        st.builds(lambda w, n: " ".join([w] * n), word, st.integers(50, 800)),  # a very long line
        free_text,
    )


newline = st.sampled_from(["\n", "\n", "\n", "\r\n", "\r", "\n\n", "\u2028", "\x85"])


def _documents(free_text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda lines, seps: "".join(ln + seps[i % len(seps)] for i, ln in enumerate(lines)),
        st.lists(_lines(free_text), max_size=25),
        st.lists(newline, min_size=1, max_size=3),
    )


document = _documents(any_text)
file_document = _documents(file_text)
doc_text = st.one_of(any_text, document)

MARKS = re.compile(r"[*_`\[\]()!]")
"""Markdown marks the parser may remove (emphasis, links, images)."""


def _squash(text: str) -> str:
    """No whitespace, no Markdown marks: what a topic's words must be found in."""
    return MARKS.sub("", "".join(text.split()))


def _haystacks(text: str) -> tuple[str, str]:
    """The input with its marks dropped, and the same with link targets dropped too."""
    flat = " ".join(text.split())
    return _squash(text), _squash(MD_LINK_RE.sub(r"\1", flat))


def _came_from(token: str, haystacks: tuple[str, str]) -> bool:
    # The topic builder may add "." to end a sentence, ", " to join short items, ":" after a lead-in.
    needle = _squash(token).rstrip(".,:")
    return any(needle in hay for hay in haystacks)


@fuzz(2000)
@given(text=doc_text, markdown=st.booleans(), title=st.one_of(st.sampled_from(["Dystonia", "Doc"]), any_text))
def test_parser_and_topics_never_raise_and_only_copy_words(text: str, markdown: bool, title: str) -> None:
    blocks = parse_document(text, markdown=markdown)
    topics = build_topics(blocks, title, "doc.md" if markdown else "doc.txt")

    ids = [t.id for t in topics]
    assert len(ids) == len(set(ids)), ids
    assert all(t.kind in ("paragraph", "list", "item") for t in topics)
    assert all(t.parent in ids for t in topics if t.parent)
    haystacks = _haystacks(text)
    for topic in topics:
        assert topic.sentences, topic
        for sentence in topic.sentences:
            assert sentence.strip(), topic
            for token in sentence.split():
                assert _came_from(token, haystacks), (token, topic)


LONG = 200_000
PATHOLOGICAL = {
    "unclosed emphasis": "*a " * (LONG // 3),
    "unclosed code": "`a _x " * (LONG // 6),
    "unclosed links": "[a](" * (LONG // 4),
    "brackets": "[" * LONG,
    "continuation lines": "- item\n" + "  more words\n" * (LONG // 13),
    "distinct (terms)": " ".join(f"Word (term{i:06d})" for i in range(LONG // 9)) + ".",
    "blank run in a heading": "# Title" + " " * LONG + "x",
    "many bullets": "".join(f"- item {i}\n" for i in range(LONG // 10)),
}


@pytest.mark.parametrize("markdown", [False, True])
@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_parser_stays_fast_on_long_pathological_input(name: str, markdown: bool) -> None:
    """These were quadratic or cubic (a 180 kB file took 30 s, a 2 kB heading line 30 s); sources may be 2 MB."""
    start = time.perf_counter()
    build_topics(parse_document(PATHOLOGICAL[name], markdown=markdown), "Doc", "doc.txt")
    assert time.perf_counter() - start < 3.0


# ---------------------------------------------------------------------------------------------------
# The content build over a folder of arbitrary files.

SOURCE_NAMES = ["a.txt", "b.md", "notes.markdown", "c.text", "Leaflet one.TXT", "x.pdf", "README", "d.md"]
file_bytes = st.one_of(
    st.binary(max_size=400),
    file_text.map(lambda t: t.encode("utf-8")),
    file_document.map(lambda t: t.encode("utf-8")),
    file_document.map(lambda t: b"\xef\xbb\xbf" + t.encode("utf-8")),  # a byte-order mark
    file_document.map(lambda t: t.encode("utf-16")),
    file_document.map(lambda t: t.encode("latin-1", errors="replace")),
)


@fuzz(200)
@given(files=st.dictionaries(st.sampled_from(SOURCE_NAMES), file_bytes, max_size=4))
def test_content_build_turns_bad_files_into_problems(workdir: Path, files: dict[str, bytes]) -> None:
    folder = workdir / "content"
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "sources").mkdir(parents=True)
    for name, data in files.items():
        (folder / "sources" / name).write_bytes(data)

    kb = content.build(folder)

    used = {t.source for t in kb.topics}
    for problem in kb.problems:
        assert any(problem.startswith(f"{name}: ") for name in files), problem
    for name in files:
        named = [p for p in kb.problems if p.startswith(f"{name}: ")]
        assert (name in used) != bool(named), (name, named)  # each file gives topics, or one problem
        assert len(named) <= 1, named
    assert all(t.sentences for t in kb.topics)
    # Topic ids are unique within a document; across documents see the xfail test at the end.
    for name in used:
        ids = [t.id for t in kb.topics if t.source == name]
        assert len(ids) == len(set(ids)), ids


# ---------------------------------------------------------------------------------------------------
# The audio reader.

def _check_utterance(path: Path) -> None:
    try:
        utterance = load_utterance(path)
    except AudioError as exc:
        assert str(exc)
        event(f"AudioError: {re.sub(r'[0-9]+', 'N', str(exc).replace(str(path), 'PATH'))[:90]}")
        return
    event("read" + (" (speech)" if utterance.has_speech else ""))
    assert isinstance(utterance, Utterance)
    assert len(utterance.pcm) % 2 == 0
    assert math.isfinite(utterance.duration_s) and utterance.duration_s > 0
    assert 0.0 <= utterance.speech_s <= utterance.duration_s + 1.0
    assert 0.0 <= utterance.peak <= 1.0


u16 = st.one_of(st.sampled_from([0, 1, 2, 3, 6, 7, 8, 16, 17, 24, 32, 49, 64, 85, 0xFFFE, 0xFFFF]),
                st.integers(0, 0xFFFF))
u32 = st.one_of(
    st.sampled_from([0, 1, 7999, 8000, 11025, 16000, 44100, 96000, 0x7FFF0000, 0x7FFFFFFF, 0xFFFFFFFF]),
    st.integers(0, 0xFFFFFFFF),
)


@st.composite
def riff_files(draw: st.DrawFn) -> bytes:
    """A RIFF/WAVE header with random (often inconsistent) fields, then a random body."""
    fmt = struct.pack("<HHIIHH", draw(u16), draw(u16), draw(u32), draw(u32), draw(u16), draw(u16))
    fmt += draw(st.sampled_from([b"", b"\x00\x00", b"\x16\x00" + bytes(22), b"\x16\x00"]))
    body = draw(st.binary(max_size=3000))
    fmt_size = draw(st.one_of(st.sampled_from([len(fmt), 16, 18, 40, 0]), u32))
    chunks = b"fmt " + struct.pack("<I", fmt_size) + fmt
    if draw(st.booleans()):
        chunks += b"LIST" + struct.pack("<I", 4) + b"INFO"
    data_size = draw(st.one_of(st.just(len(body)), u32))
    chunks += b"data" + struct.pack("<I", data_size) + body
    riff_size = draw(st.one_of(st.just(len(chunks) + 4), u32))
    wav = b"RIFF" + struct.pack("<I", riff_size) + b"WAVE" + chunks
    cut = draw(st.integers(0, len(wav)))
    return wav[:cut] if draw(st.integers(0, 4)) == 0 else wav


WAV_SUBTYPES = ["PCM_16", "PCM_24", "PCM_32", "PCM_U8", "FLOAT", "DOUBLE", "ULAW", "ALAW", "IMA_ADPCM", "MS_ADPCM",
                "GSM610"]
RATES = [8000, 11025, 16000, 22050, 32000, 44100, 48000, 96000, 192000]


@st.composite
def sound_files(draw: st.DrawFn, damage: bool = True) -> bytes:
    """A well-formed file written by libsndfile: random rate, channels, sample format and samples."""
    which = draw(st.integers(0, 7))  # mostly rates the kiosk accepts, sometimes too low ones
    rate = draw(st.sampled_from(RATES) if which < 4 else st.integers(8_000, 200_000) if which < 7
                else st.integers(1, 7_999))
    channels = draw(st.integers(1, 4))
    seconds = draw(st.sampled_from([0.5, 1.0, 0.1, 2.0, 0.01, 0.0]))
    frames = draw(st.integers(int(rate * seconds * 0.5), int(rate * seconds)))
    kind = draw(st.sampled_from(["silence", "noise", "tone", "full", "extreme"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "silence":
        samples = np.zeros((frames, channels))
    elif kind == "noise":
        samples = rng.standard_normal((frames, channels)) * 10 ** (draw(st.integers(-90, 0)) / 20)
    elif kind == "tone":
        t = np.arange(frames)[:, None] / rate
        samples = np.sin(2 * np.pi * draw(st.integers(50, 4000)) * t) * np.ones((1, channels)) * 0.5
    elif kind == "full":
        samples = rng.choice([-1.0, 1.0], size=(frames, channels))
    else:
        samples = rng.choice([np.inf, -np.inf, np.nan, 1e30, -1e-30, 4.0], size=(frames, channels))
    container, subtype = draw(st.one_of(st.tuples(st.just("WAV"), st.sampled_from(WAV_SUBTYPES)),
                                        st.sampled_from([("FLAC", "PCM_16"), ("OGG", "VORBIS"), ("AIFF", "PCM_16")])))
    if subtype not in ("FLOAT", "DOUBLE"):  # libsndfile's A-law/u-law encoders crash (SIGSEGV) on NaN
        samples = np.clip(np.nan_to_num(samples), -1.0, 1.0)
    out = io.BytesIO()
    try:
        soundfile.write(out, samples, rate, subtype=subtype, format=container)
    except (soundfile.LibsndfileError, ValueError, TypeError, RuntimeError):
        assume(False)  # a combination libsndfile cannot write (e.g. GSM 6.10 in stereo)
    wav = out.getvalue()
    if damage and draw(st.integers(0, 2)) == 0:  # damage it: cut it short, or overwrite some bytes
        cut = draw(st.integers(0, len(wav)))
        patch = draw(st.binary(min_size=1, max_size=16))
        wav = wav[:cut] if draw(st.booleans()) else wav[:cut] + patch + wav[cut + len(patch):]
    return wav


@pytest.mark.filterwarnings("error::RuntimeWarning")  # e.g. NaN samples cast to int16: garbage sent to the recogniser
@fuzz(1500, 2000, HealthCheck.too_slow)  # too_slow: each example writes and decodes a file
@given(data=st.one_of(st.binary(max_size=2000), riff_files(), sound_files()),
       suffix=st.sampled_from([".wav", ".WAV", ".flac", ".ogg", ".bin", ""]))
def test_audio_reader_raises_only_audio_error(workdir: Path, data: bytes, suffix: str) -> None:
    path = workdir / f"input{suffix}"
    path.write_bytes(data)
    _check_utterance(path)


@pytest.mark.filterwarnings("error::RuntimeWarning")
@fuzz(500, 2000, HealthCheck.too_slow)
@given(data=sound_files(damage=False))
def test_audio_reader_on_valid_files(workdir: Path, data: bytes) -> None:
    path = workdir / "valid.wav"
    path.write_bytes(data)
    _check_utterance(path)


def test_audio_reader_on_a_directory_a_missing_file_and_the_stdlib_wave_writer(workdir: Path) -> None:
    for path in (workdir, workdir / "missing.wav"):
        with pytest.raises(AudioError):
            load_utterance(path)
    path = workdir / "stdlib.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(bytes(3200))
    assert not load_utterance(path).has_speech


# ---------------------------------------------------------------------------------------------------
# The config loader.

def _toml_string(text: str) -> str:
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else "inf" if value == math.inf else "-inf" if value == -math.inf \
            else repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_string(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def to_toml(data: dict[str, Any], table: tuple[str, ...] = ()) -> str:
    """A minimal TOML writer: scalars and arrays first, then each sub-table as [a.b]."""
    lines = [f"[{'.'.join(_toml_string(t) for t in table)}]"] if table else []
    lines += [f"{_toml_string(k)} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    text = "\n".join(lines) + "\n"
    for key, value in data.items():
        if isinstance(value, dict):
            text += to_toml(value, (*table, key))
    return text


FIELDS: dict[str, Any] = {
    "content_dir": None, "models_dir": None,
    "match": ["answer_at", "confirm_at", "spoken_confirm_at", "unknown_weight", "min_evidence", "asr_weight",
              "heard_floor", "max_candidates"],
    "speech": ["rate", "volume", "voice", "enabled"],
    "recognition": ["engine", "model_path"],
    "voice": {"listen_mode": None, "wake_phrase": None, "awake_s": None, "idle_reset_s": None, "cue": None,
              "input_device": None, "output_device": None, "vad_mode": None,
              "endpoint": ["frame_s", "start_s", "silence_s", "quick_silence_s", "cue_after_s", "max_utterance_s",
                           "preroll_s"]},
}
# Excluded until kiosk/config.py handles them (see the xfail tests): infinite numbers and integers
# beyond 64 bits (OverflowError), and "~name" paths for users that do not exist (RuntimeError).
config_text = st.text(st.characters(codec="utf-8"), max_size=40).filter(lambda s: not s.startswith("~"))
scalar = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.integers(-5, 500),
    st.floats(allow_infinity=False),
    st.floats(-1.0, 2.0),
    config_text,
    st.sampled_from(["auto", "vosk", "pocketsphinx", "always", "wake", "push", "tone", "word", "none", "yes", "off",
                     "", "1", "0.5", "nan"]),
    st.datetimes(), st.dates(), st.times(),
)
value = st.recursive(scalar, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                     st.dictionaries(config_text, inner, max_size=3)), max_leaves=6)


def _settings_like(spec: Any) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts that mostly use real keys (so values reach the converters), sometimes unknown ones."""
    known = list(spec) if isinstance(spec, dict) else spec
    entries = [st.tuples(st.just(k), _settings_like(spec[k]) if isinstance(spec, dict) and spec[k] is not None
                         else value) for k in known]
    entries.append(st.tuples(config_text, value))
    return st.lists(st.one_of(*entries), max_size=4).map(dict)


toml_ish = st.lists(
    st.one_of(
        st.sampled_from(["[match]", "[speech]", "[voice.endpoint]", "[[x]]", "[", "]", "=", "\"", "'''", "#", "\\",
                         "rate = 150", "volume = ", "engine = 'vosk'", "a.b.c = 1", "x = [1, 'a', {b = 2}]",
                         "t = 1979-05-27T07:32:00Z", "n = nan", "k = 0x1F", "s = \"\\u00e9\"", "\x00"]),
        st.builds("{} = {}".format, st.sampled_from([k for k, v in FIELDS.items() if v is None] + ["rate", "cue"]),
                  st.text(st.sampled_from("0123456789.-+eE_infa'\"[]{}, xtrue"), max_size=12)),
        st.text(st.characters(codec="utf-8"), max_size=30),
    ),
    max_size=10,
).map("\n".join)


@pytest.fixture(scope="module")
def clean_env() -> Iterator[None]:
    """The loader reads KIOSK_* variables; a developer's own must not change what is tested."""
    with pytest.MonkeyPatch.context() as mp:
        for var in [*ENV, "KIOSK_CONFIG"]:
            mp.delenv(var, raising=False)
        yield


def _check_config(path: Path, in_hypothesis: bool = True) -> None:
    try:
        result = load_settings(path)
    except ConfigError as exc:
        assert str(exc)
        if in_hypothesis:
            kind = "TOML" if str(exc).startswith("config file") else re.split(r"[:'\"]", str(exc))[0]
            event("ConfigError: " + kind)
        return
    if in_hypothesis:
        event("loaded")
    assert isinstance(result, Settings)


@fuzz(2000)
@given(text=st.one_of(toml_ish, st.text(st.characters(codec="utf-8"), max_size=200)))
def test_config_loader_on_toml_ish_text(workdir: Path, clean_env: None, text: str) -> None:
    path = workdir / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    _check_config(path)


@fuzz(2000)
@given(data=_settings_like(FIELDS))
def test_config_loader_on_valid_toml_with_random_keys_and_values(workdir: Path, clean_env: None,
                                                                 data: dict[str, Any]) -> None:
    path = workdir / "kiosk.toml"
    path.write_text(to_toml(data), encoding="utf-8")
    _check_config(path)


@fuzz(300)
@given(data=st.one_of(st.binary(max_size=200), st.text(st.characters(codec="utf-8"), max_size=100).map(str.encode)))
def test_config_loader_on_random_bytes(workdir: Path, clean_env: None, data: bytes) -> None:
    path = workdir / "kiosk.toml"
    path.write_bytes(data)
    _check_config(path)


# ---------------------------------------------------------------------------------------------------
# The matcher, the dialogue and the `ask --json` record, on the real shipped content
# (the session-scoped `kb` and `index` fixtures of conftest.py: built once).

def _typo(text: str, data: st.DataObject) -> str:
    if not text:
        return text
    i = data.draw(st.integers(0, len(text) - 1))
    return data.draw(st.sampled_from([text[:i] + text[i + 1:], text[:i] + text[i] + text[i:],
                                      text[:i] + " " + text[i:], text.upper()]))


content_question = st.lists(st.sampled_from(CONTENT_WORDS), min_size=1, max_size=6).map(" ".join)
question = st.one_of(
    any_text,
    content_question,
    st.builds("{} {}".format, st.sampled_from(["what is", "tell me about", "um what causes", "how do you treat"]),
              content_question),
    st.sampled_from(COMMAND_PHRASES),
    st.sampled_from(["1", "3", "number two", "the third one", "0", "99", "yes", "no", "", "   ", "more"]),
    st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz '-0123456789"), max_size=200),
)


@fuzz(2000)
@given(text=question, data=st.data())
def test_matcher_never_raises_and_decides_by_its_thresholds(kb: KnowledgeBase, index: Index, text: str,
                                                            data: st.DataObject) -> None:
    text = _typo(text, data) if data.draw(st.booleans()) else text
    limits = MatchSettings()
    result = match(text, index)
    event(result.decision.value)

    assert 0.0 <= result.confidence <= 1.0
    assert result == match(text, index)  # deterministic
    ids = {t.id for t in kb.topics}
    assert all(c.topic_id in ids and 0.0 <= c.score <= 1.0 for c in result.candidates)
    assert len(result.candidates) <= limits.max_candidates
    if result.decision is Decision.ANSWER:
        assert result.best is not None and result.confidence >= limits.answer_at
    elif result.decision is Decision.CONFIRM:
        assert result.best is not None and limits.confirm_at <= result.confidence < limits.answer_at
    else:
        assert result.best is None or result.confidence < limits.confirm_at


def _is_stop(reply: Reply) -> bool:
    return reply.kind == "command" and reply.extra.get("command") == "stop"


@fuzz(2000)
@given(texts=st.lists(question, min_size=1, max_size=5))
def test_dialogue_always_says_something(kb: KnowledgeBase, index: Index, texts: list[str]) -> None:
    session = Session(kb, index)
    for text in texts:  # a short conversation: confirmations, "more" and numbers meet earlier state
        reply = session.handle(text)
        assert isinstance(reply, Reply)
        assert reply.say.strip() or _is_stop(reply), (text, reply)


CONTRACT_KEYS = {"input", "heard", "answered", "confirm", "topic", "title", "answer", "confidence", "timings_ms"}
SETTINGS = Settings()


@fuzz(2000)
@given(text=question)
def test_ask_json_record_round_trips(kb: KnowledgeBase, index: Index, text: str) -> None:
    record = ask_text(text, kb, index, SETTINGS)

    assert CONTRACT_KEYS <= set(record)
    assert record["input"] == text
    assert json.loads(json.dumps(record)) == record
    assert json.loads(json.dumps(record, ensure_ascii=False)) == record
    assert isinstance(record["heard"], str)
    assert isinstance(record["answered"], bool) and isinstance(record["confirm"], bool)
    assert not (record["answered"] and record["confirm"])
    assert 0.0 <= record["confidence"] <= 1.0
    if record["answered"] or record["confirm"]:
        assert all(isinstance(record[k], str) and record[k] for k in ("topic", "title", "answer"))
    else:
        assert record["topic"] is None and record["answer"] is None
    assert set(record["timings_ms"]) == {"asr_ms", "match_ms", "total_ms"}
    assert all(isinstance(v, float) and v >= 0 for v in record["timings_ms"].values())


# ---------------------------------------------------------------------------------------------------
# Known bugs in files this module does not own, found by the fuzzing above. Strict: a fix fails
# these, and then the test should become an ordinary one (and the generator exclusion go).

@pytest.mark.parametrize("text", ["[speech]\nrate = inf\n", "[speech]\nvolume = 1" + "0" * 400 + "\n"])
def test_fixed_bug_config_overflow(workdir: Path, clean_env: None, text: str) -> None:
    (workdir / "k.toml").write_text(text, encoding="utf-8")
    _check_config(workdir / "k.toml", in_hypothesis=False)


def test_fixed_bug_config_unknown_user_home(workdir: Path, clean_env: None) -> None:
    (workdir / "k.toml").write_text('content_dir = "~no-such-user-xyz/content"\n', encoding="utf-8")
    _check_config(workdir / "k.toml", in_hypothesis=False)


def test_fixed_bug_config_deeply_nested_array(workdir: Path, clean_env: None) -> None:
    (workdir / "k.toml").write_text("a = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    _check_config(workdir / "k.toml", in_hypothesis=False)


def test_fixed_bug_config_path_is_a_directory(workdir: Path, clean_env: None) -> None:
    _check_config(workdir, in_hypothesis=False)


def test_fixed_bug_dialogue_huge_number(kb: KnowledgeBase, index: Index) -> None:
    assert Session(kb, index).handle("1" * 5000).say


def test_fixed_bug_content_ids_collide_across_documents(workdir: Path) -> None:
    folder = workdir / "same-title"
    (folder / "sources").mkdir(parents=True, exist_ok=True)
    (folder / "sources" / "dystonia.txt").write_text("Dystonia makes muscles contract.\n", encoding="utf-8")
    (folder / "sources" / "dystonia.md").write_text("Botulinum toxin may help.\n", encoding="utf-8")
    kb = content.build(folder)
    ids = [t.id for t in kb.topics]
    assert len(ids) == 2 and len(set(ids)) == 2, ids


def test_fuzz_helpers_write_toml_that_parses() -> None:
    import tomllib

    data = {"a": 1, "b": [1.5, "x\"\\\x01"], "c": {"d": {"e": dt.date(2020, 1, 2)}, "f": False}, "g h": math.nan}
    parsed = tomllib.loads(to_toml(data))
    assert parsed["c"] == {"d": {"e": dt.date(2020, 1, 2)}, "f": False} and parsed["b"] == [1.5, "x\"\\\x01"]
    assert math.isnan(parsed["g h"])
