"""Regression on the labelled dev set (../shared/eval/dev.jsonl): the figures issue 4 demands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

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


def test_cross_validated_figures(clf: Classifier, shared_dir: Path) -> None:
    """Out-of-fold figures: what the rules and features give on items the weights never saw."""
    pytest.importorskip("numpy")
    from workers.classifier.fit import ZERO, cross_validate, design, load_items
    from workers.classifier.model import LABELS

    items = load_items(shared_dir / "eval" / "dev.jsonl")
    unfitted = Classifier(clf.extractors, clf.gazetteer, ZERO)
    rows = design(unfitted, items)
    ys = [LABELS.index(it["label"]) for it in items]
    langs = [str(it.get("lang") or "?") for it in items]
    cv = cross_validate(rows, ys, langs, l2=0.003, folds=5, seed=13)
    precision, recall, _ = cv["all"].prf("violation")
    assert precision >= 0.95, precision
    assert recall >= 0.92, recall
    assert cv["all"].macro_f1() >= 0.88, cv["all"].macro_f1()
