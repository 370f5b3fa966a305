"""Shared fixtures: the real shipped content, and throw-away content folders."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kiosk import content
from kiosk.content import KnowledgeBase
from kiosk.dialogue import Session
from kiosk.wordindex import Index

PROJECT = Path(__file__).resolve().parent.parent
CONTENT = PROJECT / "content"


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return content.build(CONTENT)


@pytest.fixture(scope="session")
def index(kb: KnowledgeBase) -> Index:
    return Index(kb)


@pytest.fixture
def session(kb: KnowledgeBase, index: Index) -> Session:
    return Session(kb, index)


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    """A private copy of the shipped content folder (sources and sidecar only)."""
    folder = tmp_path / "content"
    (folder / "sources").mkdir(parents=True)
    for src in (CONTENT / "sources").iterdir():
        shutil.copy2(src, folder / "sources" / src.name)
    shutil.copy2(CONTENT / "questions.toml", folder / "questions.toml")
    return folder
