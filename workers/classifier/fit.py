"""Fit the classifier's calibration on the labelled dev set; write only the parameters.

Usage: ``python -m workers.classifier.fit [--data ../shared/eval/dev.jsonl] [--config-dir config]``.
Reads the labelled items at fitting time, prints cross-validated figures, and writes
``classifier_params.yaml`` (weights per label and feature; never any item text).
Needs numpy (a development-only dependency; the service itself does not import it).
"""

from __future__ import annotations

import json
import math
import random
import sys
from pathlib import Path
from typing import Any

import click

from core.config_files import default_config_dir
from workers.classifier.engine import PARAMS_FILE, Classifier
from workers.classifier.evaluation import Scores, format_scores
from workers.classifier.features import FEATURES
from workers.classifier.model import LABELS, ModelParams, Scorer, write_params

# Rule priors: a few pseudo-items stating what rare rule families mean (the dev set has few
# or no monitor counts, threats or "before it starts" items). They join every training fold
# but are never scored, so the cross-validated figures stay honest.
PRIORS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("truce", "truce_title", "count", "violate", "breach_any", "region"), "violation"),
    (("truce", "count", "violate", "breach_any", "breach_many", "hostile", "region"), "violation"),
    (("truce", "truce_title", "violate", "accused", "breach_any", "region"), "violation"),
    (("truce", "truce_title", "violate", "accused", "breach_any"), "violation"),
    (("truce", "truce_title", "despite", "hostile", "hostile_truce", "breach_any"), "violation"),
    (("truce", "truce_title", "violate_hypo", "hypo", "region"), "ceasefire"),
    (("truce", "truce_title", "violate_hypo", "hypo"), "ceasefire"),
    (("truce", "truce_title", "collapse_hypo", "hypo", "region"), "ceasefire"),
    (
        ("truce", "truce_title", "pending", "hostile", "hostile_truce", "agree", "region"),
        "ceasefire",
    ),
    (("truce", "truce_title", "call", "region"), "ceasefire"),
    (("truce", "truce_title", "hold", "region"), "ceasefire"),
    (("truce", "truce_title", "false_friend", "unanchored"), "none"),
    (("truce", "truce_title", "unanchored", "agree"), "none"),
)
PRIOR_WEIGHT = 2  # each prior counts as this many items

DEFAULT_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "eval" / "dev.jsonl"
ZERO = Scorer(bias=(0.0, 0.0, 0.0), weights=((0.0,) * len(FEATURES),) * 3)


def load_items(path: Path) -> list[dict[str, Any]]:
    """Read a JSON-lines labelled file."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def design(clf: Classifier, items: list[dict[str, Any]]) -> list[list[float]]:
    """Feature rows (FEATURES order) for ``items``; unsupported items get a zero row."""
    rows = []
    for it in items:
        _, _, ext, _ = clf.featurize(it.get("title", ""), it.get("text", ""), it.get("lang"))
        x = ext.x if ext is not None else {}
        rows.append([x.get(f, 0.0) for f in FEATURES])
    return rows


def with_priors(rows: list[list[float]], ys: list[int]) -> tuple[list[list[float]], list[int]]:
    """Training rows plus the rule priors (PRIOR_WEIGHT copies each)."""
    extra_rows = [[1.0 if f in feats else 0.0 for f in FEATURES] for feats, _ in PRIORS]
    extra_ys = [LABELS.index(label) for _, label in PRIORS]
    return rows + extra_rows * PRIOR_WEIGHT, ys + extra_ys * PRIOR_WEIGHT


def fit_softmax(
    rows: list[list[float]], ys: list[int], *, l2: float, iters: int = 6000, lr: float = 1.0
) -> tuple[list[float], list[list[float]]]:
    """Multinomial logistic regression, L2 on weights (not biases), full-batch gradient descent."""
    import numpy as np

    rows, ys = with_priors(rows, ys)
    x = np.asarray(rows, dtype=float)
    y = np.zeros((len(ys), len(LABELS)))
    y[np.arange(len(ys)), ys] = 1.0
    w = np.zeros((x.shape[1], len(LABELS)))
    b = np.log(y.mean(axis=0) + 1e-3)
    n = len(ys)
    for _ in range(iters):
        z = x @ w + b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        g = p - y
        w -= lr * (x.T @ g / n + l2 * w)
        b -= lr * g.mean(axis=0)
    return [float(v) for v in b], [[float(v) for v in row] for row in w.T]


def probs(bias: list[float], weights: list[list[float]], row: list[float]) -> list[float]:
    """Softmax probabilities in LABELS order."""
    z = [bias[k] + sum(wk * v for wk, v in zip(weights[k], row, strict=True)) for k in range(3)]
    top = max(z)
    e = [math.exp(v - top) for v in z]
    return [v / sum(e) for v in e]


def predict(bias: list[float], weights: list[list[float]], row: list[float]) -> int:
    """Arg-max label index."""
    p = probs(bias, weights, row)
    return max(range(3), key=lambda k: p[k])


def calibration(pairs: list[tuple[float, bool]], bins: int = 10) -> tuple[float, float]:
    """(expected calibration error, Brier score) of (confidence, correct) pairs."""
    if not pairs:
        return 0.0, 0.0
    ece = 0.0
    for b in range(bins):
        inside = [
            (p, ok)
            for p, ok in pairs
            if b / bins <= p < (b + 1) / bins or p == 1.0 == (b + 1) / bins
        ]
        if inside:
            conf = sum(p for p, _ in inside) / len(inside)
            acc = sum(1 for _, ok in inside if ok) / len(inside)
            ece += len(inside) / len(pairs) * abs(conf - acc)
    brier = sum((p - (1.0 if ok else 0.0)) ** 2 for p, ok in pairs) / len(pairs)
    return ece, brier


def cross_validate(
    rows: list[list[float]], ys: list[int], langs: list[str], *, l2: float, folds: int, seed: int
) -> dict[str, Scores]:
    """Stratified k-fold out-of-fold predictions, scored overall and per language."""
    rng = random.Random(seed)
    fold_of = [0] * len(ys)
    for k in range(3):
        idx = [i for i, y in enumerate(ys) if y == k]
        rng.shuffle(idx)
        for j, i in enumerate(idx):
            fold_of[i] = j % folds
    out: dict[str, Scores] = {"all": Scores()}
    confidence: list[tuple[float, bool]] = []
    for f in range(folds):
        train = [i for i in range(len(ys)) if fold_of[i] != f]
        bias, weights = fit_softmax([rows[i] for i in train], [ys[i] for i in train], l2=l2)
        for i in range(len(ys)):
            if fold_of[i] == f:
                p = probs(bias, weights, rows[i])
                k = max(range(3), key=lambda j: p[j])
                gold, pred = LABELS[ys[i]], LABELS[k]
                out["all"].add(gold, pred)
                out.setdefault(langs[i], Scores()).add(gold, pred)
                confidence.append((p[k], k == ys[i]))
    out["all"].calibration = calibration(confidence)
    return out


@click.command("fit")
@click.option("--data", type=click.Path(path_type=Path, exists=True), default=DEFAULT_DATA)
@click.option("--config-dir", type=click.Path(path_type=Path, file_okay=False), default=None)
@click.option("--l2", type=float, default=0.003, show_default=True)
@click.option("--folds", type=int, default=5, show_default=True)
@click.option("--dry-run", is_flag=True, help="Print figures, write nothing.")
def main(data: Path, config_dir: Path | None, l2: float, folds: int, dry_run: bool) -> None:
    """Fit calibration weights on DATA and write them to CONFIG_DIR/classifier_params.yaml."""
    config_dir = config_dir or default_config_dir()
    clf = Classifier.from_config(config_dir, scorer=ZERO)
    items = load_items(data)
    rows = design(clf, items)
    ys = [LABELS.index(it["label"]) for it in items]
    langs = [str(it.get("lang") or "?") for it in items]
    cv = cross_validate(rows, ys, langs, l2=l2, folds=folds, seed=13)
    for name, sc in cv.items():
        click.echo(format_scores(sc, f"{folds}-fold cross-validation: {name}"))
    ece, brier = cv["all"].calibration
    click.echo(
        f"out-of-fold calibration of the chosen label's score: ECE {ece:.3f}, Brier {brier:.3f}"
    )
    bias, weights = fit_softmax(rows, ys, l2=l2)
    train = Scores()
    for row, y in zip(rows, ys, strict=True):
        train.add(LABELS[y], LABELS[predict(bias, weights, row)])
    click.echo(format_scores(train, "fit on all (training figures)"))
    vp, vr, _ = cv["all"].prf("violation")
    params = ModelParams(
        features=FEATURES,
        bias=dict(zip(LABELS, bias, strict=True)),
        weights={lab: dict(zip(FEATURES, weights[k], strict=True)) for k, lab in enumerate(LABELS)},
        fitted_on=f"{data.name}: {len(items)} items",
        l2=l2,
        cv={
            "folds": folds,
            "violation_precision": round(vp, 3),
            "violation_recall": round(vr, 3),
            "macro_f1": round(cv["all"].macro_f1(), 3),
            "ece": round(ece, 3),
            "brier": round(brier, 3),
        },
    )
    if not dry_run:
        write_params(config_dir / PARAMS_FILE, params)
        click.echo(f"wrote {config_dir / PARAMS_FILE}")


if __name__ == "__main__":
    sys.exit(main())
