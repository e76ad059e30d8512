"""One sentence of an item, tagged with the lexicon's word classes on demand.

Besides plain look-ups it drops the words that do not mean what they seem: a hostility word
that is feared, hoped away or said to have eased, and a breach word whose object is the law
or a border rather than the truce.
"""

from __future__ import annotations

import re

from workers.classifier.spans import Span, gap, left_within, spans
from workers.classifier.text import fold

# A hostility word this close after "fears of" / "could" (unreal) or before "eases" / "is over"
# (abate) is not a reported event.
NEAR_UNREAL = 15
NEAR_ABATE = 25
# A breach word this close to "international law" / "airspace" is about that, unless a truce
# word is closer still.
NEAR_NORM = 25


class Sentence:
    """One sentence: original text, folded text, and word-class spans computed on demand.

    Classes are looked up lazily: most rules only need a few of them, and most sentences
    of an item have no truce word at all.
    """

    __slots__ = ("_hits", "_p", "low", "text")

    def __init__(self, text: str, patterns: dict[str, re.Pattern[str]]) -> None:
        """Fold ``text``, find truce words with false friends ("Armistice Day") masked out."""
        self.text = text
        self.low = fold(text)
        self._p = patterns
        self._hits: dict[str, list[Span]] = {}
        truce = spans(patterns["truce"], self.low)
        ff: list[Span] = []
        if truce:
            ff = spans(patterns.get("false_friend"), self.low)
            if ff:
                chars = list(self.low)
                for a, b in ff:
                    chars[a:b] = " " * (b - a)
                truce = spans(patterns["truce"], "".join(chars))
        self._hits["truce"] = truce
        self._hits["false_friend"] = ff

    def get(self, cls: str) -> list[Span]:
        """Spans of word class ``cls`` (empty when absent)."""
        hits = self._hits.get(cls)
        if hits is None:
            hits = spans(self._p.get(cls), self.low)
            if cls == "hostile" and hits:
                hits = self._real_hostilities(hits)
            elif cls == "violate" and hits:
                hits = self._truce_breaches(hits)
            self._hits[cls] = hits
        return hits

    def _real_hostilities(self, hits: list[Span]) -> list[Span]:
        """Drop hostility words that report no hostilities.

        "pause in fighting" (the truce's own word), "fears of violence", "could attack",
        "hope fighting is over", "fighting eases".
        """
        truce = self._hits["truce"]
        if truce:
            hits = [h for h in hits if not any(gap(h, t) == 0 for t in truce)]
        unreal = spans(self._p.get("unreal"), self.low) if hits else []
        abate = spans(self._p.get("abate"), self.low) if hits else []
        if abate:
            # "shelling has not eased", "ataki nie ustają": a negated easing is no easing.
            negation = spans(self._p.get("negation"), self.low)
            abate = [a for a in abate if not left_within(negation, a, 3)]
        # An easing word ends the nearest hostility before it ("Kämpfe im Gazastreifen ließen
        # nach"), not every one in the sentence ("shelling killed two before fighting stopped").
        eased = set()
        for a in abate:
            before = [h for h in hits if h[1] <= a[0] and a[0] - h[1] <= NEAR_ABATE]
            if before:
                eased.add(max(before))
        return [h for h in hits if h not in eased and not left_within(unreal, h, NEAR_UNREAL)]

    def _truce_breaches(self, hits: list[Span]) -> list[Span]:
        """Drop breach words that report no breach, or whose object is law, not the truce.

        "violations of international law", "human rights violations", "Völkerrecht verletzt":
        the other object sits closer to the breach word than any truce word does.
        """
        absent = spans(self._p.get("no_breach"), self.low)
        if absent:
            # "no ceasefire violations were recorded": the truce is holding.
            hits = [v for v in hits if not any(gap(v, z) == 0 for z in absent)]
        norms = spans(self._p.get("other_norm"), self.low)
        if not norms or not hits:
            return hits
        truce = self._hits["truce"]
        out = []
        for v in hits:
            g_norm = min(gap(v, o) for o in norms)
            g_truce = min((gap(v, t) for t in truce), default=10**6)
            if g_norm > NEAR_NORM or g_truce <= g_norm:
                out.append(v)
        return out
