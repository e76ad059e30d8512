"""The escalation test: Poisson tails, the minimum count and the floor of an empty baseline."""

from __future__ import annotations

import math

import pytest

from core.escalation import (
    ALPHA,
    BASELINE_S,
    FLOOR_PER_WINDOW,
    MIN_COUNT,
    WINDOW_S,
    assess,
    poisson_tail,
)

NOW = 1_700_000_000.0
HOUR = 3600.0


@pytest.mark.parametrize(
    ("k", "mu", "expected"),
    [
        (0, 2.0, 1.0),
        (1, 2.0, 1 - math.exp(-2.0)),
        (3, 0.25, 1 - math.exp(-0.25) * (1 + 0.25 + 0.25**2 / 2)),
        (2, 1.0, 1 - 2 * math.exp(-1.0)),
        (5, 5.0, 0.5595067149347879),  # scipy.stats.poisson.sf(4, 5)
        (9, 2.5, 0.0011402528326042434),  # scipy.stats.poisson.sf(8, 2.5)
        (1100, 1000.0, 0.0009626304058665587),  # far from 0 and 1, large mu
        (30, 1e-3, 3.76634102030181e-123),  # a tiny tail, not rounded to 0
    ],
)
def test_known_poisson_tails(k: int, mu: float, expected: float) -> None:
    assert poisson_tail(k, mu) == pytest.approx(expected, rel=1e-9)


def test_tail_agrees_with_scipy_over_a_grid() -> None:
    stats = pytest.importorskip("scipy.stats")
    for mu in (0.01, 0.25, 1.0, 3.7, 20.0, 150.0):
        for k in range(0, int(mu * 3) + 12):
            want = float(stats.poisson.sf(k - 1, mu))
            assert poisson_tail(k, mu) == pytest.approx(want, rel=1e-8, abs=1e-300), (k, mu)


def _spread(count: int, start: float, end: float) -> list[float]:
    return [start + (end - start) * (n + 0.5) / count for n in range(count)]


def test_a_quiet_region_needs_a_real_burst() -> None:
    # No history: mu is floored at one story a day, so 3 stories (p = 0.002) do not fire...
    three = assess(_spread(3, NOW - 5 * HOUR, NOW), NOW)
    assert (three.count, three.baseline, three.expected) == (3, 0, FLOOR_PER_WINDOW)
    assert not three.fired and three.p_value > ALPHA
    # ...and 4 do.
    four = assess(_spread(4, NOW - 5 * HOUR, NOW), NOW)
    assert four.fired and four.p_value < ALPHA


def test_the_minimum_count_holds_however_quiet_the_region() -> None:
    two = assess([NOW - HOUR, NOW - 2 * HOUR], NOW, floor=0.001)
    assert two.p_value < ALPHA  # improbable under the model...
    assert not two.fired  # ...but two stories are never an escalation
    assert assess([NOW - HOUR, NOW - 2 * HOUR, NOW - 3 * HOUR], NOW, floor=0.001).fired
    assert MIN_COUNT == 3


def test_a_busy_region_is_judged_against_its_own_baseline() -> None:
    baseline_start, window_start = NOW - WINDOW_S - BASELINE_S, NOW - WINDOW_S
    # 560 stories in 14 days: 10 per 6 h is usual; 12 is not an escalation, 25 is.
    usual = _spread(560, baseline_start, window_start)
    calm = assess(usual + _spread(12, window_start, NOW), NOW)
    assert calm.expected == pytest.approx(10.0) and not calm.fired
    burst = assess(usual + _spread(25, window_start, NOW), NOW)
    assert burst.fired and burst.count == 25 and burst.baseline == 560


def test_window_bounds_and_ignored_times() -> None:
    times = [NOW + 1, NOW, NOW - WINDOW_S, NOW - WINDOW_S - BASELINE_S, NOW - 30 * 24 * HOUR]
    result = assess(times, NOW)
    # After now: ignored; now: in; the window's start: baseline; older than the baseline: out.
    assert (result.count, result.baseline) == (1, 1)
