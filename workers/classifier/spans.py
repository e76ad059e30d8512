"""Span arithmetic for the rules: where word classes occur relative to each other."""

from __future__ import annotations

import re

Span = tuple[int, int]

# Clause boundaries: "diplomacy broke out, as the ceasefire collapsed" has two subjects.
CLAUSE_BREAK = re.compile(r",|;| as | after | when | while | and | but ")


def spans(pattern: re.Pattern[str] | None, text: str) -> list[Span]:
    """(start, end) of every match of ``pattern`` in ``text`` (none for a missing class)."""
    if pattern is None:
        return []
    return [m.span() for m in pattern.finditer(text)]


def gap(a: Span, b: Span) -> int:
    """Characters between two spans (0 when they touch or overlap)."""
    return max(0, max(a[0], b[0]) - min(a[1], b[1]))


def span_between(a: Span, b: Span) -> tuple[int, int]:
    """(start, end) of the text between two spans, in either order."""
    return (a[1], b[0]) if a[1] <= b[0] else (b[1], a[0])


def near(xs: list[Span], ys: list[Span], window: int) -> list[tuple[Span, Span]]:
    """Pairs (x, y) at most ``window`` characters apart, in either order."""
    return [(x, y) for x in xs for y in ys if gap(x, y) <= window]


def between(zs: list[Span], a: Span, b: Span) -> bool:
    """True when some span of ``zs`` lies between ``a`` and ``b``."""
    lo, hi = min(a[1], b[1]), max(a[0], b[0])
    return any(lo <= z[0] and z[1] <= hi for z in zs)


def left_within(zs: list[Span], a: Span, window: int) -> bool:
    """True when some span of ``zs`` ends at most ``window`` chars before ``a`` starts."""
    return any(z[1] <= a[0] and a[0] - z[1] <= window for z in zs)


def right_within(zs: list[Span], a: Span, window: int) -> bool:
    """True when some span of ``zs`` starts at most ``window`` chars after ``a`` ends."""
    return any(z[0] >= a[1] and z[0] - a[1] <= window for z in zs)


def talks_subject(talks: list[Span], t: Span, low: str, breaks: list[Span] | None = None) -> bool:
    """True when the truce word is the object of talks/efforts ("talks to extend the truce").

    ``breaks`` are extra spans that end the talks' phrase, e.g. the language's "amid" /
    "despite": in "talks amid a shaky truce" the truce is the setting, not the talks' object.
    """
    for z in talks:
        if z[1] <= t[0] and t[0] - z[1] <= 40 and not CLAUSE_BREAK.search(low, z[1], t[0]):
            if breaks and between(breaks, z, t):
                continue
            return True
    return False
