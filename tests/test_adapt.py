"""Speaker adaptation with the real tools (SphinxTrain's bw and mllr_solve, sphinx_fe, from Debian) and
the real PocketSphinx model, on espeak-ng speech made at test time: the voice the model hears worst."""

from __future__ import annotations

import struct
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
from test_asr_pocketsphinx import domain  # noqa: F401  (the module's fixture, reused)
from test_denoise import word_errors

from kiosk import adapt
from kiosk.adapt import Adapter, mixture_weights, prepare, tools
from kiosk.asr_pocketsphinx import PocketSphinxRecognizer
from kiosk.messages import Transcript
from kiosk.recognizer import DomainModel

QUESTIONS = [  # our own wording, not the dev set's
    "does dystonia run in families",
    "is there a cure for blepharospasm",
    "can injections help my neck",
    "what happens in the brain with dystonia",
]


@pytest.fixture(scope="module")
def adapt_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models") / "adaptation"


def espeak(text: str, folder: Path) -> bytes:
    raw, out = folder / "raw.wav", folder / "16k.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(raw), text], check=True)
    subprocess.run(["sox", "-D", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out)], check=True)
    with wave.open(str(out)) as f:
        return f.readframes(f.getnframes())


def test_the_tools_are_installed_by_the_project() -> None:
    assert tools() is not None, "setup.sh installs sphinxtrain, sphinxbase-utils and pocketsphinx"


def test_quantised_mixture_weights_are_unpacked_into_distributions() -> None:
    hmm = Path(str(PocketSphinxRecognizer()._decoder.config["hmm"]))
    sendump = (hmm / "sendump").read_bytes()
    out = mixture_weights(sendump)
    assert out.startswith(b"s3\nversion 1.0\nendhdr\n")
    at = len(b"s3\nversion 1.0\nendhdr\n")
    assert struct.unpack_from("<I", out, at)[0] == 0x11223344
    n_sen, n_feat, n_density, total = struct.unpack_from("<4i", out, at + 4)
    assert (n_feat, n_density) == (3, 128) and n_sen == 5126 and total == n_sen * n_feat * n_density
    weights = np.frombuffer(out, dtype="<f4", offset=at + 20).reshape(n_sen, n_feat, n_density)
    assert np.allclose(weights.sum(axis=2), 1.0, atol=1e-4)
    # the heaviest Gaussian of a senone is the one its quantised -log weight is smallest for
    quantised = np.frombuffer(sendump, dtype=np.uint8, offset=len(sendump) - n_sen * n_feat * n_density)
    quantised = quantised.reshape(n_feat, n_density, n_sen)
    assert (weights[:, 0, :].argmax(axis=1) == quantised[0].argmin(axis=0)).mean() > 0.99


def test_an_espeak_voice_is_heard_closer_to_its_words_once_adapted(
    domain: DomainModel, adapt_dir: Path, tmp_path: Path  # noqa: F811
) -> None:
    first_errors = adapted_errors = 0
    for question in QUESTIONS:
        pcm = espeak(question, tmp_path)
        recognizer = PocketSphinxRecognizer(domain, adapt_dir=adapt_dir, twin=False)
        first = recognizer.recognize(pcm)
        again = recognizer.hear_adapted(pcm, first)
        assert again is not None and again.engine == "pocketsphinx"
        first_errors += word_errors(question.split(), first.text.split())
        adapted_errors += word_errors(question.split(), again.text.split())
    assert (adapt_dir / "en-us" / "mdef.txt").is_file() and (adapt_dir / "en-us" / "mixture_weights").is_file()
    assert adapted_errors < first_errors, (first_errors, adapted_errors)


def test_no_audio_or_features_are_left_behind(
    domain: DomainModel, adapt_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    recognizer = PocketSphinxRecognizer(domain, adapt_dir=adapt_dir, twin=False)
    pcm = espeak(QUESTIONS[0], tmp_path)
    assert recognizer.hear_adapted(pcm, recognizer.recognize(pcm)) is not None
    assert list((tmp_path / "tmp").iterdir()) == []


def test_words_the_dictionary_lacks_or_nothing_heard_give_no_adaptation(
    domain: DomainModel, adapt_dir: Path, tmp_path: Path  # noqa: F811
) -> None:
    recognizer = PocketSphinxRecognizer(domain, adapt_dir=adapt_dir, twin=False)
    pcm = espeak(QUESTIONS[0], tmp_path)
    assert recognizer.hear_adapted(pcm, Transcript(text="")) is None
    assert recognizer.hear_adapted(pcm, Transcript(text="zzqx qqzv")) is None
    assert PocketSphinxRecognizer(domain, twin=False).hear_adapted(pcm, Transcript(text="dystonia")) is None


def test_without_the_tools_adaptation_is_off_and_said_once(
    domain: DomainModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture  # noqa: F811
) -> None:
    pcm = espeak(QUESTIONS[1], tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(adapt, "TOOL_DIRS", (str(tmp_path),))
    recognizer = PocketSphinxRecognizer(domain, adapt_dir=tmp_path / "adaptation", twin=False)
    assert recognizer.hear_adapted(pcm, recognizer.recognize(pcm)) is None
    assert [r.message for r in caplog.records if "adaptation is off" in r.message] == [
        "speaker adaptation is off: SphinxTrain's bw and mllr_solve or sphinx_fe are missing"
    ]
    assert not (tmp_path / "adaptation").exists()


def test_a_broken_model_turns_adaptation_off_and_leaves_no_half_made_folder(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    programs = tools()
    assert programs is not None
    hmm = Path(str(PocketSphinxRecognizer()._decoder.config["hmm"]))
    broken = tmp_path / "hmm"
    broken.mkdir()
    for item in hmm.iterdir():
        (broken / item.name).write_bytes(item.read_bytes()[:100] if item.name == "sendump" else item.read_bytes())
    adapter = Adapter(tmp_path / "models" / "en-us", broken, tmp_path / "missing.dict")
    with adapter.transform(b"\0\0" * 16000, "dystonia") as found:
        assert found is None
    assert "could not be prepared" in caplog.text
    assert not (tmp_path / "models" / "en-us").exists()
    with pytest.raises(struct.error):
        prepare(broken, tmp_path / "again", programs)
