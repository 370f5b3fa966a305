"""Choose the matcher's answer/confirm thresholds by measurement on the kiosk's own question set.

bench/questions-own.jsonl holds questions written for this purpose (in scope with the expected
topic, and out of scope), worded independently of ../shared/eval-dev. For each threshold pair it
prints how many questions would be answered right, answered wrong, confirmed, or declined.
A wrong confident answer is the worst outcome, so pick the lowest answer threshold with none.

    .venv/bin/python bench/tune_thresholds.py
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from kiosk import content
from kiosk.matcher import Index, MatchSettings, match

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    kb = content.load(ROOT / "content")
    index = Index(kb)
    rows = [json.loads(line) for line in (ROOT / "bench" / "questions-own.jsonl").read_text().splitlines() if line]
    base = MatchSettings(answer_at=0.0, confirm_at=0.0)
    results = []
    for row in rows:
        m = match(row["text"], index, base)
        wanted = row.get("topic")
        wanted = wanted if isinstance(wanted, list) else [wanted]
        right = bool(m.best) and not row.get("ood") and m.best.topic_id in wanted  # type: ignore[union-attr]
        results.append((m.confidence, bool(row.get("ood")), right))
    n_in = sum(1 for _, ood, _ in results if not ood)
    n_ood = len(results) - n_in
    print(f"{len(results)} questions: {n_in} in scope, {n_ood} out of scope (defaults: {MatchSettings()})")
    print(f"{'answer_at':>9} {'confirm_at':>10} | {'right':>5} {'wrong':>5} {'conf.ok':>7} {'conf.bad':>8} "
          f"{'declined':>8} | {'ood ans':>7} {'ood conf':>8}")
    for answer_at in (0.55, 0.6, 0.65, 0.7, 0.75, 0.8):
        for confirm_at in (0.45, 0.5, 0.55, 0.6):
            if confirm_at > answer_at:
                continue
            s = replace(base, answer_at=answer_at, confirm_at=confirm_at)
            right = sum(1 for c, ood, ok in results if not ood and ok and c >= s.answer_at)
            wrong = sum(1 for c, ood, ok in results if not ood and not ok and c >= s.answer_at)
            conf_ok = sum(1 for c, ood, ok in results if not ood and ok and s.confirm_at <= c < s.answer_at)
            conf_bad = sum(1 for c, ood, ok in results if not ood and not ok and s.confirm_at <= c < s.answer_at)
            declined = n_in - right - wrong - conf_ok - conf_bad
            ood_ans = sum(1 for c, ood, _ in results if ood and c >= s.answer_at)
            ood_conf = sum(1 for c, ood, _ in results if ood and s.confirm_at <= c < s.answer_at)
            print(f"{answer_at:9.2f} {confirm_at:10.2f} | {right:5d} {wrong:5d} {conf_ok:7d} {conf_bad:8d} "
                  f"{declined:8d} | {ood_ans:7d} {ood_conf:8d}")


if __name__ == "__main__":
    main()
