"""Figures of a fit: the violation threshold, a precision/recall table and calibration."""

from __future__ import annotations

# Candidate thresholds on p(violation): 0.20, 0.225, ... 0.95.
CANDIDATES = tuple(round(0.2 + 0.025 * k, 3) for k in range(31))
# A threshold needs this many predicted violations behind its precision, or the figure is luck.
MIN_PREDICTED = 20


def _pr(probs: list[list[float]], ys: list[int], t: float) -> tuple[float, float, int]:
    """Violation precision, recall and predicted count at threshold ``t``."""
    pred = [p[0] >= t for p in probs]
    tp = sum(1 for ok, y in zip(pred, ys, strict=True) if ok and y == 0)
    n_pred = sum(pred)
    gold = sum(1 for y in ys if y == 0)
    return (tp / n_pred if n_pred else 0.0), (tp / gold if gold else 0.0), n_pred


def choose_threshold(probs: list[list[float]], ys: list[int], target: float) -> float:
    """Lowest threshold (highest recall) whose held-back precision reaches ``target``.

    When no threshold reaches it, the one with the best F1: a precision the data cannot
    show is not worth the recall it would cost.
    """
    # The lowest threshold from which precision stays at the target for every higher one: a
    # single lucky point on a flat stretch of the curve is not a choice.
    chosen = None
    for t in reversed(CANDIDATES):
        p, _, n = _pr(probs, ys, t)
        if n < MIN_PREDICTED or p < target:
            break
        chosen = t
    if chosen is not None:
        return chosen
    best = max(CANDIDATES, key=lambda t: _f1(*_pr(probs, ys, t)[:2]))
    return best


def best_f1_threshold(probs: list[list[float]], ys: list[int]) -> float:
    """The threshold with the best held-back violation F1 (the label decision)."""
    return max(CANDIDATES, key=lambda t: (round(_f1(*_pr(probs, ys, t)[:2]), 3), -t))


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def threshold_table(probs: list[list[float]], ys: list[int]) -> str:
    """Violation precision / recall / F1 at each candidate threshold (held-back figures)."""
    lines = ["threshold  precision  recall     f1  predicted"]
    for t in CANDIDATES[::2]:
        p, r, n = _pr(probs, ys, t)
        lines.append(f"{t:9.3f} {p:10.3f} {r:7.3f} {_f1(p, r):6.3f} {n:10d}")
    return "\n".join(lines)


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
