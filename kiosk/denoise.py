"""Noise suppression before recognition: spectral subtraction, with the noise measured in the recording.

PocketSphinx takes steady noise (a fan, hiss, air conditioning) for speech sounds. White noise at 20 dB
SNR raised its word error rate on festival speech from 0.22 to 0.46-0.50 (spoken dev set). Subtracting
the noise spectrum brought that back to 0.23-0.27. The noise spectrum is the mean of the quietest frames,
which lie between words in any recording; the loudest frames stand for the speech. A recording whose
noise is far below its speech is left as it was.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]

FRAME = 512
"""32 ms at 16 kHz: long enough to resolve voice harmonics, short enough to follow syllables."""
HOP = 128
QUIET_SHARE = 0.15
"""The quietest 15 % of frames make the noise estimate: a question has more pause than that."""
OVER_SUBTRACTION = 3.0
"""Noise power is subtracted this many times over, which removes the noise's random peaks as well as its
mean. Measured on the spoken dev set, ked-noise-20db word error rate: 2.0 gave 0.27, 3.0 gave 0.23."""
FLOOR = 0.05
"""Least power share kept in a bin. Keeping a little avoids the warbling "musical noise" of bins set to zero."""
MIN_FRAMES = 8
CLEAN_SNR_DB = 30.0
"""Noise this far below the speech is left alone: it does not trouble the recogniser, and subtracting
it (a recorder's dither, say) only changes the speech."""


def suppress_noise(samples: FloatArray) -> FloatArray:
    """The samples with the recording's steady background noise subtracted (same length, float32)."""
    x = np.asarray(samples, dtype=np.float32)
    frames_n = 1 + (len(x) - FRAME) // HOP if len(x) >= FRAME else 0
    if frames_n < MIN_FRAMES:
        return x
    window = np.hanning(FRAME).astype(np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(x, FRAME)[::HOP][:frames_n] * window
    spectrum = np.fft.rfft(frames, axis=1)
    power = np.abs(spectrum) ** 2
    order = np.argsort(power.sum(axis=1))
    noise = power[order[: max(1, int(frames_n * QUIET_SHARE))]].mean(axis=0)
    speech = power[order[-max(1, int(frames_n * QUIET_SHARE)) :]].mean(axis=0)
    if noise.sum() * 10 ** (CLEAN_SNR_DB / 10) <= speech.sum():
        return x
    gain = np.sqrt(np.maximum(1.0 - OVER_SUBTRACTION * noise / np.maximum(power, 1e-20), FLOOR))
    cleaned = np.fft.irfft(spectrum * gain, n=FRAME, axis=1).astype(np.float32) * window
    out = np.zeros(len(x), dtype=np.float32)
    weight = np.zeros(len(x), dtype=np.float32)
    for i in range(frames_n):  # overlap-add, normalised by the summed squared window
        out[i * HOP : i * HOP + FRAME] += cleaned[i]
        weight[i * HOP : i * HOP + FRAME] += window**2
    covered = weight > 1e-3
    out[covered] /= weight[covered]
    out[~covered] = x[~covered]
    return out
