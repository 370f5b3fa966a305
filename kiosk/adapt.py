"""Speaker adaptation: a voice the acoustic model hears badly is heard again through a transform fitted
to that very recording.

PocketSphinx's en-us model was trained on other voices than a visitor's (a tight, strained or robotic
voice is far from them). MLLR moves every Gaussian mean of the model by one linear transform, estimated
from the recording and the words of its first hearing (unsupervised: no one says what was really said).
One transform has few enough parameters for a few seconds of speech. Held-out spoken questions
(held-out 1 and 3, six voices), word errors first hearing -> adapted: espeak-ng us 0.510 -> 0.406, en-gb
f3 0.621 -> 0.578, festival ked 0.345 -> 0.310, flite awb 0.253 -> 0.238, rms 0.203 -> 0.195, slt 0.195
-> 0.207.

The tools are SphinxTrain's (`bw` gathers the statistics, `mllr_solve` solves the transform) and
sphinxbase's `sphinx_fe` (features), from Debian; without them nothing is adapted and the kiosk says so
once in the log. They need the model's definition as text and its mixture weights unquantised, which
the PyPI model lacks: `prepare` derives both once into a folder of their own. The audio goes to
sphinx_fe through a pipe; its features live in a temporary folder for the ~0.2 s the estimate takes, and
are deleted then.
"""

from __future__ import annotations

import logging
import os
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_LOGGER = logging.getLogger(__name__)

TOOL_DIRS = ("/usr/lib/sphinxtrain", "/usr/libexec/sphinxtrain", "/usr/local/libexec/sphinxtrain")
"""Where SphinxTrain installs `bw` and `mllr_solve` (Debian, then a source build); they are not on PATH."""
LOG_BASE = 1.0001
"""PocketSphinx's log base: a sendump holds mixture weights as -log_1.0001(w), shifted right by 10 bits."""
SENDUMP_SHIFT = 10
TIMEOUT_S = 20.0


def _tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    return next((str(Path(d) / name) for d in TOOL_DIRS if os.access(Path(d) / name, os.X_OK)), None)


def tools() -> dict[str, str] | None:
    """The four programs adaptation needs, or None when any is missing."""
    names = ("sphinx_fe", "bw", "mllr_solve", "pocketsphinx_mdef_convert")
    found = {name: _tool(name) for name in names}
    return None if None in found.values() else {k: v for k, v in found.items() if v}


def mixture_weights(sendump: bytes) -> bytes:
    """A PocketSphinx sendump (8-bit quantised mixture weights) as SphinxTrain's float mixture_weights file."""
    import numpy as np

    pos = 0
    header: list[str] = []
    while True:  # length-prefixed strings, ended by a zero length
        (size,) = struct.unpack_from("<i", sendump, pos)
        pos += 4
        if size == 0:
            break
        header.append(sendump[pos : pos + size].rstrip(b"\0").decode("ascii", "replace"))
        pos += size
    n_feat = next((int(h.split()[1]) for h in header if h.startswith("feature_count ")), 1)
    n_density, n_sen = struct.unpack_from("<2i", sendump, pos)
    pos += 8
    quantised = np.frombuffer(sendump, dtype=np.uint8, count=n_feat * n_density * n_sen, offset=pos)
    logs = -quantised.astype(np.float64).reshape(n_feat, n_density, n_sen) * (1 << SENDUMP_SHIFT)
    weights = np.exp(logs * np.log(LOG_BASE)).transpose(2, 0, 1)  # senone, stream, density
    weights /= weights.sum(axis=2, keepdims=True)
    head = b"s3\nversion 1.0\nendhdr\n" + struct.pack("<I", 0x11223344)
    dims = struct.pack("<4i", n_sen, n_feat, n_density, weights.size)
    return head + dims + weights.astype("<f4").tobytes()


def context_free(mdef: str) -> str:
    """A text model definition with its triphones dropped: bw then loads in a third of the time.

    The en-us model's Gaussians are tied per base phone (PTM), so a transform of their means sees the
    same Gaussians aligned through a base phone's states as through its triphones'. Word errors of the
    adapted hearing, 40 espeak-ng recordings of held-out 1: 0.519 either way.
    """
    counts = {f[1]: int(f[0]) for f in (line.split() for line in mdef.splitlines()) if len(f) == 2 and f[0].isdigit()}
    models = counts["n_base"] + counts["n_tri"]
    kept: list[str] = []
    for line in mdef.splitlines():
        fields = line.split()
        if fields[1:] == ["n_tri"]:
            line = "0 n_tri"
        elif fields[1:] == ["n_state_map"]:
            line = f"{counts['n_state_map'] * counts['n_base'] // models} n_state_map"
        elif len(fields) > 6 and not line.startswith("#") and fields[1] != "-":
            continue  # a triphone: base, left and right context, position, ...
        kept.append(line)
    return "\n".join(kept) + "\n"


def prepare(hmm: Path, folder: Path, programs: dict[str, str]) -> Path:
    """The acoustic model as SphinxTrain reads it (text mdef, float mixture weights), made once in `folder`."""
    if (folder / "mixture_weights").is_file():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}-"))  # two kiosks may race here
    try:
        for name in ("means", "variances", "transition_matrices", "noisedict", "feat.params"):
            shutil.copyfile(hmm / name, partial / name)
        subprocess.run([programs["pocketsphinx_mdef_convert"], "-text", str(hmm / "mdef"), str(partial / "full.mdef")],
                       check=True, capture_output=True, timeout=60)  # fmt: skip
        (partial / "mdef.txt").write_text(context_free((partial / "full.mdef").read_text()))
        (partial / "full.mdef").unlink()
        (partial / "mixture_weights").write_bytes(mixture_weights((hmm / "sendump").read_bytes()))
        if not (folder / "mixture_weights").is_file():
            shutil.rmtree(folder, ignore_errors=True)
            try:
                partial.rename(folder)
            except OSError:  # another kiosk made it meanwhile
                if not (folder / "mixture_weights").is_file():
                    raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return folder


FRONT_END = ("-lowerf", "-upperf", "-nfilt", "-transform", "-lifter", "-remove_noise")
"""feat.params options for sphinx_fe (which makes the features); the rest of them are bw's."""
FEATURES = ("-feat", "-svspec", "-agc", "-cmn", "-varnorm")


def _params(model: Path, wanted: tuple[str, ...]) -> list[str]:
    words = (model / "feat.params").read_text().split()
    return [w for pair in zip(words[::2], words[1::2], strict=False) if pair[0] in wanted for w in pair]


class Adapter:
    """Fits MLLR transforms for one acoustic model and pronunciation dictionary."""

    def __init__(self, folder: Path, hmm: Path, dictionary: Path) -> None:
        """`folder`: where the model's SphinxTrain form is kept (`prepare`), made on first use."""
        self._folder, self._hmm, self._dictionary = folder, hmm, dictionary
        self._programs = tools()
        self._model: Path | None = None
        self._words: frozenset[str] = frozenset()
        if self._programs is None:
            _LOGGER.warning("speaker adaptation is off: SphinxTrain's bw and mllr_solve or sphinx_fe are missing")

    def _ready(self) -> tuple[Path, dict[str, str]] | None:
        if self._programs is None:
            return None
        if self._model is None:
            try:
                self._model = prepare(self._hmm, self._folder, self._programs)
                lines = self._dictionary.read_text(encoding="utf-8", errors="replace").splitlines()
                self._words = frozenset(line.split()[0] for line in lines if line.strip())
            except (OSError, subprocess.SubprocessError, ValueError, struct.error) as exc:
                _LOGGER.warning("speaker adaptation is off: the model could not be prepared (%s)", exc)
                self._programs = None
                return None
        return self._model, self._programs

    @contextmanager
    def transform(self, pcm: bytes, text: str, warp: float = 1.0) -> Iterator[Path | None]:
        """An MLLR transform fitted to `pcm` (16 kHz int16) as `text` was heard in it, kept for the `with`
        block; None when it cannot be estimated (no known word to align, a tool failing)."""
        ready = self._ready()
        words = [w for w in text.split() if w in self._words]
        if ready is None or not words:
            yield None
            return
        with _estimated(pcm, words, self._dictionary, *ready, warp) as found:
            yield found


@contextmanager
def _estimated(pcm: bytes, words: list[str], dictionary: Path, model: Path, programs: dict[str, str],
               warp: float) -> Iterator[Path | None]:  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="kiosk-adapt-") as tmp:
        work = Path(tmp)
        try:
            subprocess.run([programs["sphinx_fe"], *_params(model, FRONT_END), "-samprate", "16000", "-dither", "yes",
                            "-raw", "yes", "-input_endian", "little", "-warp_type", "inverse_linear",
                            "-warp_params", str(warp), "-i", "/dev/stdin", "-o", str(work / "u.mfc")],
                           input=pcm, check=True, capture_output=True, timeout=TIMEOUT_S)  # fmt: skip
            (work / "ids").write_text("u\n")
            (work / "words").write_text(f"<s> {' '.join(words)} </s> (u)\n")
            (work / "acc").mkdir()
            subprocess.run([programs["bw"], "-hmmdir", str(model), "-moddeffn", str(model / "mdef.txt"),
                            "-ts2cbfn", ".ptm.", *_params(model, FEATURES), "-dictfn", str(dictionary),
                            "-fdictfn", str(model / "noisedict"), "-ctlfn", str(work / "ids"),
                            "-lsnfn", str(work / "words"), "-mixwreest", "no", "-tmatreest", "no",
                            "-varreest", "no", "-accumdir", str(work / "acc"), "-cepdir", str(work),
                            "-cepext", "mfc"], check=True, capture_output=True, timeout=TIMEOUT_S)  # fmt: skip
            if not (work / "acc" / "gauden_counts").is_file():  # the words could not be aligned
                yield None
                return
            subprocess.run([programs["mllr_solve"], "-meanfn", str(model / "means"), "-varfn",
                            str(model / "variances"), "-outmllrfn", str(work / "mllr_matrix"), "-accumdir",
                            str(work / "acc")], check=True, capture_output=True, timeout=TIMEOUT_S)  # fmt: skip
        except (subprocess.SubprocessError, OSError) as exc:
            _LOGGER.info("no adaptation for this recording: %s", exc)
            yield None
            return
        yield work / "mllr_matrix"
