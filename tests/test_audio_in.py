"""Audio intake on real synthesised speech (espeak-ng) in every common rate, format and failure mode."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile

from kiosk.audio_in import (
    Utterance,
    load_utterance,
    normalise_gain,
    pcm_from_array,
    read_audio,
    speech_segments,
    to_16k,
    vad_gain_db,
)
from kiosk.errors import AudioError

RATE = 16_000
Array = np.ndarray


def _espeak(text: str, path: Path) -> Path:
    subprocess.run(["espeak-ng", "-w", str(path), text], check=True, capture_output=True)
    return path


def _sox(src: Path, dst: Path, *options: str) -> Path:
    subprocess.run(["sox", "-D", str(src), *options, str(dst)], check=True, capture_output=True)
    return dst


def _write(path: Path, samples: Array, rate: int = RATE, subtype: str | None = None) -> Path:
    soundfile.write(str(path), samples, rate, subtype=subtype)
    return path


def _pcm_array(utterance: Utterance) -> Array:
    return np.frombuffer(utterance.pcm, dtype="<i2").astype(np.float64) / 32767.0


def _active(samples: Array) -> Array:
    """The stretch from the first to the last sample louder than -50 dBFS: espeak's own silence removed."""
    loud = np.flatnonzero(np.abs(samples) > 10 ** (-50 / 20))
    return samples[loud[0] : loud[-1] + 1]


def _noise(seconds: float, rms_dbfs: float, seed: int) -> Array:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(int(seconds * RATE)) * 10 ** (rms_dbfs / 20)).astype(np.float32)


def _silence(seconds: float) -> Array:
    return np.zeros(int(seconds * RATE), dtype=np.float32)


def _locate(haystack: Array, needle: Array) -> tuple[float, int]:
    """Best normalised cross-correlation of needle inside haystack (1.0 = found unchanged) and where."""
    haystack, needle = np.asarray(haystack, np.float64), np.asarray(needle, np.float64)
    assert len(needle) <= len(haystack), "needle longer than haystack: it cannot be inside"
    size = len(haystack) + len(needle)
    corr = np.fft.irfft(np.fft.rfft(haystack, size) * np.conj(np.fft.rfft(needle, size)), size)
    corr = corr[: len(haystack) - len(needle) + 1]
    energy = np.concatenate([[0.0], np.cumsum(haystack**2)])
    window = energy[len(needle) :] - energy[: len(haystack) - len(needle) + 1]
    scores = corr / (np.linalg.norm(needle) * np.sqrt(np.maximum(window, 1e-20)))
    best = int(np.argmax(scores))
    return float(scores[best]), best


def _match(haystack: Array, needle: Array) -> float:
    return _locate(haystack, needle)[0]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("audio")


@pytest.fixture(scope="module")
def speech_file(workdir: Path) -> Path:
    """espeak-ng's own output: 22.05 kHz mono 16-bit."""
    return _espeak("what causes dystonia and how is it treated", workdir / "speech.wav")


@pytest.fixture(scope="module")
def reference(speech_file: Path, workdir: Path) -> Array:
    """The speech at 16 kHz made by sox, a resampler independent of the code under test."""
    samples, _ = soundfile.read(str(_sox(speech_file, workdir / "reference.wav", "-r", "16000")))
    return np.asarray(samples)


@pytest.fixture(scope="module")
def clean(speech_file: Path) -> Utterance:
    return load_utterance(speech_file)


def _variant(name: str, src: Path, out: Path) -> Path:
    """Write the espeak speech as one common kind of file."""
    data, rate = soundfile.read(str(src))
    sox_rates = {"8k": "8000", "44k": "44100", "48k": "48000"}
    if name in sox_rates:
        return _sox(src, out / f"{name}.wav", "-r", sox_rates[name])
    if name == "stereo":
        return _sox(src, out / "stereo.wav", "-c", "2")
    if name == "16k":
        return _sox(src, out / "16k.wav", "-r", "16000")
    if name == "flac":
        return _write(out / "speech.flac", data, rate)
    if name == "ogg":
        return _write(out / "speech.ogg", data, rate, "VORBIS")
    return _write(out / f"{name}.wav", data, rate, name)


VARIANTS = {
    # name: (sample rate read back, least correlation with the 16 kHz reference)
    "8k": (8000, 0.80),  # loses everything above 4 kHz: espeak's fricatives
    "16k": (16000, 0.99),
    "44k": (44100, 0.99),
    "48k": (48000, 0.99),
    "stereo": (22050, 0.99),
    "PCM_U8": (22050, 0.97),
    "PCM_16": (22050, 0.99),
    "PCM_24": (22050, 0.99),
    "PCM_32": (22050, 0.99),
    "FLOAT": (22050, 0.99),
    "flac": (22050, 0.99),
    "ogg": (22050, 0.95),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_every_common_format_becomes_16k_mono_with_the_speech_kept(
    name: str, speech_file: Path, workdir: Path, reference: Array, clean: Utterance
) -> None:
    path = _variant(name, speech_file, workdir)
    expected_rate, least_correlation = VARIANTS[name]
    samples, rate = read_audio(path)
    assert rate == expected_rate
    assert samples.ndim == 1 and samples.dtype == np.float32
    resampled = to_16k(samples, rate)
    assert abs(len(resampled) - len(reference)) <= 2
    length = min(len(resampled), len(reference))
    assert _match(resampled[:length], reference[:length]) >= least_correlation
    utterance = load_utterance(path)
    assert utterance.has_speech
    assert abs(utterance.duration_s - len(reference) / RATE) < 0.01
    assert abs(utterance.speech_s - clean.speech_s) <= 0.25
    assert len(utterance.pcm) % 2 == 0


def test_clean_speech_is_mostly_found_as_speech(speech_file: Path, reference: Array, clean: Utterance) -> None:
    active_s = len(_active(reference)) / RATE
    assert 0.7 * active_s <= clean.speech_s <= active_s + 0.1
    assert 0.5 < clean.peak <= 1.0


def test_leading_and_trailing_silence_is_trimmed(reference: Array, workdir: Path) -> None:
    speech = _active(reference)
    padded = np.concatenate([_silence(2.0), speech, _silence(2.0)]) + _noise(len(speech) / RATE + 4, -60, 1)
    utterance = load_utterance(_write(workdir / "padded.wav", padded))
    kept = _pcm_array(utterance)
    assert abs(utterance.duration_s - len(padded) / RATE) < 0.01
    score, offset = _locate(kept, speech)
    assert score > 0.99
    assert 0.2 * RATE <= offset <= 0.4 * RATE  # about 0.3 s kept before the speech
    assert 0.2 * RATE <= len(kept) - offset - len(speech) <= 0.45 * RATE  # and after it


def test_long_pause_inside_is_shortened_and_both_halves_kept(workdir: Path) -> None:
    halves = []
    for index, text in enumerate(["what causes dystonia", "and how is it treated"]):
        samples, rate = soundfile.read(str(_espeak(text, workdir / f"half{index}.wav")))
        halves.append(_active(to_16k(samples.astype(np.float32), rate)))
    pause = np.concatenate([halves[0], _silence(1.5), halves[1]])
    recording = np.concatenate([_silence(0.5), pause, _silence(0.5)]) + _noise(len(pause) / RATE + 1, -60, 2)
    utterance = load_utterance(_write(workdir / "pause.wav", recording))
    kept = _pcm_array(utterance)
    (score0, offset0), (score1, offset1) = _locate(kept, halves[0]), _locate(kept, halves[1])
    assert score0 > 0.99 and score1 > 0.99
    assert 0.3 * RATE <= offset1 - (offset0 + len(halves[0])) <= 0.6 * RATE  # 1.5 s pause now about 0.4 s


@pytest.mark.parametrize("level_db", [-30, -45])
def test_quiet_recording_is_normalised(level_db: int, reference: Array, workdir: Path, clean: Utterance) -> None:
    quiet = np.concatenate([_silence(0.5), reference * 10 ** (level_db / 20), _silence(0.5)])
    utterance = load_utterance(_write(workdir / f"quiet{level_db}.wav", quiet))
    peak_dbfs = 20 * np.log10(np.max(np.abs(_pcm_array(utterance))))
    expected_dbfs = min(-3.0, 20 * np.log10(np.max(np.abs(quiet))) + 30)  # -3 dBFS, at most 30 dB of gain
    assert abs(peak_dbfs - expected_dbfs) < 0.5
    assert utterance.peak == pytest.approx(np.max(np.abs(quiet)), rel=0.01)
    assert abs(utterance.speech_s - clean.speech_s) <= 0.25


def test_gain_is_capped_for_very_quiet_speech(reference: Array) -> None:
    boosted, gain_db = normalise_gain((reference * 10 ** (-50 / 20)).astype(np.float32))
    assert gain_db == 30.0
    assert np.max(np.abs(boosted)) == pytest.approx(np.max(np.abs(reference)) * 10 ** (-20 / 20), rel=1e-3)


def test_vad_gain_does_not_lift_noise_into_speech_levels() -> None:
    noise = np.concatenate([_silence(1.0), _noise(2.0, -45, 3)])
    _, gain_db = normalise_gain(noise)
    assert gain_db > 20.0
    assert vad_gain_db(noise, gain_db) == pytest.approx(0.0, abs=0.5)


def test_vad_gain_still_lifts_quiet_speech(reference: Array) -> None:
    quiet = np.concatenate([_silence(0.5), reference * 10 ** (-30 / 20), _silence(0.5)]).astype(np.float32)
    _, gain_db = normalise_gain(quiet)
    assert vad_gain_db(quiet, gain_db) > 15.0


@pytest.mark.parametrize(
    "name, samples",
    [
        ("hiss-60", _noise(3.0, -60, 4)),
        ("hiss-45", _noise(3.0, -45, 5)),
        ("hiss-35", _noise(3.0, -35, 6)),
        ("silence-then-hiss", np.concatenate([_silence(1.0), _noise(2.0, -45, 7)])),
        ("digital-silence", _silence(3.0)),
    ],
)
def test_noise_or_silence_alone_is_not_speech(name: str, samples: Array, workdir: Path) -> None:
    utterance = load_utterance(_write(workdir / f"{name}.wav", samples))
    assert not utterance.has_speech
    assert utterance.speech_s == 0.0
    assert utterance.pcm == b""
    assert utterance.duration_s == pytest.approx(3.0)


@pytest.mark.parametrize("snr_db", [20, 10])
def test_speech_in_white_noise_is_found_and_the_noise_is_not(
    snr_db: int, reference: Array, workdir: Path, clean: Utterance
) -> None:
    speech = np.concatenate([_silence(1.0), reference, _silence(1.0)])
    speech_rms_db = 20 * np.log10(np.sqrt(np.mean(_active(reference) ** 2)))
    noisy = speech + _noise(len(speech) / RATE, speech_rms_db - snr_db, 8)
    utterance = load_utterance(_write(workdir / f"noisy{snr_db}.wav", noisy))
    assert 0.8 * clean.speech_s <= utterance.speech_s <= clean.speech_s + 0.35  # not the whole 4.8 s
    assert _match(_pcm_array(utterance), _active(reference)) > (0.95 if snr_db == 20 else 0.85)


def test_speech_segments_are_frame_aligned_sample_ranges(reference: Array) -> None:
    padded = np.concatenate([_silence(1.0), reference, _silence(1.0)])
    segments = speech_segments(pcm_from_array(padded))
    assert segments
    assert all(start % 480 == 0 and start < end <= len(padded) for start, end in segments)
    assert all(end < next_start for (_, end), (next_start, _) in zip(segments, segments[1:], strict=False))
    assert segments[0][0] >= 0.9 * RATE and segments[-1][1] <= len(padded) - 0.9 * RATE


def test_stereo_is_mixed_to_mono(tmp_path: Path) -> None:
    time = np.arange(RATE) / RATE
    left, right = 0.5 * np.sin(2 * np.pi * 300 * time), 0.25 * np.sin(2 * np.pi * 700 * time)
    samples, _ = read_audio(_write(tmp_path / "two-voices.wav", np.stack([left, right], axis=1)))
    np.testing.assert_allclose(samples, (left + right) / 2, atol=1e-4)


def test_pcm_from_array_is_int16_little_endian_and_clips() -> None:
    pcm = pcm_from_array(np.array([0.0, 0.5, -1.0, 2.0, -3.0]))
    assert pcm == np.array([0, 16384, -32767, 32767, -32767], dtype="<i2").tobytes()


def test_resampling_filters_instead_of_aliasing() -> None:
    rate = 48_000
    tone = np.sin(2 * np.pi * 10_000 * np.arange(rate) / rate).astype(np.float32)
    assert np.sqrt(np.mean(to_16k(tone, rate)[1000:-1000] ** 2)) < 0.01  # naive [::3] keeps ~0.7


def test_resampling_keeps_pitch() -> None:
    tone = np.sin(2 * np.pi * 440 * np.arange(8000) / 8000).astype(np.float32)
    resampled = to_16k(tone, 8000)
    assert len(resampled) == RATE
    assert np.argmax(np.abs(np.fft.rfft(resampled))) == 440


def _truncated(path: Path) -> None:
    _write(path, _noise(1.0, -20, 9))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _header_only(path: Path) -> None:
    _write(path, _noise(1.0, -20, 10))
    data = path.read_bytes()
    path.write_bytes(data[: data.index(b"data") + 8])


BROKEN = {
    "empty": (lambda path: path.write_bytes(b""), "empty"),
    "truncated": (_truncated, "truncated"),
    "header-only": (_header_only, "no audio"),
    "text": (lambda path: path.write_text("what causes dystonia?\n" * 20), "not a WAV"),
    "random": (lambda path: path.write_bytes(np.random.default_rng(11).bytes(30_000)), "not a WAV"),
    "missing": (lambda path: None, "does not exist"),
    "folder": (lambda path: path.mkdir(), "not a file"),
    "low-rate": (lambda path: _write(path, _noise(1.0, -20, 12), 4000), "sample rate"),
    "ten-minutes": (lambda path: _write(path, np.zeros(600 * 8000, np.int16), 8000), "too long"),
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_broken_files_raise_audio_error_naming_the_file(kind: str, tmp_path: Path) -> None:
    make, words = BROKEN[kind]
    path = tmp_path / f"question-{kind}.wav"
    make(path)
    with pytest.raises(AudioError) as caught:
        load_utterance(path)
    assert path.name in str(caught.value)
    assert words in str(caught.value).replace(str(path), "")  # the name holds the same words


def test_max_seconds_is_a_parameter(tmp_path: Path) -> None:
    path = _write(tmp_path / "three-seconds.wav", _silence(3.0))
    assert load_utterance(path).duration_s == pytest.approx(3.0)
    with pytest.raises(AudioError, match="too long"):
        load_utterance(path, max_seconds=2.0)
