"""What the operator may learn about use, without exposing visitors.

Health questions are sensitive, so by default the kiosk keeps only counts (answered / confirmed /
declined per day) and never any audio. An operator who wants to improve the content can turn on
the unanswered-questions log (`[privacy] log_unanswered = true`): the text of questions the kiosk
could not answer, each deleted after `retention_days`. `kiosk report` summarises both.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from kiosk.messages import Match

_LOGGER = logging.getLogger(__name__)
STATE_DIR = Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state")) / "dystonia-kiosk"


@dataclass(frozen=True)
class PrivacySettings:
    log_unanswered: bool = False
    """Keep the text of questions the kiosk declined or had to confirm (off by default)."""
    retention_days: int = 30
    """Unanswered questions older than this are deleted."""
    state_dir: str = ""
    """Where counts and the log live (default ~/.local/state/dystonia-kiosk)."""


class OperatorLog:
    """Counts every decision; with the operator's consent, keeps unanswered question text for a while."""

    def __init__(self, settings: PrivacySettings) -> None:
        self.settings = settings
        self.folder = Path(settings.state_dir).expanduser() if settings.state_dir else STATE_DIR
        self.counts_file = self.folder / "counts.json"
        self.unanswered_file = self.folder / "unanswered.jsonl"

    def record(self, match: Match) -> None:
        """Called for every question matched. Failures are logged, never raised: logging must not
        stop the kiosk from answering."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            day = time.strftime("%Y-%m-%d")
            counts = self._counts()
            counts.setdefault(day, {}).setdefault(match.decision.value, 0)
            counts[day][match.decision.value] += 1
            _write_atomic(self.counts_file, json.dumps(counts))
            if self.settings.log_unanswered and match.decision.value != "answer":
                with self.unanswered_file.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps({"t": time.time(), "q": match.normalized,
                                         "decision": match.decision.value}) + "\n")
        except OSError as exc:
            _LOGGER.warning("cannot write the operator log in %s (%s)", self.folder, exc)

    def _counts(self) -> dict[str, dict[str, int]]:
        try:
            data = json.loads(self.counts_file.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def prune(self) -> list[dict[str, object]]:
        """Drop unanswered questions past the retention time; return the ones kept."""
        try:
            lines = self.unanswered_file.read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        limit = time.time() - self.settings.retention_days * 86400
        kept = []
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and float(entry.get("t", 0)) >= limit:
                kept.append(entry)
        if len(kept) != len(lines):
            _write_atomic(self.unanswered_file, "".join(json.dumps(e) + "\n" for e in kept))
        return kept

    def report(self, top: int = 10) -> str:
        counts = self._counts()
        totals: Counter[str] = Counter()
        for day in counts.values():
            totals.update(day)
        n = sum(totals.values())
        lines = [f"questions: {n}"]
        for decision in ("answer", "confirm", "decline"):
            share = totals[decision] / n if n else 0.0
            lines.append(f"  {decision:8s} {totals[decision]:6d}  {share:6.1%}")
        if not self.settings.log_unanswered:
            lines.append("unanswered-questions log: off (turn on with [privacy] log_unanswered = true)")
            return "\n".join(lines)
        kept = self.prune()
        common = Counter(str(e.get("q", "")) for e in kept).most_common(top)
        lines.append(f"most frequent unanswered questions (last {self.settings.retention_days} days):")
        lines.extend(f"  {count:4d}  {question}" for question, count in common)
        return "\n".join(lines)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
