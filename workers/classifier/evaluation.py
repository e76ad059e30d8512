"""Scoring a labelled set: per-label precision / recall / F1, macro-F1 and the confusion matrix."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from workers.classifier.model import LABELS


@dataclass
class Scores:
    """Confusion counts over LABELS, with derived figures."""

    confusion: dict[tuple[str, str], int] = field(default_factory=dict)  # (gold, predicted)
    calibration: tuple[float, float] = (0.0, 0.0)  # (ECE, Brier) when probabilities were kept

    def add(self, gold: str, predicted: str) -> None:
        """Count one item."""
        key = (gold, predicted)
        self.confusion[key] = self.confusion.get(key, 0) + 1

    @property
    def total(self) -> int:
        """Number of items counted."""
        return sum(self.confusion.values())

    def prf(self, label: str) -> tuple[float, float, float]:
        """Precision, recall and F1 of ``label`` (0 where undefined)."""
        tp = self.confusion.get((label, label), 0)
        pred = sum(v for (g, p), v in self.confusion.items() if p == label)
        gold = sum(v for (g, p), v in self.confusion.items() if g == label)
        prec = tp / pred if pred else 0.0
        rec = tp / gold if gold else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        return prec, rec, f1

    def macro_f1(self) -> float:
        """Mean F1 over the labels that occur (gold or predicted)."""
        present = [
            lab for lab in LABELS if any(lab in key for key, v in self.confusion.items() if v)
        ]
        if not present:
            return 0.0
        return sum(self.prf(lab)[2] for lab in present) / len(present)

    def accuracy(self) -> float:
        """Share of items labelled correctly."""
        ok = sum(v for (g, p), v in self.confusion.items() if g == p)
        return ok / self.total if self.total else 0.0


def score_pairs(pairs: Iterable[tuple[str, str]]) -> Scores:
    """Build Scores from (gold, predicted) pairs."""
    scores = Scores()
    for gold, predicted in pairs:
        scores.add(gold, predicted)
    return scores


def format_scores(scores: Scores, title: str = "") -> str:
    """Human-readable report: per-label P/R/F1, macro-F1, accuracy and confusion matrix."""
    lines = [f"== {title} (n={scores.total})" if title else f"== n={scores.total}"]
    lines.append(f"{'label':<10} {'prec':>6} {'recall':>6} {'f1':>6} {'support':>7}")
    for lab in LABELS:
        p, r, f = scores.prf(lab)
        support = sum(v for (g, _), v in scores.confusion.items() if g == lab)
        lines.append(f"{lab:<10} {p:6.3f} {r:6.3f} {f:6.3f} {support:7d}")
    lines.append(f"macro-F1 {scores.macro_f1():.3f}   accuracy {scores.accuracy():.3f}")
    lines.append("confusion (rows gold, columns predicted):")
    lines.append(" " * 11 + "".join(f"{lab:>10}" for lab in LABELS))
    for g in LABELS:
        row = "".join(f"{scores.confusion.get((g, p), 0):>10d}" for p in LABELS)
        lines.append(f"{g:<11}{row}")
    return "\n".join(lines)
