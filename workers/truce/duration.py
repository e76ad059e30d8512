"""How long a truce is to last, or by how much it is extended.

"72-hour", "trzydniowe", "لمدة خمسة أيام"; "for another 72 hours", "o kolejne 72 godziny".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.models import TruceEventKind
from workers.truce.doc import Ctx

NEAR_TRUCE = 50  # characters between a duration and the truce word it measures
NEAR_EXTEND = 45  # ... or the extension word
OTHER_AFTER = 18  # "11-day conflict", "five days of clashes": the duration measures that
EXTRA_BEFORE = 16  # "by a further", "another": the duration of the extension


@dataclass(frozen=True, slots=True)
class _Candidate:
    hours: float
    start: int
    to_truce: int
    to_extend: int
    extra: bool


def _measures_other(ctx: Ctx, m: re.Match[str]) -> bool:
    """True when a war / fighting / talks word right after ``m`` is what it measures."""
    low = ctx.doc.low
    limit = m.end() + OTHER_AFTER
    others = [*ctx.vx("war"), *ctx.lx("hostile"), *ctx.lx("talks")]
    for o in others:
        if m.end() <= o.start() <= limit and "\n" not in low[m.end() : o.start()]:
            truce_between = any(m.end() <= t.start < o.start() for t in ctx.mentions)
            if not truce_between:
                return True
    return False


def _delay(ctx: Ctx, m: re.Match[str]) -> bool:
    """True for a delay or a clock time, not a length.

    "after 6 hours" ("3 gün sonra" in verb-final order); "17h, heure de l'Est".
    """
    low = ctx.doc.low
    for a in ctx.lx("after"):
        if 0 <= m.start() - a.end() <= 2 or (
            ctx.vocab.order == "sov" and 0 <= a.start() - m.end() <= 2
        ):
            return True
    return any(0 <= z.start() - m.end() <= 4 and "\n" not in low[m.end() : z.start()]
               for z in ctx.vx("zone"))


def _gap(m: re.Match[str], others: list[re.Match[str]]) -> int:
    gaps = [max(o.start() - m.end(), m.start() - o.end(), 0) for o in others]
    return min(gaps, default=10_000)


def duration_h(ctx: Ctx, kind: TruceEventKind | None) -> float | None:
    """The duration the item states for the truce (for ``extended``: of the extension)."""
    vocab = ctx.vocab
    extend = ctx.both("extend", "extend")
    extra = ctx.vx("extra")
    found: list[_Candidate] = []
    for m in ctx.doc.matches(vocab.durations):
        hours = vocab.duration_h(m)
        if not hours or _measures_other(ctx, m) or _delay(ctx, m):
            continue
        seg = ctx.doc.seg_of(m.start())
        to_truce = ctx.distance(m, talks=True)
        to_extend = _gap(m, ctx.doc.in_seg(extend, seg))
        if to_truce > NEAR_TRUCE and to_extend > NEAR_EXTEND:
            continue
        has_extra = any(m.start() - EXTRA_BEFORE <= x.end() <= m.start() + 1 for x in extra)
        found.append(_Candidate(hours, m.start(), to_truce, to_extend, has_extra))
    if not found:
        return None
    if kind == "extended":
        # The extension's length: after "another" / "by a further", else nearest the verb.
        best = min(found, key=lambda c: (not c.extra, c.to_extend, c.start))
    else:
        best = min(found, key=lambda c: (c.extra, c.to_truce, c.start))
    return best.hours
