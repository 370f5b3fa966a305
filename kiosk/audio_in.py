"""Audio files in, one clean utterance out: 16 kHz mono int16 with the silence a recogniser trips on removed.

People with dystonia often speak quietly and pause for a second or two mid-sentence, so a recording is
boosted (within limits) and long pauses are shortened before any engine sees it. Speech is found with
PocketSphinx's WebRTC-derived VAD rather than an energy threshold, which noise and breath fool easily.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile
import soxr
from pocketsphinx import Vad

from kiosk.denoise import suppress_noise
from kiosk.errors import AudioError
from kiosk.recognizer import SAMPLE_RATE

_LOGGER = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float32]

MAX_SECONDS = 120.0
"""Longer files are refused: a question is seconds long, and ten minutes would stall the kiosk."""
MIN_RATE = 8_000
"""Below telephone bandwidth there is too little of the voice left to recognise."""
MAX_LEVEL = 1e6
"""Float samples beyond +120 dB over full scale (or inf, NaN) are damage; kept finite, the filters stay finite."""

VAD_MODE = Vad.MEDIUM_STRICT
"""Mode 2: as noise-proof as mode 3 on white/brown noise up to -30 dBFS, but keeps more quiet speech."""
VAD_FRAME_S = 0.03
MIN_SPEECH_FRAMES = 5
"""The VAD flags the first 3-4 frames of any noise onset as speech while it adapts; 150 ms rules them out."""

PAD_S = 0.3
"""Kept before the first and after the last speech frame, so soft onsets and final consonants survive."""
MAX_GAP_S = 0.6
KEPT_GAP_S = 0.2
"""Pauses longer than MAX_GAP_S shrink to KEPT_GAP_S: recognisers end or garble an utterance at long gaps.
0.2 s rather than 0.4 s: spoken dev set, questions with a 0.8 s pause, 2 more right of 33, none fewer."""

TARGET_PEAK_DBFS = -3.0
MAX_GAIN_DB = 30.0
NOISE_FLOOR_LIMIT_DBFS = -50.0
"""The VAD's input is never boosted past where its quietest 10 % of frames reach this level."""
PITCH_RANGE_HZ = (60.0, 400.0)
"""Voice pitches `voice_pitch_hz` looks for: below and above them a peak is noise, not a voice."""
_DIGITAL_SILENCE = 1e-5
"""Frames quieter than -100 dBFS are padding, not room noise, and say nothing about the noise floor."""

_WAV_STREAMING_SIZE = 0x7FFF_0000
"""Data sizes at or above this are placeholders written by recorders that stream to a pipe."""
_WAV_SLACK_BYTES = 64


@dataclass(frozen=True)
class Utterance:
    """One recording made ready for a recogniser, with what the caller needs to judge it."""

    pcm: bytes = field(repr=False)
    """16 kHz mono signed 16-bit little-endian PCM, trimmed to speech; empty when none was heard."""
    duration_s: float
    """Length of the original file in seconds."""
    speech_s: float
    """Seconds the VAD judged to be speech."""
    peak: float
    """Largest absolute sample of the original (0..1, 1 = full scale), e.g. to warn about clipping."""

    @property
    def has_speech(self) -> bool:
        """False for silence or noise alone, so the caller can say it heard no question."""
        return self.speech_s > 0.0


def read_audio(path: Path, max_seconds: float = MAX_SECONDS) -> tuple[FloatArray, int]:
    """Read WAV/FLAC/OGG of any sample format as mono float32, turning every failure into AudioError."""
    if not path.exists():
        raise AudioError(f"Audio file {path} does not exist.")
    if not path.is_file():
        raise AudioError(f"{path} is not a file.")
    if path.stat().st_size == 0:
        raise AudioError(f"Audio file {path} is empty (0 bytes).")
    try:
        with soundfile.SoundFile(str(path)) as sound:
            rate, frames = sound.samplerate, sound.frames
            if rate < MIN_RATE:
                raise AudioError(f"Audio file {path} has a sample rate of {rate} Hz; at least {MIN_RATE} needed.")
            if frames / rate > max_seconds:
                raise AudioError(
                    f"Audio file {path} is too long ({frames / rate:.0f} s); at most {max_seconds:.0f} s "
                    "is accepted for one question."
                )
            data = sound.read(dtype="float32", always_2d=True)
            is_wav = sound.format in ("WAV", "WAVEX")
    except soundfile.LibsndfileError as err:
        raise AudioError(f"{path} is not a WAV, FLAC or OGG file, or it is damaged ({err.error_string}).") from err
    except (RuntimeError, ValueError) as err:
        raise AudioError(f"{path} is not a WAV, FLAC or OGG file, or it is damaged ({err}).") from err
    except OSError as err:
        raise AudioError(f"Audio file {path} could not be opened ({err.strerror}).") from err
    if len(data) == 0:
        raise AudioError(f"Audio file {path} contains no audio (it may be truncated).")
    if len(data) < frames or (is_wav and _wav_data_missing(path)):
        raise AudioError(f"Audio file {path} is truncated: its header promises more audio than it holds.")
    data = np.clip(np.nan_to_num(data), -MAX_LEVEL, MAX_LEVEL)  # before the mean: inf - inf would be NaN
    mono = data.mean(axis=1, dtype=np.float32)
    return mono.astype(np.float32, copy=False), rate


def _wav_data_missing(path: Path) -> bool:
    """True when a WAV's data chunk claims more bytes than the file has; libsndfile silently reads less."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        if handle.read(4) != b"RIFF":
            return False
        handle.seek(12)
        while len(header := handle.read(8)) == 8:
            chunk_size = int.from_bytes(header[4:], "little")
            if header[:4] == b"data":
                return chunk_size < _WAV_STREAMING_SIZE and handle.tell() + chunk_size > size + _WAV_SLACK_BYTES
            handle.seek(chunk_size + (chunk_size & 1), 1)
    return False


def to_16k(samples: FloatArray, rate: int) -> FloatArray:
    """Resample with a proper anti-alias filter; dropping samples would fold hiss into the speech band."""
    if rate == SAMPLE_RATE:
        return np.asarray(samples, dtype=np.float32)
    resampled = soxr.resample(np.asarray(samples, dtype=np.float32), rate, SAMPLE_RATE, quality="HQ")
    return np.asarray(resampled, dtype=np.float32)


def normalise_gain(samples16k: FloatArray) -> tuple[FloatArray, float]:
    """Boost quiet voices to a -3 dBFS peak (at most MAX_GAIN_DB), as recognisers do poorly on whispers.

    Returns the scaled samples and the gain in dB. Float files louder than full scale are turned down
    rather than clipped; nothing else is ever attenuated.
    """
    peak = float(np.max(np.abs(samples16k))) if len(samples16k) else 0.0
    if peak == 0.0:
        return samples16k, 0.0
    gain_db = TARGET_PEAK_DBFS - _db(peak)
    if peak <= 1.0:
        gain_db = max(0.0, min(gain_db, MAX_GAIN_DB))
    return _scale(samples16k, gain_db), gain_db


def vad_gain_db(samples16k: FloatArray, gain_db: float) -> float:
    """The part of `gain_db` the VAD may see: enough to hear quiet speech, not enough to make hiss loud.

    The WebRTC VAD calls steady noise speech once it is louder than about -30 dBFS RMS, so a file of
    room noise boosted 30 dB would be "speech" from end to end. The gain is held where the noise floor
    (quietest 10 % of frames, digital silence left out) reaches NOISE_FLOOR_LIMIT_DBFS.
    """
    size = int(SAMPLE_RATE * VAD_FRAME_S)
    count = len(samples16k) // size
    frames = samples16k[: count * size].reshape(count, size).astype(np.float64)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    sounding = rms[rms > _DIGITAL_SILENCE]
    if len(sounding) == 0:
        return gain_db
    floor_db = _db(float(np.percentile(sounding, 10)))
    return min(gain_db, max(0.0, NOISE_FLOOR_LIMIT_DBFS - floor_db))


def _scale(samples: FloatArray, gain_db: float) -> FloatArray:
    return (samples * np.float32(10.0 ** (gain_db / 20.0))).astype(np.float32, copy=False)


def _db(value: float) -> float:
    return 20.0 * float(np.log10(max(value, 1e-12)))


def int16_samples(pcm: bytes) -> npt.NDArray[np.int16]:
    """int16 little-endian bytes as samples; a trailing odd byte (a chunk split mid-sample) is dropped."""
    return np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2")


def array_from_pcm(pcm: bytes) -> FloatArray:
    """int16 little-endian bytes to float samples (-1..1): the inverse of pcm_from_array."""
    return (int16_samples(pcm).astype(np.float32) / np.float32(32768.0)).astype(np.float32)


def pcm_from_array(samples16k: npt.ArrayLike) -> bytes:
    """Float samples (-1..1) to the int16 little-endian bytes every engine takes; overs are clipped."""
    clipped = np.clip(np.asarray(samples16k, dtype=np.float64), -1.0, 1.0)
    return np.round(clipped * 32767.0).astype("<i2").tobytes()


def speech_segments(pcm16k: bytes, mode: int = VAD_MODE) -> list[tuple[int, int]]:
    """Sample ranges [start, end) of speech, ignoring runs shorter than MIN_SPEECH_FRAMES."""
    vad = Vad(mode, SAMPLE_RATE, VAD_FRAME_S)
    frame_bytes = vad.frame_bytes
    frame_samples = frame_bytes // 2
    flags = [
        vad.is_speech(pcm16k[start : start + frame_bytes])
        for start in range(0, len(pcm16k) - frame_bytes + 1, frame_bytes)
    ]
    segments: list[tuple[int, int]] = []
    run_start: int | None = None
    for index, is_speech in enumerate([*flags, False]):
        if is_speech and run_start is None:
            run_start = index
        elif not is_speech and run_start is not None:
            if index - run_start >= MIN_SPEECH_FRAMES:
                segments.append((run_start * frame_samples, index * frame_samples))
            run_start = None
    return segments


def trim_to_speech(samples16k: FloatArray, segments: list[tuple[int, int]]) -> FloatArray:
    """Keep PAD_S around the speech and shrink pauses over MAX_GAP_S to KEPT_GAP_S, split evenly.

    Each kept pause keeps its two edges, where the soft ends and starts of words lie.
    """
    if not segments:
        return samples16k[:0]
    pad = int(PAD_S * SAMPLE_RATE)
    max_gap = int(MAX_GAP_S * SAMPLE_RATE)
    half_kept = int(KEPT_GAP_S * SAMPLE_RATE) // 2
    pieces: list[FloatArray] = []
    piece_start = max(0, segments[0][0] - pad)
    for (_, end), (next_start, _) in pairwise(segments):
        if next_start - end > max_gap:
            pieces.append(samples16k[piece_start : end + half_kept])
            piece_start = next_start - half_kept
    pieces.append(samples16k[piece_start : min(len(samples16k), segments[-1][1] + pad)])
    return np.concatenate(pieces)


def load_utterance(path: Path, max_seconds: float = MAX_SECONDS, denoise: bool = True) -> Utterance:
    """Read a file and prepare it for a recogniser; silence or noise gives an Utterance without speech.

    `denoise` subtracts the recording's steady background noise first (kiosk.denoise)."""
    samples, rate = read_audio(path, max_seconds)
    duration_s = len(samples) / rate
    peak = min(1.0, float(np.max(np.abs(samples))))
    audio16k = to_16k(samples, rate)
    boosted, gain_db = normalise_gain(audio16k)
    vad_db = vad_gain_db(audio16k, gain_db)  # the VAD judges the recording as it is: noise and all
    segments = speech_segments(pcm_from_array(_scale(audio16k, vad_db)))
    if denoise:  # the recogniser hears it cleaned
        boosted = normalise_gain(suppress_noise(audio16k))[0]
    speech_s = sum(end - start for start, end in segments) / SAMPLE_RATE
    pcm = pcm_from_array(trim_to_speech(boosted, segments))
    _LOGGER.debug(
        "%s: %.2f s at %d Hz, gain %+.1f dB (VAD %+.1f dB), %.2f s speech",
        path,
        duration_s,
        rate,
        gain_db,
        vad_db,
        speech_s,
    )
    return Utterance(pcm=pcm, duration_s=duration_s, speech_s=speech_s, peak=peak)


def voice_pitch_hz(pcm: bytes) -> float:
    """Median pitch of the voiced parts of 16 kHz int16 speech, 0.0 when none is voiced (a whisper, noise).

    The loudest 40 % of 40 ms frames are taken; a frame is voiced when its autocorrelation peaks at
    0.45 or more of its energy at a lag within `PITCH_RANGE_HZ`. The autocorrelation's peak errs towards
    lower octaves, not higher, so a man's voice is not taken for a high one. Synthetic voices measured
    (median): festival ked 107 Hz, flite awb 133, rms 105, slt 175; espeak-ng en-us 103, f3 208."""
    frame, hop = 640, 160
    samples = int16_samples(pcm).astype(np.float64)
    if len(samples) < frame + hop:
        return 0.0
    frames = np.lib.stride_tricks.sliding_window_view(samples, frame)[::hop]
    energy = (frames**2).mean(axis=1)
    loud = frames[energy >= np.percentile(energy, 60)]
    loud = loud - loud.mean(axis=1, keepdims=True)
    power = np.abs(np.fft.rfft(loud * np.hanning(frame), 2 * 1024)) ** 2
    shortest, longest = (int(SAMPLE_RATE / hz) for hz in reversed(PITCH_RANGE_HZ))
    correlation = np.fft.irfft(power)[:, : longest + 1]
    correlation /= np.maximum(correlation[:, :1], 1e-9)
    lags = shortest + correlation[:, shortest:longest].argmax(axis=1)
    voiced = correlation[np.arange(len(lags)), lags] >= 0.45
    return float(np.median(SAMPLE_RATE / lags[voiced])) if voiced.sum() >= 3 else 0.0
