"""Operating the kiosk: doctor, privacy-preserving counts, the opt-in unanswered log, config checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from kiosk.dialogue import Session
from kiosk.oplog import OperatorLog, PrivacySettings

PROJECT = Path(__file__).resolve().parent.parent


def kiosk(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("KIOSK_", "PULSE_"))}
    return subprocess.run([sys.executable, "-m", "kiosk", *args], capture_output=True, text=True, cwd=PROJECT,
                          timeout=120, env={**base, **(env or {})})


def test_counts_are_kept_but_no_question_text_by_default(tmp_path, kb, index):
    log = OperatorLog(PrivacySettings(state_dir=str(tmp_path)))
    session = Session(kb, index, on_match=log.record)
    session.handle("what is blepharospasm")
    session.handle("call a taxi")
    counts = json.loads((tmp_path / "counts.json").read_text())
    today = next(iter(counts.values()))
    assert today == {"answer": 1, "decline": 1}
    assert not (tmp_path / "unanswered.jsonl").exists()
    assert "taxi" not in "".join(p.read_text() for p in tmp_path.iterdir())
    report = log.report()
    assert "questions: 2" in report and "log: off" in report


def test_unanswered_log_when_turned_on_with_retention(tmp_path, kb, index):
    log = OperatorLog(PrivacySettings(log_unanswered=True, retention_days=7, state_dir=str(tmp_path)))
    session = Session(kb, index, on_match=log.record)
    for question in ["call a taxi", "call a taxi", "where is the cafe", "what is blepharospasm"]:
        session.handle(question)
    old = {"t": time.time() - 30 * 86400, "q": "an old question", "decision": "decline"}
    with (tmp_path / "unanswered.jsonl").open("a") as fh:
        fh.write(json.dumps(old) + "\n")
    report = log.report()
    assert "2  call a taxi" in report and "where is the cafe" in report
    assert "blepharospasm" not in report and "an old question" not in report
    assert "an old question" not in (tmp_path / "unanswered.jsonl").read_text()


def test_unwritable_state_folder_does_not_stop_answers(tmp_path, kb, index):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    session = Session(kb, index, on_match=OperatorLog(PrivacySettings(state_dir=str(blocker / "x"))).record)
    assert session.handle("what is blepharospasm").kind == "answer"


def test_doctor_without_audio_says_text_mode_only(tmp_path):
    proc = kiosk("doctor", env={"XDG_CONFIG_HOME": str(tmp_path), "PULSE_SERVER": "unix:/nonexistent"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[ok] content: 33 topics" in proc.stdout
    assert "[PROBLEM] microphone" in proc.stdout and "what to do:" in proc.stdout
    assert "text mode only" in proc.stdout and "Traceback" not in proc.stderr


def test_doctor_with_no_content_says_it_cannot_run(tmp_path):
    (tmp_path / "sources").mkdir()
    proc = kiosk("--content", str(tmp_path), "doctor", env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert proc.returncode == 1
    assert "[PROBLEM] content" in proc.stdout and "cannot run" in proc.stdout


def test_config_errors_name_the_key_and_allowed_values(tmp_path):
    bad = tmp_path / "k.toml"
    bad.write_text('[voice]\nlisten_mode = "sometimes"\n')
    proc = kiosk("--config", str(bad), "config", "show")
    assert proc.returncode == 2 and "voice.listen_mode" in proc.stderr and "always, wake, push" in proc.stderr
    bad.write_text("[privacy]\nretention_days = 0\n")
    assert "privacy.retention_days" in kiosk("--config", str(bad), "config", "show").stderr
    bad.write_text('[voice.endpoint]\nsilence_s = "long"\n')
    assert "voice.endpoint.silence_s" in kiosk("--config", str(bad), "config", "show").stderr


def test_environment_overrides_the_file_and_flags_override_both(tmp_path):
    conf = tmp_path / "k.toml"
    conf.write_text('[recognition]\nengine = "vosk"\n')
    shown = kiosk("--config", str(conf), "config", "show", env={"KIOSK_ENGINE": "pocketsphinx"}).stdout
    assert 'engine = "pocketsphinx"' in shown
    other = tmp_path / "other"
    shown = kiosk("--config", str(conf), "--content", str(other), "config", "show",
                  env={"KIOSK_CONTENT": "/nowhere"}).stdout
    assert f'content_dir = "{other}"' in shown
