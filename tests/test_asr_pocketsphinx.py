"""PocketSphinx with the content's language model, on real speech synthesised at test time.

Nothing is mocked except a missing espeak-ng: flite and festival voices speak our own questions,
sox resamples them to 16 kHz, and the real decoder listens.
"""

from __future__ import annotations

import gc
import math
import re
import subprocess
import threading
import wave
from functools import partial
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from kiosk import lexicon
from kiosk.asr_pocketsphinx import (
    DECODER_OPTIONS,
    HIGH_VOICE_HZ,
    HIGH_VOICE_WARP,
    MIDDLE_VOICE_HZ,
    STOP_WATCH_OPTIONS,
    PocketSphinxRecognizer,
)
from kiosk.asr_worker import Twin
from kiosk.audio_in import voice_pitch_hz
from kiosk.errors import ModelError
from kiosk.langmodel import (
    DICT_FILE,
    LM_BIN_FILE,
    LM_FILE,
    build_corpus,
    build_domain_model,
    spell_number,
    words_of,
)
from kiosk.parse import parse_document, split_sentences
from kiosk.recognizer import DomainModel, Recognizer, with_completeness

DOCUMENT = Path(__file__).resolve().parents[1] / "content" / "sources" / "dystonia.txt"


def speak(text: str, folder: Path, voice: str = "flite") -> bytes:
    """16 kHz mono int16 PCM of `text`, from flite's slt voice or festival's ked diphone voice."""
    slug = re.sub(r"\W+", "-", text)
    raw = folder / f"{voice}-{slug}.raw.wav"
    if voice == "flite":
        subprocess.run(["flite", "-voice", "slt", "-t", text, "-o", str(raw)], check=True)
    else:
        subprocess.run(["text2wave", "-eval", "(voice_ked_diphone)", "-o", str(raw)], input=text.encode(), check=True)
    out = raw.with_suffix(".16k.wav")
    subprocess.run(["sox", "-D", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out)], check=True)
    with wave.open(str(out)) as f:
        return f.readframes(f.getnframes())


@pytest.fixture(scope="module")
def domain(tmp_path_factory: pytest.TempPathFactory) -> DomainModel:
    sentences: list[str] = []
    for block in parse_document(DOCUMENT.read_text(encoding="utf-8")):
        sentences += block.items if block.kind == "list" else split_sentences(block.text)
    return build_domain_model(sentences, ["botox injections"], tmp_path_factory.mktemp("lm"))


@pytest.fixture
def recognizer(domain: DomainModel) -> PocketSphinxRecognizer:
    """A fresh decoder per test: its cepstral mean adapts across utterances, so order would matter."""
    return PocketSphinxRecognizer(domain)


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("audio")


# --- pronunciations -------------------------------------------------------------------------


def test_espeak_pronounces_domain_words_with_cmu_phones() -> None:
    prons = lexicon.espeak_pronounce(["blepharospasm", "dystonia", "oromandibular"])
    for word, phones in prons.items():
        assert phones and set(phones) <= lexicon.CMU_PHONES, (word, phones)
    assert prons["dystonia"] == "D IH S T OW N IY AH".split()
    assert prons["blepharospasm"][:4] == ["B", "L", "EH", "F"] and prons["blepharospasm"][-3:] == ["Z", "AH", "M"]
    assert prons["oromandibular"].count("R") == 1  # "o@_r" must not give "AO R R"


def test_r_coloured_vowel_followed_by_r_gives_one_r() -> None:
    assert lexicon.espeak_to_cmu("f_'3:_r_D_3") == ["F", "ER", "DH", "ER"]
    assert lexicon.espeak_to_cmu("m_'o@_r_i") == ["M", "AO", "R", "IY"]


def test_dictionary_keeps_alternates_generates_new_words_and_skips_odd_tokens(tmp_path: Path) -> None:
    out = tmp_path / "x.dict"
    generated = lexicon.build_dictionary(["read", "Dystonia", "r2d2", "the"], out)
    assert generated == ["dystonia"]
    heads = [line.split()[0] for line in out.read_text().splitlines()]
    assert "read" in heads and "read(2)" in heads and "the" in heads and "dystonia" in heads
    assert not any(h.startswith("r2d2") for h in heads)


def test_missing_espeak_is_a_model_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lexicon.shutil, "which", lambda name: None)
    with pytest.raises(ModelError, match="espeak-ng"):
        lexicon.build_dictionary(["blepharospasm"], tmp_path / "x.dict")


# --- language model -------------------------------------------------------------------------


def read_arpa(path: Path) -> tuple[dict[int, int], list[dict[tuple[str, ...], tuple[float, float]]]]:
    """Declared counts and the n-gram tables {gram: (log10 p, log10 bow)} of an ARPA file."""
    text = path.read_text(encoding="utf-8")
    assert text.startswith("\\data\\\n") and text.rstrip().endswith("\\end\\")
    declared = {int(n): int(c) for n, c in re.findall(r"^ngram (\d)=(\d+)$", text, re.M)}
    tables: list[dict[tuple[str, ...], tuple[float, float]]] = []
    for order in sorted(declared):
        body = text.split(f"\\{order}-grams:\n", 1)[1].split("\n\n", 1)[0]
        table = {}
        for line in body.splitlines():
            fields = line.split()
            gram = tuple(fields[1 : 1 + order])
            bow = float(fields[1 + order]) if len(fields) > 1 + order else 0.0
            table[gram] = (float(fields[0]), bow)
        tables.append(table)
    return declared, tables


def backoff_prob(tables: list[dict[tuple[str, ...], tuple[float, float]]], gram: tuple[str, ...]) -> float:
    if gram in tables[len(gram) - 1]:
        return 10 ** tables[len(gram) - 1][gram][0]
    bow = tables[len(gram) - 2].get(gram[:-1], (0.0, 0.0))[1]
    return 10**bow * backoff_prob(tables, gram[1:])


def test_arpa_is_valid_normalised_and_loads_in_pocketsphinx(tmp_path: Path) -> None:
    import pocketsphinx

    model = build_domain_model(["Blepharospasm makes your eyes close.", "Dystonia affects muscles."],
                               ["stop"], tmp_path, general_weight=0.0)  # fmt: skip
    declared, tables = read_arpa(tmp_path / LM_FILE)
    assert declared == {n + 1: len(t) for n, t in enumerate(tables)} and declared[3] > 0
    vocab = [g[0] for g in tables[0] if g[0] != "<s>"]
    for context in [("<s>",), ("what",), ("what", "causes"), ("tell", "me"), ("eyes",)]:
        total = sum(backoff_prob(tables, (*context, w)) for w in vocab)
        assert math.isclose(total, 1.0, abs_tol=1e-3), (context, total)
    assert {"blepharospasm", "dystonia", "stop", "tell"} <= set(model.words)
    lm = pocketsphinx.NGramModel.readfile(str(tmp_path / LM_FILE))
    assert lm.prob(["blepharospasm"]) > lm.prob(["zebra"])
    assert "blepharospasm" in (tmp_path / DICT_FILE).read_text()


def test_english_bigrams_are_mixed_in_and_the_model_stays_normalised(tmp_path: Path) -> None:
    """Everyday words around the content's words ("have trouble", "cause pain") get English bigram probability."""
    import pocketsphinx

    sentences = ["Oromandibular dystonia may cause difficulty swallowing.", "Dystonia affects muscles."]
    plain = build_domain_model(sentences, out_dir=tmp_path / "plain", bigram_weight=0.0)
    mixed = build_domain_model(sentences, out_dir=tmp_path / "mixed")
    assert plain.build_dir is not None and mixed.build_dir is not None
    declared, tables = read_arpa(mixed.build_dir / LM_FILE)
    assert declared == {n + 1: len(t) for n, t in enumerate(tables)}
    vocab = [g[0] for g in tables[0] if g[0] != "<s>"]
    for context in [("<s>",), ("trouble",), ("have", "trouble"), ("difficulty",), ("may", "cause")]:
        total = sum(backoff_prob(tables, (*context, w)) for w in vocab)
        assert math.isclose(total, 1.0, abs_tol=1e-3), (context, total)
    before = pocketsphinx.NGramModel.readfile(str(plain.build_dir / LM_BIN_FILE))
    after = pocketsphinx.NGramModel.readfile(str(mixed.build_dir / LM_BIN_FILE))
    for word, history in [("trouble", "have"), ("pain", "cause"), ("much", "so")]:
        assert after.prob([word, history]) > before.prob([word, history]) + 10_000, (history, word)  # x2.7 at least
    assert after.prob(["dystonia", "oromandibular"]) > before.prob(["swallowing", "oromandibular"])


def test_general_words_are_mixed_in(domain: DomainModel) -> None:
    assert domain.build_dir is not None
    _, tables = read_arpa(domain.build_dir / LM_FILE)
    unigrams = {g[0] for g in tables[0]}
    assert {"music", "weather", "dystonia", "blepharospasm"} <= unigrams
    assert "music" not in domain.words and "dystonia" in domain.words


def test_words_of_questions_the_content_cannot_answer_can_be_heard(tmp_path: Path) -> None:
    """Rare health words join the vocabulary, so "gout" is not forced onto "got" (and then answered)."""
    sentences = ["Medications can sometimes improve dystonia symptoms.", "Dystonia affects muscles."]
    plain = build_domain_model(sentences, out_dir=tmp_path / "plain", bigram_weight=0.0)
    wider = build_domain_model(sentences, out_dir=tmp_path / "wider", bigram_weight=0.0, other_words=("gout", "eczema"))
    assert plain.build_dir is not None and wider.build_dir is not None
    unigrams = [{g[0] for g in read_arpa(model.build_dir / LM_FILE)[1][0]} for model in (plain, wider)]
    assert not {"gout", "eczema"} & unigrams[0] and {"gout", "eczema"} <= unigrams[1]
    assert "gout" not in wider.words and "gout" in wider.other_words  # not a content word, but one to hear


def test_visitors_words_fill_the_question_frames() -> None:
    """A word visitors use ("blinks") is heard in questions, though the document never says it."""
    plain = build_corpus(["Blinking may be involuntary."])
    filled = build_corpus(["Blinking may be involuntary."], fillers=["blinks", "Eyes keep closing"])
    assert ["why", "do", "my", "blinks"] not in plain
    assert ["why", "do", "my", "blinks"] in filled and ["tell", "me", "about", "eyes", "keep", "closing"] in filled


def test_content_build_teaches_synonyms_and_titles() -> None:
    from kiosk import content
    from kiosk.speechdomain import training_text

    kb = content.load(DOCUMENT.parents[1])
    _, _, fillers = training_text(kb)
    assert {"blinks", "anxiety", "What dystonia is", "botox"} <= set(fillers)


def test_numbers_and_hyphens_are_spoken_words() -> None:
    assert words_of("Day-to-day tasks at 42 sites, writer’s cramp") == \
        ["day", "to", "day", "tasks", "at", "forty", "two", "sites", "writer's", "cramp"]  # fmt: skip
    assert spell_number(1905) == "one thousand nine hundred five"


# --- recognition ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "keyword", "voice"),
    [
        ("what is blepharospasm", "blepharospasm", "flite"),
        ("what causes dystonia", "dystonia", "flite"),
        ("tell me about spasmodic dysphonia", "dysphonia", "flite"),
        ("what is oromandibular dystonia", "oromandibular", "flite"),
        ("can oromandibular dystonia affect my jaw", "oromandibular", "festival"),
        ("tell me about spasmodic dysphonia", "dysphonia", "festival"),
    ],
)
def test_domain_questions_are_heard(recognizer: PocketSphinxRecognizer, audio_dir: Path,
                                    question: str, keyword: str, voice: str) -> None:  # fmt: skip
    result = recognizer.recognize(speak(question, audio_dir, voice))
    assert keyword in result.text.split(), result.text
    assert result.final and result.engine == "pocketsphinx"


def test_default_model_without_domain(audio_dir: Path) -> None:
    result = PocketSphinxRecognizer(None).recognize(speak("when should i see a doctor", audio_dir))
    assert "doctor" in result.text.split(), result.text


def test_the_stop_watcher_scores_with_fewer_gaussians_and_still_hears_stop(domain: DomainModel,
                                                                           audio_dir: Path) -> None:  # fmt: skip
    """The recogniser that listens for "stop" while the kiosk speaks trades accuracy for speed."""
    watcher = PocketSphinxRecognizer(domain, quick=True, twin=False)
    assert watcher._decoder.config["topn"] == STOP_WATCH_OPTIONS["topn"]
    assert watcher._decoder.config["fwdflat"] is False  # it only reads partials: a pass at reset is wasted
    assert PocketSphinxRecognizer(domain, twin=False)._decoder.config["fwdflat"] is True
    assert PocketSphinxRecognizer(domain, twin=False)._decoder.config["topn"] == DECODER_OPTIONS["topn"]
    assert STOP_WATCH_OPTIONS["topn"] < DECODER_OPTIONS["topn"]  # type: ignore[operator]
    for voice in ("flite", "festival"):
        assert watcher.recognize(speak("stop", audio_dir, voice)).text == "stop"


def test_streaming_gives_partials_then_timed_confident_words(recognizer: PocketSphinxRecognizer,
                                                             audio_dir: Path) -> None:  # fmt: skip
    pcm = speak("tell me about blepharospasm", audio_dir)
    recognizer.reset()
    partials = [p for i in range(0, len(pcm), 3200) if (p := recognizer.accept(pcm[i : i + 3200]))]
    final = recognizer.finish()
    assert partials and all(not p.final and p.text for p in partials)
    assert all(a.text != b.text for a, b in pairwise(partials))  # only changes are reported
    assert final.final and "blepharospasm" in final.text
    assert final.text == " ".join(w.text for w in final.words)
    assert all(0.0 <= w.confidence <= 1.0 for w in final.words) and 0.5 < final.confidence <= 1.0
    starts = [w.start_s for w in final.words]
    assert starts == sorted(starts) and 0 < final.words[-1].end_s <= len(pcm) / 32000 + 0.05


def test_odd_sized_chunks_give_the_same_result(recognizer: PocketSphinxRecognizer, audio_dir: Path) -> None:
    pcm = speak("what causes dystonia", audio_dir)
    assert recognizer.recognize(pcm, chunk_bytes=3001).text == recognizer.recognize(pcm).text


def test_silence_and_no_audio_give_empty_text(recognizer: PocketSphinxRecognizer) -> None:
    assert recognizer.recognize(bytes(32000)).text == ""
    recognizer.reset()
    empty = recognizer.finish()
    assert empty.text == "" and empty.words == () and empty.final


def test_noise_scores_below_clean_speech(recognizer: PocketSphinxRecognizer, audio_dir: Path) -> None:
    speech = recognizer.recognize(speak("what causes dystonia", audio_dir))
    rng = np.random.default_rng(7)
    for amplitude in (300, 1000, 3000):  # pulsing low-pass noise, which the decoder does turn into words
        x = np.convolve(rng.normal(0, amplitude, 48000), np.ones(20) / 20, "same")
        noise = recognizer.recognize((x * (1 + np.sin(np.arange(48000) / 800))).astype(np.int16).tobytes())
        assert noise.confidence < 0.5 < speech.confidence, (noise, speech)


def test_reset_drops_the_utterance_in_progress(recognizer: PocketSphinxRecognizer, audio_dir: Path) -> None:
    first = speak("tell me about blepharospasm", audio_dir)
    recognizer.accept(first[: len(first) // 2 + 1])
    recognizer.reset()
    recognizer.accept(bytes(16000))
    assert recognizer.finish().text == ""


def test_missing_or_broken_model_files_are_model_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="missing"):
        PocketSphinxRecognizer(DomainModel(words=("dystonia",), build_dir=tmp_path))
    (tmp_path / LM_BIN_FILE).write_text("not a language model\n")
    (tmp_path / DICT_FILE).write_text("dystonia D IH S T OW N IY AH\n")
    with pytest.raises(ModelError, match="could not load"):
        PocketSphinxRecognizer(DomainModel(words=("dystonia",), build_dir=tmp_path))


def test_a_recording_is_also_heard_at_once_without_disturbing_live_adaptation(
        domain: DomainModel, audio_dir: Path) -> None:  # fmt: skip
    """The whole-recording pass uses the recording's own cepstral mean, then puts back the carried one."""
    pcm = speak("tell me about spasmodic dysphonia", audio_dir, "festival")
    padded = bytes(32000) + pcm + bytes(32000)  # an edited recording: digital silence around the speech
    streamed_only, both = PocketSphinxRecognizer(domain), PocketSphinxRecognizer(domain)
    streamed = Recognizer.recognize(streamed_only, padded)
    chosen = both.recognize(padded)
    at_once = both._recognize_at_once(padded)
    assert "dysphonia" in chosen.text.split() and "dysphonia" in at_once.text.split(), (chosen, at_once)
    assert len(chosen.alternatives) == 1  # the other hearing, for understanding to weigh
    sure = [(t := with_completeness(r, len(padded) / 32000)).confidence * t.completeness for r in (chosen, streamed)]
    assert sure[0] >= sure[1]
    assert both._decoder.get_cmn() == streamed_only._decoder.get_cmn()
    again = PocketSphinxRecognizer(domain).recognize(padded)  # dithered, but the same every time
    assert (again.text, again.confidence) == (chosen.text, chosen.confidence)


def test_a_second_decoder_in_a_child_process_hears_the_whole_recording_as_this_one_would(
        domain: DomainModel, audio_dir: Path, caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    """The twin hears the whole recording (warped for a high voice) while this decoder streams it, and
    hears it exactly as this process alone would, words, confidences and all. A twin that cannot start
    leaves this decoder to do both."""
    man, woman = speak("tell me about spasmodic dysphonia", audio_dir, "festival"), speak("can surgery help", audio_dir)
    alone, fresh = PocketSphinxRecognizer(domain, twin=False), PocketSphinxRecognizer(domain, twin=False)
    twinned = PocketSphinxRecognizer(domain, twin=False)
    twinned._twin = Twin(partial(PocketSphinxRecognizer, domain, twin=False))  # whatever the cores here
    first = twinned.recognize(man)  # heard here while the twin starts
    assert first == alone.recognize(man) and twinned._twin.start().result(timeout=60)
    for pcm in (man, woman):
        pending = twinned._twin.hear(pcm, 1.0)
        assert pending is not None and pending.result(timeout=60) == fresh.hear_at_once(pcm, 1.0)
        heard, expected = twinned.recognize(pcm), alone.recognize(pcm)
        assert twinned._twin._pool is not None and heard == expected, (heard, expected)
    assert twinned._decoder.get_cmn() == alone._decoder.get_cmn()  # and left the front end as it would have
    warped = twinned._twin.result(twinned._twin.hear(woman, HIGH_VOICE_WARP))
    assert warped == fresh.hear_at_once(woman, HIGH_VOICE_WARP) and warped.text == "can surgery help", warped
    broken = PocketSphinxRecognizer(domain, twin=False)
    broken._twin = Twin(partial(int, "not a recogniser"))  # the child fails as it starts
    assert broken._twin.start().exception(timeout=60) is not None
    assert broken.recognize(man).text == PocketSphinxRecognizer(domain, twin=False).recognize(man).text
    assert not broken._twin.enabled and "second decoder failed" in caplog.text


def test_an_utterance_taken_back_is_heard_again_from_where_it_began(domain: DomainModel, audio_dir: Path) -> None:
    """Live, an utterance finished early is taken back when speech resumes (kiosk.utterance): `restore` returns
    the cepstral means to where they were at its `mark`, and hearing it again from the start hears what one
    hearing did, for a low voice and for a high one that is heard warped. (Set back, the mean continues from
    its printed value, so confidences may differ a little from one unbroken hearing's.)"""
    def stream(recognizer: PocketSphinxRecognizer, pcm: bytes) -> None:
        for start in range(0, len(pcm), 960):
            recognizer.accept(pcm[start : start + 960])

    for voice in ("festival", "flite"):
        earlier = speak("tell me about dystonia", audio_dir, voice)
        question = speak("what is blepharospasm and how is it treated", audio_dir, voice)
        once, again = PocketSphinxRecognizer(domain, twin=False), PocketSphinxRecognizer(domain, twin=False)
        for recognizer in (once, again):
            stream(recognizer, earlier)
            recognizer.finish()
        stream(once, question)
        expected = once.finish()
        mark = again.mark()
        stream(again, question[: len(question) // 2])
        assert again.finish().text != expected.text  # finished early: the visitor had only paused
        again.restore(mark)
        assert again._decoder.get_cmn() == mark[0]  # type: ignore[index]
        stream(again, question)
        heard = again.finish()
        assert heard.text == expected.text and "blepharospasm" in heard.text.split(), (voice, heard, expected)


def test_a_twin_let_go_has_finished_with_its_threads_before_the_program_goes_on() -> None:
    """A twin's pool closes its pipes from a manager thread. Left running as the interpreter exits, that
    thread raced concurrent.futures' exit hook, which printed a traceback after a batch (seen in CI)."""
    before = set(threading.enumerate())
    twin = Twin(dict)
    ready = twin.start()
    assert ready is not None and ready.result(timeout=60)
    started = set(threading.enumerate()) - before
    assert started, "the pool runs a manager thread"
    del twin, ready
    gc.collect()
    assert not [t for t in started if t.is_alive()]


def test_a_recording_heard_at_once_is_heard_the_same_whatever_came_before(
        domain: DomainModel, audio_dir: Path) -> None:  # fmt: skip
    """The whole-recording pass starts from the recording's own cepstral mean, not the one carried over
    from earlier recordings (another voice, a noisy room), so a batch's order cannot change what it hears."""
    pcm = speak("does stress make dystonia worse", audio_dir, "festival")
    fresh = PocketSphinxRecognizer(domain)._recognize_at_once(pcm)
    used = PocketSphinxRecognizer(domain)
    rng = np.random.default_rng(3)
    used.recognize(speak("tell me about blepharospasm", audio_dir))  # another voice first
    used.recognize((rng.normal(0, 2000, 32000) + 8000 * np.sin(np.arange(32000) / 3)).astype(np.int16).tobytes())
    carried = used._decoder.get_cmn()
    after = used._recognize_at_once(pcm)
    assert [(w.text, w.confidence, w.start_s) for w in after.words] == [
        (w.text, w.confidence, w.start_s) for w in fresh.words], (after, fresh)
    assert used._decoder.get_cmn() == carried  # live listening keeps its own adaptation


def test_voice_pitch_tells_a_high_voice_from_a_low_one(audio_dir: Path) -> None:
    """flite's slt is a woman's voice, festival's ked a man's; noise, silence and a click have no pitch."""
    high = voice_pitch_hz(speak("can surgery help", audio_dir))
    low = voice_pitch_hz(speak("can surgery help", audio_dir, "festival"))
    assert HIGH_VOICE_HZ <= high <= 220 and 85 <= low < HIGH_VOICE_HZ - 30, (high, low)
    noise = np.random.default_rng(5).normal(0, 3000, 48000).astype(np.int16).tobytes()
    assert voice_pitch_hz(noise) == 0.0
    assert voice_pitch_hz(bytes(96000)) == 0.0
    assert voice_pitch_hz(np.full(100, 9000, dtype=np.int16).tobytes()) == 0.0


def test_a_high_voice_is_heard_through_a_frequency_warp(domain: DomainModel, audio_dir: Path) -> None:
    """Unwarped, slt's "do botox injections help" was "do about oxygen jack shed help" (confidence 0.3) all
    at once. Afterwards the front end is unwarped again, with the mean the unwarped hearings carried: warped
    features have a mean of their own, which the next warped hearing starts from."""
    pcm = speak("do botox injections help", audio_dir)
    recognizer = PocketSphinxRecognizer(domain)
    recognizer.recognize(speak("what is dystonia", audio_dir, "festival"))
    unwarped = recognizer._decoder.get_cmn()
    heard = recognizer.recognize(pcm)
    assert heard.text == "do botox injections help" and heard.confidence >= 0.8, heard
    assert recognizer._decoder.config["warp_params"] == "1.0"
    assert recognizer._decoder.get_cmn() == unwarped
    recognizer._set_warp(HIGH_VOICE_WARP)
    warped = recognizer._decoder.get_cmn()
    recognizer._set_warp(1.0)
    assert recognizer._decoder.get_cmn() == unwarped
    differ = [abs(float(a) - float(b)) for a, b in zip(warped.split(","), unwarped.split(","), strict=True)]
    assert max(differ) > 1.0, (warped, unwarped)  # slt's warped mean, kept for the next high voice


def test_live_listening_warps_a_high_voice_from_its_opening_second(domain: DomainModel, audio_dir: Path) -> None:
    """Streamed in 0.1 s chunks as from a microphone, a fresh decoder's first utterance: warped, "does the
    box help my neck" (0.80); unwarped, "does monoxide help my neck" (0.48). The next utterance decides
    afresh: a man's voice after it is heard unwarped."""
    recognizer = PocketSphinxRecognizer(domain)
    pcm = speak("does botox help my neck", audio_dir)
    for start in range(0, len(pcm), 3200):
        recognizer.accept(pcm[start : start + 3200])
    assert recognizer._decoder.config["warp_params"] == str(HIGH_VOICE_WARP)
    heard = recognizer.finish()
    assert heard.text.endswith("help my neck") and "monoxide" not in heard.text and heard.confidence >= 0.7, heard
    assert recognizer._decoder.config["warp_params"] == "1.0"
    man = speak("does stress make dystonia worse", audio_dir, "festival")
    for start in range(0, len(man), 3200):
        recognizer.accept(man[start : start + 3200])
    assert recognizer._decoder.config["warp_params"] == "1.0"
    assert recognizer.finish().text == "does stress make dystonia worse"


def pitched_up(pcm: bytes, folder: Path) -> bytes:
    """The same speech a third higher, formants and all (sox pitch +400 cents, as the dev set's kedhigh)."""
    low, high = folder / "low.wav", folder / "high.wav"
    with wave.open(str(low), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(16000)
        f.writeframes(pcm)
    subprocess.run(["sox", str(low), str(high), "pitch", "400"], check=True, capture_output=True)
    with wave.open(str(high)) as f:
        return f.readframes(f.getnframes())


def test_a_voice_pitched_like_a_high_mans_is_warped_only_when_that_fits_it_better(
        domain: DomainModel, audio_dir: Path) -> None:  # fmt: skip
    """Festival's ked pitched up is at 127-137 Hz, where men's voices are too (flite awb: 133 Hz), so pitch
    cannot tell; how well the recording's first hearing fits the audio warped and unwarped can."""
    recognizer = PocketSphinxRecognizer(domain)
    for text in ("is dystonia inherited", "tell me about blepharospasm"):
        low = speak(text, audio_dir, "festival")
        high = pitched_up(low, audio_dir)
        assert MIDDLE_VOICE_HZ <= voice_pitch_hz(high) < HIGH_VOICE_HZ
        assert recognizer._fits_warped(high, text) and not recognizer._fits_warped(low, text), text
