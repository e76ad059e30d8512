"""Escalation: is a region's count of violation stories in 6 h clearly above its usual count.

Pure functions over first-report times; the truces role records the times and publishes the
``Escalation`` (workers/truce/escalation.py), the notifier delivers it.

Why the test is sound. Distinct violation stories of one region are rare, roughly independent
events, so their count in a window is modelled as Poisson with the region's own rate: the
mean ``mu`` over the window is the baseline count (the 14 days before the window) scaled to
6 h. We fire when the upper tail P(X >= count | mu) is below ``ALPHA`` (0.001): a count that
a steady region would reach by chance about once in a thousand windows. A bare ratio would
fire on 2 stories against a usual 0.5; the tail does not, and two guards keep the test honest
where the model is weakest:

- ``MIN_COUNT``: fewer than 3 stories never fire, however quiet the region (one outlet's story
  split in two, or one busy evening, is not an escalation);
- ``FLOOR_PER_WINDOW``: ``mu`` is never below one story a day (0.25 per 6 h), so a region with
  no history (a new region, or a service that started yesterday) needs a real burst (4 stories
  in 6 h) rather than firing on its first few reports.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

WINDOW_S = 6 * 3600
BASELINE_S = 14 * 24 * 3600
MIN_COUNT = 3
ALPHA = 0.001
FLOOR_PER_WINDOW = 0.25  # one story a day


@dataclass(frozen=True)
class Assessment:
    """One region at one moment: stories in the window, what was expected, how unlikely."""

    count: int
    baseline: int
    expected: float
    p_value: float
    fired: bool


def poisson_tail(k: int, mu: float) -> float:
    """P(X >= k) for X ~ Poisson(mu), exact enough for tiny tails.

    Hand-written (a log-space sum of the terms, a few lines) because scipy would be a heavy
    run-time dependency for this one function; tests check it against scipy.
    """
    if k <= 0:
        return 1.0
    if mu <= 0:
        return 0.0
    if k <= mu:
        # Around and below the mean the terms grow upwards: sum the (short) lower side instead.
        return max(0.0, 1.0 - _log_sum(k - 1, mu, step=-1))
    return min(1.0, _log_sum(k, mu, step=1))


def _log_sum(k: int, mu: float, *, step: int) -> float:
    """Sum of Poisson(mu) terms from j = k moving by ``step`` while they matter, in log space."""
    log_first = k * math.log(mu) - mu - math.lgamma(k + 1)
    term, total, j = 1.0, 0.0, k
    while j >= 0:
        total += term
        # Next term relative to the first: P(j+1)/P(j) = mu/(j+1); P(j-1)/P(j) = j/mu.
        term *= mu / (j + 1) if step > 0 else j / mu
        j += step
        if term < 1e-17 * total:
            break
    return math.exp(log_first + math.log(total))


def assess(
    times: Iterable[float], now: float, *, window_s: float = WINDOW_S,
    baseline_s: float = BASELINE_S, min_count: int = MIN_COUNT, alpha: float = ALPHA,
    floor: float = FLOOR_PER_WINDOW,
) -> Assessment:
    """Test the stories first reported in (now - window, now] against the baseline before it.

    ``times`` are the first-report times (epoch s) of a region's distinct violation stories;
    those after ``now`` or older than the baseline are ignored.
    """
    start = now - window_s
    count = baseline = 0
    for t in times:
        if start < t <= now:
            count += 1
        elif start - baseline_s < t <= start:
            baseline += 1
    expected = max(floor, baseline * window_s / baseline_s)
    p_value = poisson_tail(count, expected)
    return Assessment(
        count=count, baseline=baseline, expected=expected, p_value=p_value,
        fired=count >= min_count and p_value < alpha,
    )
