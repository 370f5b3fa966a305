"""The command line as an operator and the scorer use it: real subprocesses, real output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

PROJECT = Path(__file__).resolve().parent.parent
KIOSK = [sys.executable, "-m", "kiosk"]
CONTRACT_KEYS = {"input", "heard", "answered", "confirm", "topic", "title", "answer", "confidence", "timings_ms"}


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*KIOSK, *args], capture_output=True, text=True, cwd=PROJECT, timeout=60,
                          env={**os.environ, **(env or {})})


def test_ask_json_follows_the_contract_in_order():
    questions = ["Tell me about blepharospasm", "call a taxi", "Can a stroke cause dystonia"]
    proc = run("ask", "--json", *[a for q in questions for a in ("--text", q)])
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["input"] for r in records] == questions
    for record in records:
        assert CONTRACT_KEYS <= set(record)
        assert isinstance(record["confidence"], float) and 0 <= record["confidence"] <= 1
        assert set(record["timings_ms"]) == {"asr_ms", "match_ms", "total_ms"}
    eyelids, taxi, stroke = records
    assert eyelids["answered"] and eyelids["topic"] == "dystonia/eyelids" and "blink" in eyelids["answer"]
    assert not taxi["answered"] and not taxi["confirm"] and taxi["answer"] is None and taxi["topic"] is None
    assert stroke["answered"] and "Stroke" in stroke["answer"]


def test_ask_readable_text():
    proc = run("ask", "--text", "what is cervical dystonia", "--text", "what's the weather")
    assert proc.returncode == 0
    assert "[Neck] In cervical dystonia" in proc.stdout
    assert "I don't have information about that here" in proc.stdout


def test_ask_without_questions_is_a_one_line_error():
    proc = run("ask")
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("kiosk:") and "Traceback" not in proc.stderr


def test_content_option_and_environment_point_at_another_folder(tmp_path):
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "gardening.txt").write_text(
        "Gardening\n\nTomatoes need full sun and regular watering.\n\nPests\n\nAphids can be washed off with water.\n"
    )
    by_flag = run("--content", str(tmp_path), "ask", "--json", "--text", "how do I get rid of aphids")
    by_env = run("ask", "--json", "--text", "do tomatoes need sun", env={"KIOSK_CONTENT": str(tmp_path)})
    assert json.loads(by_flag.stdout)["answer"] == "Aphids can be washed off with water."
    assert "full sun" in json.loads(by_env.stdout)["answer"]
    assert (tmp_path / "knowledge.json").is_file()


def test_content_list_build_and_add(tmp_path):
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "a.txt").write_text("Alpha topic\n\nAlpha is the first letter.\n")
    built = run("--content", str(tmp_path), "content", "build")
    assert built.returncode == 0 and "1 topics" in built.stdout
    doc = tmp_path / "beta.md"
    doc.write_text("# Beta\n\nBeta is the second letter.\n")
    added = run("--content", str(tmp_path), "content", "add", str(doc))
    assert added.returncode == 0 and "added beta.md" in added.stdout
    listed = run("--content", str(tmp_path), "content", "list")
    assert "beta/beta  —  Beta" in listed.stdout and "alpha-topic" in listed.stdout


def test_config_show_and_bad_config_key(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text("[speech]\nrate = 120\n")
    shown = run("--config", str(good), "config", "show")
    assert shown.returncode == 0 and "rate = 120" in shown.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text("[speech]\nspeed = 120\n")
    proc = run("--config", str(bad), "config", "show")
    assert proc.returncode == 2 and "unknown config key 'speech.speed'" in proc.stderr
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('[recognition]\nengine = "whisper"\n')
    assert "allowed: auto, vosk, pocketsphinx" in run("--config", str(wrong), "config", "show").stderr


@pytest.fixture
def terminal():
    child = pexpect.spawn(KIOSK[0], [*KIOSK[1:], "text"], cwd=str(PROJECT), encoding="utf-8", timeout=20,
                          dimensions=(40, 100))
    yield child
    child.close(force=True)


def test_text_mode_in_a_real_terminal(terminal):
    child = terminal
    child.expect("Type a question")
    child.expect("1. What dystonia is")
    child.expect("> ")
    child.sendline("3")  # one digit opens a topic
    child.expect("== Treatment of dystonia ==")
    child.expect("> ")
    child.sendline("wat is blefarospasm")  # typos
    child.expect("== Eyelids ==")
    child.expect("blinking")
    child.expect("> ")
    child.sendline("what are")  # no question in it: asked again, in words a typist can follow
    child.expect("didn't catch that. Please ask again")
    child.expect("> ")
    child.sendline("")  # Enter alone: more
    child.expect("== Areas of the body affected ==")
    child.expect("> ")
    child.sendline("r")  # repeat
    child.expect("== Areas of the body affected ==")
    child.expect("> ")
    child.sendline("call a taxi")
    child.expect("I don't have information about that here")
    child.expect("> ")
    child.sendline("t")
    child.expect("Topics. Say or type a number")
    child.expect("> ")
    child.sendline("q")
    child.expect("Goodbye")
    child.expect(pexpect.EOF)


def test_a_reader_that_goes_away_is_no_error():
    """`kiosk content list | head -1`: the pipe closes early; no traceback, a clean exit."""
    read, write = os.pipe()
    os.close(read)
    proc = subprocess.run([*KIOSK, "content", "list"], stdout=write, stderr=subprocess.PIPE, cwd=PROJECT,
                          text=True, timeout=60)  # fmt: skip
    os.close(write)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
