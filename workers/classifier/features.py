"""Rule features of one item: which rule families fire, and in which sentence.

Every feature is a language-independent conjunction of word classes found close together
in one sentence (title = sentence 0), so the vocabulary lives in the lexicons and the
logic lives here once for every language.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from workers.classifier.feature_set import BREACH, FEATURES, RULE_OF
from workers.classifier.lexicon import Lexicon
from workers.classifier.sentence import Sentence
from workers.classifier.spans import (
    Span,
    between,
    left_within,
    near,
    right_within,
    span_between,
    talks_subject,
)
from workers.classifier.text import split_sentences

__all__ = ["BREACH", "FEATURES", "RULE_OF", "Extraction", "FeatureExtractor"]

# A comma, semicolon or dash between two words puts them in different clauses.
_CLAUSE = re.compile(r"[,;:]| - ")
NEAR_VIOLATE = 60
NEAR_DESPITE = 60
NEAR = 40
NEAR_TIGHT = 30


def _qualified(s: Sentence, t: Span, classes: tuple[str, ...], window: int) -> bool:
    """True when a word of one of ``classes`` stands within ``window`` chars of truce word ``t``.

    "Called for / pending / conditional / negated" truces are not in force: the rules that read
    hostilities beside a truce as a breach skip them.
    """
    return any(near(s.get(c), [t], window) for c in classes)


def _called(call: list[Span], t: Span, setting: list[Span]) -> bool:
    """True when a call word sits just before the truce word ("demanded a ceasefire").

    Not across a setting word: in "talks amid a shaky truce" the truce is not called for.
    """
    return any(z[1] <= t[0] and t[0] - z[1] <= 25 and not between(setting, z, t) for z in call)


@dataclass(slots=True)
class Extraction:
    """Feature values of an item and the sentence where each feature first fired."""

    x: dict[str, float]
    where: dict[str, int]
    sentences: list[Sentence]
    # Hashed n-grams of the folded headline + lede (set by the classifier, which folds once).
    grams: dict[int, float] = field(default_factory=dict)

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

    def has_class(self, cls: str, low: str) -> bool:
        """Cheap prefilter: True when folded ``low`` has any word of class ``cls``."""
        rx = self._p.get(cls)
        return rx is not None and rx.search(low) is not None

    def sentences(self, title: str, text: str) -> list[Sentence]:
        """The headline (when there is one) and the lede's sentences, ready for the rules."""
        sents = [self._sentence(title)] if title.strip() else []
        return sents + [self._sentence(s) for s in split_sentences(text)]

    def _sentence(self, text: str) -> Sentence:
        return Sentence(text, self._p)

    def extract(self, title: str, text: str, *, has_region: bool) -> Extraction:
        """Split, tag and compute every feature of one headline + lede."""
        sents = self.sentences(title, text)
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
        if not x["violate"]:
            self._anaphoric_breach(sents, truce_idx, fire)

        if x["collapse"] and (x["hostile"] or x["resume"]):
            fire("collapse_hostile", where["collapse"])
        if x["resume"] and (x["ended"] or x["collapse"]):
            fire("resume_end", where["resume"])
        if x["blame_truce"] and not x["hostile"]:
            x["blame_truce"] = 0.0
        if x["ended"] and x["negated"] and not x["hold"]:
            # "no ceasefire agreed before the end of Eid": nothing was in force to end.
            x["ended"] = 0.0
        military = x["hostile"] or x["violate"] or x["violate_hypo"] or x["count"]
        # A truce between armed actors ("separatists declared a truce") is military even where
        # the gazetteer knows no place.
        if not x["region"] and not military and not any(s.get("armed") for s in sents):
            fire("unanchored", truce_idx[0])
        if x["pending"]:
            # The truce has not started yet: fighting "before" it is not a breach (tie-break).
            for f in ("resume", "continuing", "during", "despite"):
                x[f] = 0.0
        if x["strain"] and not x["hostile"]:
            x["strain"] = 0.0
        if x["hostile"] and not x["pending"]:
            self._extended(sents, fire)
            self._adjacent(sents, fire)
        # Fighting that goes on while a truce is agreed or running (not merely called for).
        agreed = x["agree"] and not x["negated"]
        in_force = agreed or x["ended"] or x["hold"] or x["strain"] or x["despite"]
        if x["continuing"] and in_force:
            fire("continuing_agreed", where["continuing"])
        fired = [f for f in BREACH if x[f]]
        if fired:
            fire("breach_any", min(where[f] for f in fired))
        if len(fired) >= 2:
            fire("breach_many", where["breach_any"])
        return Extraction(x, where, sents)

    def _anaphoric_breach(
        self, sents: list[Sentence], truce_idx: list[int], fire: Callable[[str, int], None]
    ) -> None:
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

    def _extended(self, sents: list[Sentence], fire: Callable[[str, int], None]) -> None:
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
                if _qualified(s, t, ("call", "hypo", "talks"), NEAR_TIGHT):
                    continue
                if talks_subject(s.get("talks"), t, s.low, setting):
                    continue
                fire("extend_hostile", i)
                return

    def _adjacent(self, sents: list[Sentence], fire: Callable[[str, int], None]) -> None:
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
                _qualified(s, t, ("talks", "pending", "hypo", "negation"), 25) for t in truce
            ):
                continue
            # The attack may be the headline with the lede's first sentence between them.
            for i in (j - 1, j + 1, j - 2):
                other = sents[i] if 0 <= i < len(sents) else None
                if other is not None and other.get("hostile") and not other.get("truce"):
                    fire("adjacent_in_force", i)
                    return

    def _sequence(self, i: int, s: Sentence, fire: Callable[[str, int], None]) -> None:
        """Which came first: "attacks since the TTP ended its ceasefire" vs "truce after clashes".

        Hostilities followed by "after / since + truce" happened once the truce had started or
        ended; a truce followed by "after + hostilities" came after the fighting (the
        guideline's tie-break makes that a ceasefire item). In head-final languages (Turkish
        "çatışmaların ardından ateşkes") "after" follows its object, so the sides swap.
        """
        after = s.get("after")
        if not after:
            return
        truce, hostile = s.get("truce"), s.get("hostile")
        call = s.get("call") + s.get("talks")
        # (what "after" governs, what happened then): the object sits right next to "after"
        # on its own side; the event that followed sits on the other side, close by (further
        # back it belongs to another clause: "seized in the raids, were released hours after").
        # side([a], x, w): x lies within w characters on that side of "after" (left_within:
        # "after" ends before x starts, i.e. x is to its right).
        obj_side, event_side = (right_within, left_within) if self.lexicon.head_final else (
            left_within,
            right_within,
        )
        for a in after:
            objects = [t for t in truce if obj_side([a], t, 40)]
            # "strikes after a failed UN ceasefire bid": the truce word names a call, not a truce.
            called = any(right_within(call, t, 4) or between(call, a, t) for t in objects)
            # The event: a hostility close by, or further but in the same clause ("missiles and
            # destruction quickly returned after the ceasefire"; not "seized in the raids,
            # were released hours after the truce began").
            events = [
                h
                for h in hostile
                if event_side([a], h, 30)
                or (event_side([a], h, 60) and not _CLAUSE.search(s.low, *span_between(h, a)))
            ]
            if objects and not called and events:
                fire("after_truce", i)
                return
            # The fighting is what "after" governs: right next to it ("after two days of
            # fighting"), not a later clause ("a quarter hour after the deadline, sirens").
            if any(obj_side([a], h, 15) for h in hostile) and any(
                event_side([a], t, 60) for t in truce
            ):
                fire("truce_after_fighting", i)
                return

    def _juxtaposed(self, i: int, s: Sentence, fire: Callable[[str, int], None]) -> None:
        """Hostilities beside a truce that is not merely called for, pending or conditional."""
        setting = s.get("during") + s.get("despite")
        for t in s.get("truce"):
            if _qualified(s, t, ("call", "talks", "pending", "hypo", "negation"), 25):
                continue
            if talks_subject(s.get("talks"), t, s.low, setting):
                continue
            fire("juxtaposed", i)
            return

    def _contrast(self, s: Sentence) -> bool:
        """A truce in force, then "but" / "yet", then hostilities: a concessive like "despite".

        "A 36-hour truce was supposed to start on Friday, but artillery pounded the east."
        """
        contrast = s.get("contrast")
        if not contrast:
            return False
        truce = s.get("truce")
        in_force = s.get("started") + s.get("agree") + s.get("hold")
        blockers = s.get("call") + s.get("hypo") + s.get("negation")
        for c in contrast:
            if not right_within(s.get("hostile"), c, 40):
                continue
            for t in truce:
                if not (t[1] <= c[0] and c[0] - t[1] <= 120):
                    continue
                if left_within(blockers, t, 25) or talks_subject(s.get("talks"), t, s.low):
                    continue
                if near(in_force, [t], NEAR) and not near(s.get("pending"), [t], NEAR):
                    return True
        return False

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
            if (
                left_within(hypo, v, 30)
                or (left_within(hypo, t, 12) and t[1] <= v[0])
                or right_within(s.get("hypo_after"), v, 25)
            ):
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
            self._juxtaposed(i, s, fire)
            self._sequence(i, s, fire)
            if near(s.get("expiring"), truce, NEAR_TIGHT):
                fire("in_force_hostile", i)
        hypo = s.get("hypo")
        call = s.get("call")
        talks = s.get("talks")
        pending = s.get("pending")
        # "talks amid / despite a shaky truce": the truce is the setting, not the talks' object.
        setting = s.get("during") + s.get("despite")
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
        else:
            if hostile and self._contrast(s):
                fire("despite", i)
        for a, t in near(s.get("accuse"), truce, NEAR_VIOLATE):
            # "accused Biden of genocide and demanded a ceasefire": the accusation is not
            # about a breach.
            if not between(call, a, t) and not left_within(call, t, 12):
                fire("blame_truce", i)
                break
        for c, t in near(s.get("collapse"), truce + ref, NEAR):
            if between(talks, c, t) or talks_subject(talks, t, s.low, setting):
                continue
            if any(0 <= z[0] - t[1] <= 3 and not (c[0] <= z[0] < c[1]) for z in talks):
                continue  # "ceasefire talks / bid failed" is about the talks
            if right_within(talks, c, 3):
                continue  # "after failed votes / talks"
            if left_within(hypo, c, 20) or right_within(s.get("hypo_after"), c, 25):
                fire("collapse_hypo", i)
                continue
            fire("collapse", i)
            break
        for e, t in near(s.get("ended"), truce, 25):
            # "a ceasefire before the end of Eid": the end is another thing's.
            if not between(pending, e, t):
                fire("ended", i)
                break
        if near(pending, truce, NEAR_VIOLATE):
            fire("pending", i)
        if hostile:
            # "rockets fired minutes after the truce began": the hostility sits right before the
            # time phrase, or after the truce word ("... took effect, sirens sounded").
            for a in s.get("soon_after"):
                t_after = [t for t in truce if a[1] <= t[0] and t[0] - a[1] <= 60]
                if t_after and (
                    left_within(hostile, a, 30)
                    or any(right_within(hostile, t, 60) for t in t_after)
                ):
                    fire("soon_after", i)
                    break
            agree = s.get("agree")
            for d, t in near(s.get("during"), truce, NEAR_VIOLATE):
                # "while talks went on over extending the truce" is about the talks, and so is
                # "amid ceasefire talks / calls"; "announces a truce amid fighting" is a truce
                # agreed during the war (the guideline's tie-break: a ceasefire item).
                if left_within(call, t, 25) or talks_subject(talks, t, s.low, setting):
                    continue
                if right_within(talks + call, t, 4):
                    continue
                if d[0] >= t[1] and near(agree, [t], 25):
                    continue
                fire("during", i)
                break
        # Strain ("shaky", "tested") needs hostilities somewhere in the item (checked at the end).
        for st, t in near(s.get("strain"), truce, NEAR_VIOLATE):
            if left_within(hypo, st, 20) or _called(call, t, setting):
                continue  # "warns ... could threaten", "demanded a ceasefire as she threatened"
            if not talks_subject(talks, t, s.low, setting):
                fire("strain", i)
                break
        if near(call, truce, NEAR_TIGHT):
            fire("call", i)
        if near(s.get("agree"), truce, NEAR_TIGHT):
            fire("agree", i)
        if s.get("no_breach"):
            fire("hold", i)  # "no violations of the truce were recorded"
        # "would respect the truce", "vowed to observe it": a promise, not a truce holding.
        if any(not left_within(hypo, h, 12) for h, _ in near(s.get("hold"), truce, NEAR_TIGHT)):
            fire("hold", i)
        if near(hypo, truce, NEAR_TIGHT):
            fire("hypo", i)
        if any(left_within(s.get("negation"), t, 8) for t in truce):
            fire("negated", i)
        if near(s.get("background"), truce, NEAR):
            fire("background", i)
