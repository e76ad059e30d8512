"""Rule features of one item: which rule families fire, and in which sentence.

Every feature is a language-independent conjunction of word classes found close together
in one sentence (title = sentence 0), so the vocabulary lives in the lexicons and the
logic lives here once for every language.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from workers.classifier.lexicon import Lexicon
from workers.classifier.spans import (
    Span,
    between,
    gap,
    left_within,
    near,
    right_within,
    spans,
    talks_subject,
)
from workers.classifier.text import fold, split_sentences

# Order matters: it is the column order of the fitted model's weights.
FEATURES: tuple[str, ...] = (
    "truce",  # a truce term (not a false friend) somewhere in the item
    "truce_title",  # ... in the headline
    "truce_lede",  # ... in the first lede sentence
    "truce_many",  # ... in two or more sentences
    "false_friend",  # a truce word only in an unrelated sense (Armistice Day, trade truce)
    "breach_any",  # any breach family below fired (one shared weight, so rare families count)
    "breach_many",  # two or more distinct breach families fired
    "violate",  # "violated / breached / broke the truce" (not hypothetical)
    "accused",  # ... attributed: accuses / blames / denies
    "blame_truce",  # accusation / denial next to a truce word, hostilities in the item
    "violate_hypo",  # "will respond to any violation", "if the truce is broken"
    "count",  # monitors' counts of violations
    "despite",  # hostilities "despite" a truce
    "collapse",  # the truce collapsed / failed / broke down
    "collapse_hostile",  # ... and hostilities are reported in the item
    "collapse_hypo",  # "warns the truce could collapse"
    "resume",  # fighting resumed / renewed strikes
    "resume_end",  # ... after the truce ended or collapsed
    "soon_after",  # hostilities minutes / hours after a truce began
    "continuing",  # fighting continues / rages (in an item with a truce)
    "continuing_agreed",  # ... while a truce is agreed, extended, holding or ending
    "during",  # hostilities during / amid a truce
    "strain",  # hostilities testing / threatening a fragile truce
    "ended",  # the truce ended / expired
    "pending",  # the truce has not started yet ("before Friday", "due to take effect")
    "hostile_truce",  # hostilities in a sentence with a truce term
    "hostile",  # hostilities anywhere in the item
    "call",  # calls, talks, proposals, votes, protests about a truce
    "agree",  # agreed, signed, announced, extended
    "hold",  # holding, observed, calm
    "hypo",  # modality / condition next to a truce term
    "negated",  # "no ceasefire"
    "background",  # historical framing
    "liveblog",  # live blog / round-up headline
    "passing",  # truce only deep in the lede, not in headline or first sentence
    "region",  # a known conflict region or party is named
    "unanchored",  # a truce word with no region and no hostilities: likely another sense
)

# Feature -> rule family reported as the explanation.
RULE_OF: dict[str, str] = {
    "violate": "breach",
    "accused": "accusation",
    "count": "monitor_count",
    "despite": "despite_truce",
    "collapse": "collapse",
    "collapse_hostile": "collapse_renewed_fighting",
    "resume": "renewed_fighting",
    "resume_end": "renewed_fighting_after_truce",
    "soon_after": "hostilities_after_start",
    "during": "hostilities_during_truce",
    "strain": "truce_under_fire",
    "continuing_agreed": "fighting_continues_under_truce",
    "truce": "truce_term",
    "call": "call_talks_vote_protest",
    "agree": "agreement",
    "hold": "truce_holding",
    "ended": "truce_ended",
    "pending": "not_yet_in_force",
    "violate_hypo": "hypothetical_breach",
    "collapse_hypo": "hypothetical_collapse",
    "hypo": "conditional",
    "passing": "passing_mention",
    "liveblog": "live_blog",
    "truce_title": "truce_in_headline",
    "unanchored": "no_conflict_context",
}

NEAR_VIOLATE = 60
NEAR_DESPITE = 60
BREACH: tuple[str, ...] = (
    "violate",
    "collapse",
    "count",
    "despite",
    "collapse_hostile",
    "resume",
    "resume_end",
    "soon_after",
    "during",
    "strain",
    "continuing_agreed",
)
NEAR = 40
NEAR_TIGHT = 30


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
            truce = self._hits["truce"]
            if cls == "hostile" and hits and truce:
                # "pause in fighting", "прекращение огня": the hostility word is the truce's.
                hits = [h for h in hits if not any(gap(h, t) == 0 for t in truce)]
            self._hits[cls] = hits
        return hits


@dataclass(slots=True)
class Extraction:
    """Feature values of an item and the sentence where each feature first fired."""

    x: dict[str, float]
    where: dict[str, int]
    sentences: list[Sentence]

    def sentence_of(self, feature: str) -> str:
        """Original text of the sentence where ``feature`` fired (the headline if none)."""
        idx = self.where.get(feature, 0)
        return self.sentences[idx].text if self.sentences else ""


class FeatureExtractor:
    """Computes FEATURES for one language's lexicon."""

    def __init__(self, lexicon: Lexicon) -> None:
        """Bind the compiled word classes of ``lexicon``."""
        self.lexicon = lexicon
        self._p = lexicon.patterns
        self._truce = lexicon.patterns["truce"]

    def has_truce_word(self, low: str) -> bool:
        """Cheap prefilter: True when the folded text contains any truce word at all."""
        return self._truce.search(low) is not None

    def _sentence(self, text: str) -> Sentence:
        return Sentence(text, self._p)

    def extract(self, title: str, text: str, *, has_region: bool) -> Extraction:
        """Split, tag and compute every feature of one headline + lede."""
        sents = [self._sentence(title)] if title.strip() else []
        sents += [self._sentence(s) for s in split_sentences(text)]
        x = dict.fromkeys(FEATURES, 0.0)
        where: dict[str, int] = {}

        def fire(name: str, idx: int) -> None:
            x[name] = 1.0
            where.setdefault(name, idx)

        truce_idx = [i for i, s in enumerate(sents) if s.get("truce")]
        has_title = bool(title.strip())
        if not truce_idx:
            if any(s.get("false_friend") for s in sents):
                fire("false_friend", next(i for i, s in enumerate(sents) if s.get("false_friend")))
            return Extraction(x, where, sents)

        fire("truce", truce_idx[0])
        if has_title and truce_idx[0] == 0:
            fire("truce_title", 0)
        lede0 = 1 if has_title else 0
        if lede0 in truce_idx:
            fire("truce_lede", lede0)
        if len(truce_idx) >= 2:
            fire("truce_many", truce_idx[1])
        if truce_idx[0] > lede0:
            fire("passing", truce_idx[0])
        if has_title and sents[0].get("liveblog"):
            fire("liveblog", 0)
        if has_region:
            x["region"] = 1.0

        for i, s in enumerate(sents):
            self._sentence_rules(i, s, fire)

        if x["collapse"] and (x["hostile"] or x["resume"]):
            fire("collapse_hostile", where["collapse"])
        if x["resume"] and (x["ended"] or x["collapse"]):
            fire("resume_end", where["resume"])
        if x["blame_truce"] and not x["hostile"]:
            x["blame_truce"] = 0.0
        military = x["hostile"] or x["violate"] or x["violate_hypo"] or x["count"]
        if not x["region"] and not military:
            fire("unanchored", truce_idx[0])
        if x["pending"]:
            # The truce has not started yet: fighting "before" it is not a breach (tie-break).
            for f in ("resume", "continuing", "during", "despite"):
                x[f] = 0.0
        if x["strain"] and not x["hostile"]:
            x["strain"] = 0.0
        # Fighting that goes on while a truce is agreed or running (not merely called for).
        agreed = x["agree"] and not x["negated"]
        if x["continuing"] and (agreed or x["ended"] or x["hold"] or x["strain"] or x["despite"]):
            fire("continuing_agreed", where["continuing"])
        fired = [f for f in BREACH if x[f]]
        if fired:
            fire("breach_any", min(where[f] for f in fired))
        if len(fired) >= 2:
            fire("breach_many", where["breach_any"])
        return Extraction(x, where, sents)

    def _sentence_rules(self, i: int, s: Sentence, fire: Callable[[str, int], None]) -> None:
        # Word classes are fetched lazily (s.get), in the order the rules need them.
        truce = s.get("truce")
        hostile = s.get("hostile")
        if hostile:
            fire("hostile", i)
            # Renewed hostilities need no truce word in the same sentence ("fighting resumed").
            for r, h in near(s.get("resume"), hostile, NEAR_TIGHT):
                if not left_within(s.get("hypo"), min(r, h), 25):
                    fire("resume", i)
                    break
            for c, h in near(s.get("continuing"), hostile, 25):
                hypo = s.get("hypo")
                if not left_within(hypo, min(c, h), 15) and not between(hypo, c, h):
                    fire("continuing", i)
                    break
        violate = s.get("violate")
        ref: list[Span] = s.get("truce_ref") if violate or truce else []
        # A breach may refer to the truce anaphorically ("violating the terms of the agreement").
        for v, t in near(violate, truce + ref, NEAR_VIOLATE):
            if between(s.get("call"), v, t):
                continue
            hypo = s.get("hypo")
            if left_within(hypo, v, 30) or (left_within(hypo, t, 12) and t[1] <= v[0]):
                fire("violate_hypo", i)
                continue
            fire("violate", i)
            if s.get("accuse"):
                fire("accused", i)
            break
        if violate and s.get("count") and (truce or ref or violate):
            fire("count", i)
        if not truce:
            return
        if hostile:
            fire("hostile_truce", i)
        hypo = s.get("hypo")
        call = s.get("call")
        talks = s.get("talks")
        pending = s.get("pending")
        for d, t in near(s.get("despite"), truce, NEAR_DESPITE):
            if not hostile:
                break
            if talks_subject(talks, t, s.low) or near(pending, [t], NEAR_VIOLATE):
                continue
            if d[1] <= t[0]:
                # "fighting despite the truce" (not "despite calls for a truce")
                if between(talks, d, t) or right_within(call, t, 12):
                    continue
            elif not right_within(hostile, d, 40):
                # "complying with the truce, despite reports of fighting"
                continue
            fire("despite", i)
            break
        if near(s.get("accuse"), truce, NEAR_VIOLATE):
            fire("blame_truce", i)
        for c, t in near(s.get("collapse"), truce + ref, NEAR):
            if between(talks, c, t) or talks_subject(talks, t, s.low):
                continue
            if any(0 <= z[0] - t[1] <= 3 and not (c[0] <= z[0] < c[1]) for z in talks):
                continue  # "ceasefire talks / bid failed" is about the talks
            if right_within(talks, c, 3):
                continue  # "after failed votes / talks"
            if left_within(hypo, c, 20):
                fire("collapse_hypo", i)
                continue
            fire("collapse", i)
            break
        if near(s.get("ended"), truce, 25):
            fire("ended", i)
        if near(pending, truce, NEAR_VIOLATE):
            fire("pending", i)
        if hostile:
            # "rockets fired minutes after the truce began": the hostility sits right before the
            # time phrase, or after the truce word ("... took effect, sirens sounded").
            for a in s.get("soon_after"):
                t_after = [t for t in truce if a[1] <= t[0] and t[0] - a[1] <= 60]
                if t_after and (
                    left_within(hostile, a, 40)
                    or any(right_within(hostile, t, 60) for t in t_after)
                ):
                    fire("soon_after", i)
                    break
            for _, t in near(s.get("during"), truce, NEAR_VIOLATE):
                if not left_within(call, t, 25):
                    fire("during", i)
                    break
        # Strain ("shaky", "tested") needs hostilities somewhere in the item (checked at the end).
        for st, t in near(s.get("strain"), truce, NEAR_VIOLATE):
            if not left_within(hypo, st, 20) and not talks_subject(talks, t, s.low):
                fire("strain", i)
                break
        if near(call, truce, NEAR_TIGHT):
            fire("call", i)
        if near(s.get("agree"), truce, NEAR_TIGHT):
            fire("agree", i)
        if near(s.get("hold"), truce, NEAR_TIGHT):
            fire("hold", i)
        if near(hypo, truce, NEAR_TIGHT):
            fire("hypo", i)
        if any(left_within(s.get("negation"), t, 8) for t in truce):
            fire("negated", i)
        if near(s.get("background"), truce, NEAR):
            fire("background", i)
