"""Regression on the labelled dev set (../shared/eval/dev.jsonl): the figures issue 4 demands."""

from __future__ import annotations

import json
from pathlib import Path

from workers.classifier.engine import Classifier
from workers.classifier.evaluation import Scores


def test_dev_set_figures(clf: Classifier, shared_dir: Path) -> None:
    scores = Scores()
    per_lang: dict[str, Scores] = {}
    with (shared_dir / "eval" / "dev.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            item = json.loads(line)
            result = clf.classify(item["title"], item.get("text") or "", item.get("lang"))
            scores.add(item["label"], result.label)
            per_lang.setdefault(item.get("lang") or "?", Scores()).add(item["label"], result.label)
    precision, recall, _ = scores.prf("violation")
    assert precision >= 0.95, precision
    assert recall >= 0.92, recall
    assert scores.macro_f1() >= 0.88, scores.macro_f1()
    # Polish is a small slice; it must still be well above chance on violations.
    pl_precision, pl_recall, _ = per_lang["pl"].prf("violation")
    assert pl_precision >= 0.8 and pl_recall >= 0.8, (pl_precision, pl_recall)
