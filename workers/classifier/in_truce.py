"""Violation candidates without a truce word: hostilities reported where a truce is in force.

While a truce holds in a region, "Shelling kills three in Khartoum" is a report of a breach
even though it never says "truce": the truce is the context, not the text. Such an item is
scored here with that context as a feature. The weights are set by hand, not fitted: the
labelled sets were labelled without the truce state (a labeller sees one item), so they hold
no example of this case to fit on. Each weight says what the guideline says: the headline
reporting a real hostility in the region is the evidence; a lede-only mention, a threat, a
history piece or a live blog is not enough. Every candidate the replay and the corpus raise
is judged by hand (README, "Detection that knows the state").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from workers.classifier.sentence import Sentence
from workers.classifier.spans import left_within

# Logit weights of the context score (see the module docstring for why they are not fitted).
BIAS = -3.0
WEIGHTS: dict[str, float] = {
    "head_hostile": 2.2,  # the headline itself reports a real hostility
    "lede_hostile": 1.0,  # the first sentence of the lede does (an event told, not named)
    "head_region": 0.8,  # the headline names the region in force
    "resume": 1.0,  # "resumed", "renewed", "again": the war coming back
    "accuse": 0.8,  # one side accuses the other of the attack
    "continuing": 0.4,  # "fighting continues", "rages"
    "hypo": -2.5,  # a threat, a condition, a warning: no event
    "background": -2.5,  # anniversaries, history
    "liveblog": -1.5,  # a round-up: the hostility may be anywhere
    "aftermath": -1.5,  # "after the Hamas attack", "since the strike": an earlier event
}
# Both the headline and the lede must tell of hostilities in the region (or the war must be
# said to come back): a headline naming an attack alone is most often about an old one.
THRESHOLD = 0.6
NEAR_AFTER = 25  # "after" this close before a hostility word makes it an earlier event


@dataclass(frozen=True, slots=True)
class TruceWindow:
    """A region where a truce is in force (or just ended) at the item's time."""

    region: str
    since: datetime | None
    until: datetime | None
    # True when the truce ended within the breakdown window: only a report of the fighting
    # coming back ("resumed", "renewed") is then about the truce.
    ended: bool = False


@dataclass(frozen=True, slots=True)
class InTruce:
    """The context score of one item, with the sentence that carries the hostility."""

    p: float
    sentence: int  # index in the item's sentences (0 = headline when there is one)
    features: tuple[str, ...]


def _hostile_with(s: Sentence, cls: str) -> bool:
    return bool(s.get("hostile")) and bool(s.get(cls))


def score(sents: list[Sentence], *, has_title: bool, head_region: bool, ended: bool) -> InTruce:
    """Score an item with no truce word, in a region whose truce is in force (or just ended)."""
    if not sents:
        return InTruce(0.0, 0, ())
    head = sents[0] if has_title else None
    lede = sents[1 if has_title else 0] if len(sents) > (1 if has_title else 0) else None
    on: dict[str, int] = {}
    if head is not None and head.get("hostile"):
        on["head_hostile"] = 0
    if lede is not None and lede.get("hostile"):
        on["lede_hostile"] = 1 if has_title else 0
    if not on:
        return InTruce(0.0, 0, ())
    where = min(on.values())
    chosen = [sents[i] for i in sorted(set(on.values()))]
    if head_region:
        on["head_region"] = where
    for cls in ("resume", "accuse", "continuing"):
        if any(_hostile_with(s, cls) for s in chosen):
            on[cls] = where
    if any(s.get("hypo") for s in chosen):
        on["hypo"] = where
    if all(
        all(left_within(s.get("after"), h, NEAR_AFTER) for h in s.get("hostile"))
        for s in chosen
    ):
        on["aftermath"] = where
    if head is not None and head.get("background"):
        on["background"] = 0
    if head is not None and head.get("liveblog"):
        on["liveblog"] = 0
    if ended and "resume" not in on:
        # After the end, fighting is only news about the truce when it is its breakdown.
        return InTruce(0.0, where, tuple(on))
    logit = BIAS + sum(WEIGHTS[f] for f in on)
    return InTruce(1.0 / (1.0 + math.exp(-logit)), where, tuple(on))
