"""Fit the classifier on the labelled training sets; write only the parameters.

Usage: ``python -m workers.classifier.fit [--data FILE ...] [--config-dir config]``.
By default it reads ``../shared/eval/train.jsonl`` and ``train-multilingual.jsonl`` (never the
dev sets: those only check a finished change, with ``ceasefire-watch eval``). It prints
stratified k-fold figures, chooses the violation threshold on the out-of-fold predictions
(every item scored by a model that never saw it: the held-back data), and writes
``classifier_params.yaml`` (rule-feature weights, threshold) plus ``classifier_ngrams.bin``
(hashed n-gram weights). No item text is written. Needs scikit-learn and numpy (the
``test`` extra); the service only reads the files.
"""

from __future__ import annotations

import json
import random
import sys
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from core.config_files import default_config_dir
from workers.classifier.engine import PARAMS_FILE, Classifier
from workers.classifier.evaluation import Scores, format_scores
from workers.classifier.features import FEATURES
from workers.classifier.fit_priors import PRIOR_WEIGHT, PRIORS
from workers.classifier.fit_report import (
    best_f1_threshold,
    calibration,
    choose_threshold,
    threshold_table,
)
from workers.classifier.model import LABELS, ModelParams, Scorer, label_index, write_params
from workers.classifier.ngrams import BUCKETS, NgramWeights

NGRAM_FILE = "classifier_ngrams.bin"
_EVAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "eval"
DEFAULT_DATA = (_EVAL / "train.jsonl", _EVAL / "train-multilingual.jsonl")
ZERO = Scorer(bias=(0.0, 0.0, 0.0), weights=((0.0,) * len(FEATURES),) * 3)
PRECISION_TARGET = 0.95


def load_items(path: Path) -> list[dict[str, Any]]:
    """Read a JSON-lines labelled file."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@dataclass
class Design:
    """What the model sees of each item: rule features, n-grams, and whether it is gated."""

    rows: list[list[float]]  # FEATURES order
    grams: list[dict[int, float]]
    gated: list[bool]  # True: no truce word (or unsupported language): labelled none unseen


def design(clf: Classifier, items: list[dict[str, Any]]) -> Design:
    """Feature rows and n-gram vectors exactly as the service computes them."""
    out = Design([], [], [])
    for it in items:
        title, text = it.get("title") or "", it.get("text") or ""
        _, _, ext, _ = clf.featurize(title, text, it.get("lang"))
        x = ext.x if ext is not None else {}
        out.rows.append([x.get(f, 0.0) for f in FEATURES])
        out.grams.append(ext.grams if ext is not None else {})
        out.gated.append(ext is None)
    return out


def _matrix(rows: list[list[float]], grams: list[dict[int, float]], ngram_scale: float) -> Any:
    """Sparse [rule features | scaled n-gram buckets] matrix."""
    import numpy as np
    from scipy import sparse

    dense = sparse.csr_matrix(np.asarray(rows, dtype=float))
    data: list[float] = []
    cols: list[int] = []
    ptr = [0]
    for g in grams:
        cols.extend(g)
        data.extend(v * ngram_scale for v in g.values())
        ptr.append(len(cols))
    ng = sparse.csr_matrix((data, cols, ptr), shape=(len(grams), BUCKETS))
    return sparse.hstack([dense, ng]).tocsr()


@dataclass
class Fitted:
    """A fitted model in the service's terms."""

    bias: list[float]
    weights: list[list[float]]  # label -> FEATURES
    ngrams: list[list[float]]  # label -> BUCKETS (already multiplied by the n-gram scale)

    def ngram_weights(self) -> NgramWeights:
        """The n-gram weights as the service stores and reads them (float32)."""
        rows = [array("f", row) for row in self.ngrams]
        return NgramWeights((rows[0], rows[1], rows[2]))

    def scorer(self) -> Scorer:
        """The service's Scorer for these weights (threshold 0.5: probabilities are the point)."""
        w = tuple(tuple(r) for r in self.weights)
        return Scorer(
            bias=(self.bias[0], self.bias[1], self.bias[2]),
            weights=(w[0], w[1], w[2]),
            ngrams=self.ngram_weights(),
        )


def fit_model(d: Design, ys: list[int], idx: list[int], *, c: float, ngram_scale: float) -> Fitted:
    """Multinomial logistic regression (L2) on the items ``idx`` that pass the gate + priors."""
    from sklearn.linear_model import LogisticRegression

    use = [i for i in idx if not d.gated[i]]
    rows = [d.rows[i] for i in use]
    grams = [d.grams[i] for i in use]
    y = [ys[i] for i in use]
    prior_rows = [[1.0 if f in feats else 0.0 for f in FEATURES] for feats, _ in PRIORS]
    rows += prior_rows * PRIOR_WEIGHT
    grams += [{} for _ in prior_rows] * PRIOR_WEIGHT
    y += [LABELS.index(label) for _, label in PRIORS] * PRIOR_WEIGHT
    model = LogisticRegression(C=c, max_iter=5000)
    model.fit(_matrix(rows, grams, ngram_scale), y)
    coef = model.coef_
    nf = len(FEATURES)
    return Fitted(
        bias=[float(v) for v in model.intercept_],
        weights=[[float(v) for v in coef[k, :nf]] for k in range(3)],
        ngrams=[[float(v) * ngram_scale for v in coef[k, nf:]] for k in range(3)],
    )


def out_of_fold(
    d: Design, ys: list[int], *, c: float, ngram_scale: float, folds: int, seed: int
) -> list[list[float]]:
    """Probabilities of every item from a model fitted without its fold (stratified)."""
    rng = random.Random(seed)
    fold_of = [0] * len(ys)
    for k in range(3):
        idx = [i for i, y in enumerate(ys) if y == k]
        rng.shuffle(idx)
        for j, i in enumerate(idx):
            fold_of[i] = j % folds
    out: list[list[float]] = [[0.0, 0.0, 1.0] for _ in ys]
    for f in range(folds):
        train = [i for i in range(len(ys)) if fold_of[i] != f]
        scorer = fit_model(d, ys, train, c=c, ngram_scale=ngram_scale).scorer()
        for i in range(len(ys)):
            if fold_of[i] == f and not d.gated[i]:
                x = dict(zip(FEATURES, d.rows[i], strict=True))
                out[i] = scorer.probabilities(x, d.grams[i])
    return out


def score_at(
    probs: list[list[float]], ys: list[int], langs: list[str], t: float
) -> dict[str, Scores]:
    """Scores overall and per language when violation is called at p >= ``t``."""
    out: dict[str, Scores] = {"all": Scores()}
    for p, y, lang in zip(probs, ys, langs, strict=True):
        pred = LABELS[label_index(p, t)]
        out["all"].add(LABELS[y], pred)
        out.setdefault(lang, Scores()).add(LABELS[y], pred)
    return out


@click.command("fit")
@click.option(
    "--data",
    "data",
    type=click.Path(path_type=Path, exists=True),
    multiple=True,
    help="Labelled JSON lines (repeatable); default: the shared train sets.",
)
@click.option("--config-dir", type=click.Path(path_type=Path, file_okay=False), default=None)
@click.option("--c", "c", type=float, default=10.0, show_default=True, help="Inverse L2 strength.")
@click.option("--ngram-scale", type=float, default=0.7, show_default=True)
@click.option("--folds", type=int, default=5, show_default=True)
@click.option("--dry-run", is_flag=True, help="Print figures, write nothing.")
def main(  # noqa: PLR0917 (click passes every option)
    data: tuple[Path, ...],
    config_dir: Path | None,
    c: float,
    ngram_scale: float,
    folds: int,
    dry_run: bool,
) -> None:
    """Fit on DATA and write CONFIG_DIR/classifier_params.yaml and classifier_ngrams.bin."""
    config_dir = config_dir or default_config_dir()
    paths = data or DEFAULT_DATA
    clf = Classifier.from_config(config_dir, scorer=ZERO)
    items = [it for p in paths for it in load_items(p)]
    d = design(clf, items)
    ys = [LABELS.index(it["label"]) for it in items]
    langs = [str(it.get("lang") or "?") for it in items]
    probs = out_of_fold(d, ys, c=c, ngram_scale=ngram_scale, folds=folds, seed=13)
    threshold = best_f1_threshold(probs, ys)
    alert_threshold = choose_threshold(probs, ys, PRECISION_TARGET)
    click.echo(threshold_table(probs, ys))
    click.echo(
        f"label threshold {threshold} (best held-back F1); readers' default alert threshold "
        f"{alert_threshold} (held-back precision >= {PRECISION_TARGET} from there up)"
    )
    cv = score_at(probs, ys, langs, threshold)
    for name, sc in sorted(cv.items()):
        click.echo(format_scores(sc, f"{folds}-fold out-of-fold at threshold {threshold}: {name}"))
    conf = [(p[k], k == y) for p, y in zip(probs, ys, strict=True) for k in [p.index(max(p))]]
    ece, brier = calibration(conf)
    click.echo(
        f"out-of-fold calibration of the chosen label's score: ECE {ece:.3f}, Brier {brier:.3f}"
    )
    fitted = fit_model(d, ys, list(range(len(ys))), c=c, ngram_scale=ngram_scale)
    vp, vr, vf = cv["all"].prf("violation")
    params = ModelParams(
        features=FEATURES,
        bias=dict(zip(LABELS, fitted.bias, strict=True)),
        weights={
            lab: dict(zip(FEATURES, fitted.weights[k], strict=True)) for k, lab in enumerate(LABELS)
        },
        fitted_on=", ".join(f"{p.name}" for p in paths) + f": {len(items)} items",
        ngram_file=NGRAM_FILE,
        threshold=threshold,
        alert_threshold=alert_threshold,
        l2=round(1.0 / c, 6),
        cv={
            "folds": folds,
            "threshold_rule": "best out-of-fold violation F1",
            "alert_threshold_rule": f"lowest with out-of-fold precision >= {PRECISION_TARGET}",
            "violation_precision": round(vp, 3),
            "violation_recall": round(vr, 3),
            "violation_f1": round(vf, 3),
            "macro_f1": round(cv["all"].macro_f1(), 3),
            "ece": round(ece, 3),
            "brier": round(brier, 3),
        },
    )
    if not dry_run:
        write_params(config_dir / PARAMS_FILE, params)
        fitted.ngram_weights().save(config_dir / NGRAM_FILE)
        click.echo(f"wrote {config_dir / PARAMS_FILE} and {config_dir / NGRAM_FILE}")


if __name__ == "__main__":
    sys.exit(main())
