"""Noise suppression on real synthesised speech with white noise mixed in at test time.

The denoiser must take hiss out of the pauses, keep the speech, leave clean recordings alone, and make
noisy questions easier for the real recogniser to hear.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import soundfile
from test_asr_pocketsphinx import domain, speak  # noqa: F401  (the module's fixture, reused)

from kiosk.asr_pocketsphinx import PocketSphinxRecognizer
from kiosk.audio_in import load_utterance
from kiosk.denoise import FRAME, HOP, NoiseSuppressor, suppress_noise
from kiosk.recognizer import SAMPLE_RATE, DomainModel

QUESTIONS = ["what is blepharospasm", "how is dystonia treated", "can a stroke cause dystonia",
             "what are the symptoms of dystonia", "is dystonia genetic", "tell me about writer's cramp"]


def with_noise(pcm: bytes, snr_db: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(speech padded with half a second of silence each side, the same with white noise at snr_db)."""
    speech = np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768
    pad = np.zeros(SAMPLE_RATE // 2, dtype=np.float32)
    clean = np.concatenate([pad, speech, pad])
    voiced = clean[np.abs(clean) > 0.01]
    noise = np.random.default_rng(seed).standard_normal(len(clean)).astype(np.float32)
    noise *= np.sqrt(np.mean(voiced**2) / 10 ** (snr_db / 10) / np.mean(noise**2))
    return clean, clean + noise


def power_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(x.astype(np.float64) ** 2) + 1e-20))


@pytest.fixture(scope="module")
def ked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("ked")
    return {q: speak(q, folder, voice="ked") for q in QUESTIONS}


def test_hiss_goes_speech_stays(ked: dict[str, bytes]) -> None:
    clean, noisy = with_noise(ked[QUESTIONS[0]], 20, seed=1)
    out = suppress_noise(noisy)
    assert out.dtype == np.float32 and len(out) == len(noisy)
    pause = slice(FRAME, SAMPLE_RATE // 2 - FRAME)  # inside the leading half second of silence
    hiss_before, hiss_after = power_db(noisy[pause]), power_db(out[pause])
    loud = np.abs(clean) > 0.05
    speech_before, speech_after = power_db(noisy[loud]), power_db(out[loud])
    print(f"hiss {hiss_before:.1f} -> {hiss_after:.1f} dB; speech {speech_before:.1f} -> {speech_after:.1f} dB")
    assert hiss_after < hiss_before - 8  # FLOOR keeps 5 % of the power (-13 dB) against musical noise
    assert speech_after > speech_before - 3


def test_clean_recordings_are_left_alone(ked: dict[str, bytes]) -> None:
    clean, _ = with_noise(ked[QUESTIONS[1]], 20, seed=2)
    dithered = clean + np.random.default_rng(3).standard_normal(len(clean)).astype(np.float32) * 1e-4
    assert np.array_equal(suppress_noise(clean), clean)
    assert np.array_equal(suppress_noise(dithered), dithered)


@pytest.mark.parametrize("samples", [np.zeros(0), np.zeros(100), np.zeros(16_000), np.ones(16_000)])
def test_short_silent_or_constant_input_is_returned_whole(samples: np.ndarray) -> None:
    out = suppress_noise(samples.astype(np.float32))
    assert len(out) == len(samples) and np.all(np.isfinite(out))


def test_noisy_questions_are_heard_better(ked: dict[str, bytes], domain: DomainModel, tmp_path: Path) -> None:  # noqa: F811
    """White noise at 15 dB SNR, festival's voice: word errors with and without suppression."""
    errors = {True: 0, False: 0}
    words = 0
    for seed, question in enumerate(QUESTIONS):
        _, noisy = with_noise(ked[question], 15, seed=10 + seed)
        path = tmp_path / f"{seed}.wav"
        soundfile.write(path, noisy, SAMPLE_RATE, subtype="PCM_16")
        ref = question.split()
        words += len(ref)
        for denoise in (True, False):
            heard = PocketSphinxRecognizer(domain).recognize(load_utterance(path, denoise=denoise).pcm).text
            errors[denoise] += word_errors(ref, heard.split())
            print(f"{'denoised' if denoise else 'as is':8} {question!r}: {heard!r}")
    print(f"word error rate at 15 dB SNR: {errors[False] / words:.2f} as is, {errors[True] / words:.2f} denoised")
    assert errors[True] / words <= 0.25
    assert errors[True] < errors[False]


def word_errors(ref: list[str], hyp: list[str]) -> int:
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        diag, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            diag, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diag + (re.sub("'", "", r) != re.sub("'", "", h)))
    return row[-1]


def stream(samples: np.ndarray, speech: np.ndarray, chunk: int = 480) -> np.ndarray:
    """Feed a NoiseSuppressor as the voice loop does; return its output aligned with the input."""
    suppressor = NoiseSuppressor()
    out = np.concatenate([suppressor.process(samples[i : i + chunk], bool(speech[i : i + chunk].any()))
                          for i in range(0, len(samples), chunk)])  # fmt: skip
    return out[FRAME - HOP :]


def test_the_microphone_stream_is_cleaned_like_a_file(ked: dict[str, bytes]) -> None:
    clean, noisy = with_noise(ked[QUESTIONS[2]], 20, seed=4)
    clean, noisy = np.concatenate([np.zeros(16_000, np.float32), clean]), np.concatenate([
        np.random.default_rng(5).standard_normal(16_000).astype(np.float32) * float(np.std(noisy[:4000])), noisy])
    speech = np.abs(clean) > 0.01
    out = stream(noisy, speech)
    n = len(out)
    pause = ~np.convolve(speech, np.ones(FRAME), "same").astype(bool)[:n]
    pause[:SAMPLE_RATE] = False  # the first second builds the estimate
    print(f"pauses {power_db(noisy[:n][pause]):.1f} -> {power_db(out[pause]):.1f} dB (file: "
          f"{power_db(suppress_noise(noisy)[:n][pause]):.1f} dB)")
    assert power_db(out[pause]) < power_db(noisy[:n][pause]) - 8
    loud = np.abs(clean[:n]) > 0.05
    assert power_db(out[loud]) > power_db(noisy[:n][loud]) - 3
    other = stream(noisy, speech, chunk=1000)[: n - 1000]  # the estimate is updated per chunk: close, not equal
    assert power_db(other - out[: n - 1000]) < power_db(out) - 20


def test_clean_microphone_audio_passes_through(ked: dict[str, bytes]) -> None:
    clean, _ = with_noise(ked[QUESTIONS[3]], 20, seed=6)
    out = stream(clean, np.abs(clean) > 0.01)
    n = len(out)
    assert power_db(out - clean[:n]) < power_db(clean[:n]) - 30
