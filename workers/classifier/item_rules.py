"""Rules read across an item's sentences: a breach, an extension or an attack beside a truce.

A truce in one sentence and the fighting in the next (or anywhere in the item, for an
extension) still make a breach; the features fire with the sentence index where they held.
"""

from __future__ import annotations

from workers.classifier.sentence import Sentence
from workers.classifier.sentence_rules import NEAR, NEAR_TIGHT, NEAR_VIOLATE, Fire, qualified
from workers.classifier.spans import left_within, near, right_within, talks_subject


def anaphoric_breach(sents: list[Sentence], truce_idx: list[int], fire: Fire) -> None:
    """A breach with hostilities right after a truce sentence refers to that truce.

    "The truce ended on Saturday. Kyiv said Russian troops had violated it, continuing to
    shell Bakhmut." (Breaches of "international law" and the like are already dropped by
    the other_norm word class, see sentence.py.)
    """
    for i in truce_idx:
        if i + 1 >= len(sents):
            continue
        s = sents[i + 1]
        violate = s.get("violate")
        if not violate or s.get("truce"):
            continue
        hypo = s.get("hypo")
        for v, _ in near(violate, s.get("hostile"), NEAR_VIOLATE):
            if left_within(hypo, v, 30) or right_within(s.get("hypo_after"), v, 25):
                continue
            fire("violate", i + 1)
            if s.get("accuse"):
                fire("accused", i + 1)
            return


def extended(sents: list[Sentence], fire: Fire) -> None:
    """A truce extended or renewed (not merely called on to be) in an item with fighting.

    An extension means the truce is in force, so the fighting beside it is a breach
    ("agree to extend Sudan truce as guns blaze again").
    """
    for i, s in enumerate(sents):
        truce = s.get("truce")
        if not truce:
            continue
        setting = s.get("during") + s.get("despite")
        for _, t in near(s.get("extend"), truce, NEAR_TIGHT):
            if qualified(s, t, ("call", "hypo", "talks"), NEAR_TIGHT):
                continue
            if talks_subject(s.get("talks"), t, s.low, setting):
                continue
            fire("extend_hostile", i)
            return


def adjacent(sents: list[Sentence], fire: Fire) -> None:
    """An attack in one sentence, a truce in force in the next, with no connective.

    "Shells hit a market in Horlivka, two wounded. The ceasefire took effect on Sunday."
    The attack sentence has no truce word of its own; the truce sentence says the truce
    has taken effect, and does not merely call for, expect or negate it.
    """
    for j, s in enumerate(sents):
        truce = s.get("truce")
        if not truce:
            continue
        # "Took effect / is in force", not "holds": beside a truce said to hold, hostile
        # words are mostly the calm's background ("the first night without shelling").
        if s.get("hold") or s.get("no_breach"):
            continue
        # No "call" here: a truce that took effect may well have been mediated ("the
        # Russian-brokered truce has held since ..."), and a call does not take effect.
        if not near(s.get("started"), truce, NEAR) or any(
            qualified(s, t, ("talks", "pending", "hypo", "negation"), 25) for t in truce
        ):
            continue
        # The attack may be the headline with the lede's first sentence between them.
        for i in (j - 1, j + 1, j - 2):
            other = sents[i] if 0 <= i < len(sents) else None
            if other is not None and other.get("hostile") and not other.get("truce"):
                fire("adjacent_in_force", i)
                return
