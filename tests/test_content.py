import json
import os
import time
from pathlib import Path

import pytest

from kiosk import content
from kiosk.errors import ContentError
from kiosk.matcher import Index, match

SECOND_DOC = """# Essential tremor

Essential tremor is a nervous system disorder that causes rhythmic shaking of the hands.

Treatment

Beta blockers such as propranolol can reduce the shaking. Some people benefit from wrist weights.

Triggers:

- Caffeine
- Lack of sleep
"""


def test_every_bullet_of_the_dystonia_document_is_its_own_topic(kb):
    ids = {t.id for t in kb.topics}
    for item in ["Stroke", "Brain tumor", "Wilson’s disease", "Eyelids", "Vocal cords", "Hand and forearm"]:
        assert any(t.title == item and t.kind == "item" for t in kb.topics), item
    assert "dystonia/eyelids" in ids and "dystonia/other-disorders/stroke" in ids
    symptoms = [t for t in kb.topics if t.parent == "dystonia/dystonia-symptoms"]
    assert len(symptoms) == 5


def test_headings_recovered_from_plain_text(kb):
    titles = {t.title for t in kb.topics}
    assert {"Altered nerve cell communication", "Genetic changes", "Other disorders", "When to see a doctor",
            "Dystonia symptoms"} <= titles


def test_sidecar_titles_and_phrases_apply(kb):
    topic = kb.topic("dystonia/medications-can-sometimes-improve-dystonia-symptoms")
    assert topic.title == "Treatment of dystonia"
    assert "botox" in topic.phrases


@pytest.mark.parametrize(
    "name,data,expected",
    [
        ("empty.txt", b"", "empty"),
        ("blank.txt", b"   \n\n  ", "no text"),
        ("binary.txt", bytes(range(256)) * 10, "binary"),
        ("latin1.txt", "Caf\xe9 dystonia notes".encode("latin-1"), "not UTF-8"),
        ("slides.pdf", b"%PDF-1.4", "not a text or Markdown"),
    ],
)
def test_malformed_source_is_named_and_others_still_load(content_copy, name, data, expected):
    (content_copy / "sources" / name).write_bytes(data)
    kb = content.build(content_copy)
    assert any(name in p and expected in p for p in kb.problems), kb.problems
    assert any(t.id == "dystonia/eyelids" for t in kb.topics)


def test_enormous_source_is_refused(content_copy):
    big = content_copy / "sources" / "huge.txt"
    big.write_text("Dystonia words here. " * 150_000)
    kb = content.build(content_copy)
    assert any("huge.txt" in p and "too large" in p for p in kb.problems)


def test_a_changed_word_list_of_the_kiosk_rebuilds_the_content(content_copy, monkeypatch):
    kb = content.load(content_copy)
    assert content.load(content_copy).fingerprint == kb.fingerprint  # nothing changed: no rebuild
    lists = dict(content.word_lists())
    lists["synonyms.txt"] += b"wobble wobbles tremble trembles\n"
    monkeypatch.setattr(content, "word_lists", lambda: sorted(lists.items()))
    rebuilt = content.load(content_copy)
    assert rebuilt.fingerprint != kb.fingerprint
    assert json.loads((content_copy / content.KB_FILE).read_text())["fingerprint"] == rebuilt.fingerprint


def test_build_writes_atomically_and_rebuilds_when_a_source_is_newer(content_copy):
    kb = content.load(content_copy)
    saved = content_copy / content.KB_FILE
    assert saved.is_file() and not list(content_copy.glob(".knowledge-*"))
    assert content.load(content_copy).fingerprint == kb.fingerprint
    source = content_copy / "sources" / "dystonia.txt"
    source.write_text(source.read_text() + "\n\nNew heading\n\nA new paragraph about yoga.\n")
    future = time.time() + 5
    os.utime(source, (future, future))
    rebuilt = content.load(content_copy)
    assert any("yoga" in t.text for t in rebuilt.topics)
    assert any("yoga" in t["sentences"][0] for t in json.loads(saved.read_text())["topics"])


def test_a_failed_build_keeps_the_last_good_knowledge_base(content_copy):
    good = content.rebuild(content_copy)
    (content_copy / "sources" / "dystonia.txt").write_bytes(b"\xff\xfe\x00garbage")
    kept = content.rebuild(content_copy)
    assert [t.id for t in kept.topics] == [t.id for t in good.topics]
    assert any("dystonia.txt" in p for p in kept.problems)


def test_no_content_at_all_is_a_clear_error(tmp_path):
    (tmp_path / "sources").mkdir()
    with pytest.raises(ContentError, match="no usable content"):
        content.rebuild(tmp_path)


def test_bad_sidecar_entries_are_reported_not_fatal(content_copy):
    (content_copy / "questions.toml").write_text('[topics."no/such-topic"]\nphrases = ["x"]\n')
    kb = content.build(content_copy)
    assert any("no/such-topic" in p for p in kb.problems)
    (content_copy / "questions.toml").write_text("this is = = not toml")
    assert any("questions.toml" in p for p in content.build(content_copy).problems)


def test_a_second_document_is_answerable_and_dystonia_answers_unchanged(content_copy, tmp_path):
    before = Index(content.rebuild(content_copy))
    questions = ["what is blepharospasm", "can a stroke cause dystonia", "what causes dystonia"]
    expected = [match(q, before).best.topic_id for q in questions]  # type: ignore[union-attr]
    doc = tmp_path / "essential-tremor.md"
    doc.write_text(SECOND_DOC)
    kb = content.add_document(content_copy, doc)
    assert (content_copy / "sources" / "essential-tremor.md").is_file()
    index = Index(kb)
    tremor = match("how is essential tremor treated", index)
    assert tremor.decision.value == "answer"
    assert "propranolol" in kb.topic(tremor.best.topic_id).text  # type: ignore[union-attr]
    caffeine = match("can caffeine trigger a tremor", index)
    assert caffeine.best and "Caffeine" in kb.topic(caffeine.best.topic_id).text
    assert [match(q, index).best.topic_id for q in questions] == expected  # type: ignore[union-attr]


def test_add_refuses_a_malformed_document_without_copying_it(content_copy, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x01\x02binary")
    with pytest.raises(ContentError, match="bad.txt"):
        content.add_document(content_copy, bad)
    assert not (content_copy / "sources" / "bad.txt").exists()


def test_saved_knowledge_base_that_is_corrupt_is_rebuilt(content_copy):
    content.load(content_copy)
    (content_copy / content.KB_FILE).write_text("{not json")
    assert content.load(content_copy).topics
    assert json.loads(Path(content_copy / content.KB_FILE).read_text())["topics"]
