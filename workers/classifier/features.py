"""Rule features of one item: which rule families fire, and in which sentence.

Every feature is a language-independent conjunction of word classes found close together
(title = sentence 0), so the vocabulary lives in the lexicons and the logic once for every
language: the rules within one sentence in sentence_rules.py, those across sentences in
item_rules.py, and here how an item's features combine and override each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from workers.classifier.feature_set import BREACH, FEATURES, RULE_OF
from workers.classifier.item_rules import adjacent, anaphoric_breach, extended
from workers.classifier.lexicon import Lexicon
from workers.classifier.sentence import Sentence
from workers.classifier.sentence_rules import sentence_rules
from workers.classifier.text import split_sentences

__all__ = ["BREACH", "FEATURES", "RULE_OF", "Extraction", "FeatureExtractor"]


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

        head_final = self.lexicon.head_final
        for i, s in enumerate(sents):
            sentence_rules(i, s, fire, head_final=head_final)
        if not x["violate"]:
            anaphoric_breach(sents, truce_idx, fire)

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
            extended(sents, fire)
            adjacent(sents, fire)
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
