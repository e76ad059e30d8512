"""The classifier: language -> rule features -> calibrated label, with evidence and regions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from core.config_files import default_config_dir
from core.models import Label
from workers.classifier import in_truce
from workers.classifier.features import BREACH, RULE_OF, Extraction, FeatureExtractor
from workers.classifier.gazetteer import Gazetteer, Tags
from workers.classifier.in_truce import TruceWindow
from workers.classifier.langdetect import LanguageDetector
from workers.classifier.language_model import load_model
from workers.classifier.language_profiles import LanguageProfile, profiles
from workers.classifier.lexicon import load_lexicons
from workers.classifier.model import LABELS, Scorer
from workers.classifier.ngrams import ngram_vector
from workers.classifier.text import fold

PARAMS_FILE = "classifier_params.yaml"
_EVIDENCE_MAX = 400
# Context features that shift probabilities but are not, on their own, why an item got a label.
# What a ceasefire item is about, preferred over the bare presence of a truce word.
_CEASEFIRE_REASONS = frozenset(
    {"call", "agree", "hold", "ended", "pending", "violate_hypo", "collapse_hypo", "hypo"}
)
# breach_any / breach_many carry the shared weight; the specific breach family is the reason.
_NOT_A_REASON = frozenset(
    {"region", "truce_lede", "truce_many", "hostile", "breach_any", "breach_many"}
)


@dataclass(frozen=True, slots=True)
class Result:
    """One classification: label, calibrated score, and why."""

    label: Label
    score: float  # calibrated probability of ``label``
    p_violation: float
    evidence: str  # the deciding sentence (or the headline)
    rule: str  # rule / feature family that decided
    regions: tuple[str, ...]
    parties: tuple[str, ...]
    lang: str
    reason: str = ""
    alert_threshold: float = 0.5  # readers' default alert threshold of the model that decided
    evidence_from: str = "headline"  # "headline" when the headline alone decides, else "text"
    # The region whose truce in force made this item (with no truce word) a candidate.
    truce_region: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples as lists)."""
        d = asdict(self)
        d["regions"] = list(self.regions)
        d["parties"] = list(self.parties)
        return d


def normalise_lang(lang: str | None) -> str:
    """'en-US' / 'EN_gb' / ' pl ' -> 'en' / 'en' / 'pl'; None or '' -> ''."""
    if not lang:
        return ""
    return lang.strip().lower().replace("_", "-").split("-")[0]


class Classifier:
    """Rule/feature classifier with a fitted logistic calibration, one per config dir."""

    def __init__(
        self,
        extractors: dict[str, FeatureExtractor],
        gazetteer: Gazetteer,
        scorer: Scorer,
        languages: list[LanguageProfile] | None = None,
    ):
        """Build from compiled parts (see ``from_config``)."""
        self.extractors = extractors
        self.lexicons = {k: e.lexicon for k, e in extractors.items()}
        self._profiles = languages or profiles(self.lexicons, None)
        self._vocab = {k: lex.patterns["truce"] for k, lex in self.lexicons.items()}
        self.gazetteer = gazetteer
        self.scorer = scorer
        # Built on first use, so the fastText model loads once per classifier, and only when
        # an item needs it (a Classifier made for fitting or tests may never detect).
        self._detector: LanguageDetector | None = None
        # The fast path (no truce word at all) always has the all-zero feature vector.
        self._no_truce = scorer.probabilities({})

    @classmethod
    def from_config(
        cls, config_dir: Path | None = None, *, scorer: Scorer | None = None
    ) -> Classifier:
        """Load lexicons/, regions.yaml and classifier_params.yaml from ``config_dir``."""
        config_dir = config_dir or default_config_dir()
        lexicons = load_lexicons(config_dir / "lexicons")
        gazetteer = Gazetteer.from_file(config_dir / "regions.yaml")
        if scorer is None:
            scorer = Scorer.from_file(config_dir / PARAMS_FILE)
        extractors = {lang: FeatureExtractor(lex) for lang, lex in lexicons.items()}
        langs = profiles(lexicons, config_dir / "lexicons" / "_unsupported.yaml")
        return cls(extractors, gazetteer, scorer, langs)

    @property
    def languages(self) -> tuple[str, ...]:
        """Supported language codes."""
        return tuple(sorted(self.extractors))

    def resolve_lang(self, title: str, text: str, lang: str | None) -> tuple[str, str]:
        """(language code, reason): a reason when the language is unsupported or unknown.

        The declared ``lang`` (the feed's) is a prior, not an override: it is kept when the
        text is plausibly in it, and the text's script or the detector's model overrule it
        otherwise (Armenian letters declared "ru", Azerbaijani declared "tr").
        """
        if self._detector is None:
            self._detector = LanguageDetector(self._profiles, self._vocab, load_model())
        found = self._detector.detect(f"{title}\n{text}", normalise_lang(lang))
        if found is None:
            return "", "unsupported language: could not identify the language"
        if found not in self.extractors:
            return found, f"unsupported language: {found}"
        return found, ""

    def featurize(
        self, title: str, text: str, lang: str | None = None
    ) -> tuple[str, str, Extraction | None, Tags]:
        """(lang, reason, features or None when unsupported/no truce word, region tags)."""
        code, reason = self.resolve_lang(title, text, lang)
        if reason:
            return code, reason, None, Tags((), ())
        low = fold(f"{title}\n{text}")
        extractor = self.extractors[code]
        if not extractor.has_truce_word(low):
            # Fast path for the vast majority of news: no truce word, nothing to tag. Region
            # tagging is one big regex and would cost more than everything else together.
            return code, "", None, Tags((), ())
        tags = self.gazetteer.tag(low, folded=True)
        ext = extractor.extract(title, text, has_region=bool(tags.regions))
        ext.grams = ngram_vector(low)  # from the same folded text, for fitting and scoring alike
        return code, "", ext, tags

    def classify(
        self,
        title: str,
        text: str,
        lang: str | None = None,
        *,
        truces: Mapping[str, TruceWindow] | None = None,
    ) -> Result:
        """Label one headline + lede as violation / ceasefire / none, with evidence.

        ``truces`` are the regions where a truce is in force at the item's time: an item with
        no truce word that reports hostilities there is scored as a violation candidate.
        """
        code, reason, ext, tags = self.featurize(title or "", text or "", lang)
        if reason:
            return Result(
                "none", 0.0, 0.0, _clip(title), "unsupported_language", (), (), code, reason
            )
        if ext is None and truces:
            found = self._in_truce(title or "", text or "", code, truces)
            if found is not None:
                return found
        if ext is None:
            probs = self._no_truce
            return Result("none", probs[2], probs[0], _clip(title), "no_truce_term", (), (), code)
        probs = self.scorer.probabilities(ext.x, ext.grams)
        idx = self.scorer.label_index(probs)
        label: Label = LABELS[idx]  # type: ignore[assignment]
        feature = _deciding_feature(self.scorer, ext, idx)
        evidence = ext.sentence_of(feature) if feature else (title or "")
        rule = RULE_OF.get(feature, feature) if feature else "prior"
        from_text = (bool(feature) and ext.where.get(feature, 0) > 0) or not (title or "").strip()
        return Result(
            label,
            probs[idx],
            probs[0],
            _clip(evidence),
            rule,
            tags.regions,
            tags.parties,
            code,
            alert_threshold=self.scorer.alert_threshold,
            evidence_from="text" if from_text else "headline",
        )


    def _in_truce(
        self, title: str, text: str, code: str, truces: Mapping[str, TruceWindow]
    ) -> Result | None:
        """A violation candidate with no truce word, or None.

        The cheap tests come first: most items name none of the regions in force, and most
        of the rest report no hostility. Only then the full region tagging and the score.
        """
        low = fold(f"{title}\n{text}")
        if not self.gazetteer.mentions(low, frozenset(truces)):
            return None
        extractor = self.extractors[code]
        if not extractor.has_class("hostile", low):
            return None
        tags = self.gazetteer.tag(low, folded=True)
        inside = [r for r in tags.regions if r in truces]
        if not inside:
            return None
        region = inside[0]
        sents = extractor.sentences(title, text)
        head_region = bool(title.strip()) and region in self.gazetteer.tag(title).regions
        found = in_truce.score(
            sents,
            has_title=bool(title.strip()),
            head_region=head_region,
            ended=truces[region].ended,
        )
        if found.p < in_truce.THRESHOLD:
            return None
        regions = (region, *(r for r in tags.regions if r != region))
        return Result(
            "violation",
            found.p,
            found.p,
            _clip(sents[found.sentence].text),
            "truce_in_force",
            regions,
            tags.parties,
            code,
            reason=f"no truce word; {'+'.join(found.features)}",
            alert_threshold=in_truce.THRESHOLD,
            evidence_from="headline" if found.sentence == 0 and title.strip() else "text",
            truce_region=region,
        )


def _deciding_feature(scorer: Scorer, ext: Extraction, label_idx: int) -> str:
    """The active feature that pushes hardest toward the chosen label.

    For a violation the reason is always a breach family (an accusation or a monitors' count
    first: the quote that matters to a reader is who accuses whom, or how many breaches).
    """
    contributions = scorer.contributions(ext.x, label_idx)
    if LABELS[label_idx] == "ceasefire":
        for weight, feature in contributions:
            if feature in _CEASEFIRE_REASONS and weight > 0:
                return feature
    if LABELS[label_idx] == "violation":
        for specific in ("accused", "count"):
            if ext.x.get(specific):
                return specific
        for _, feature in contributions:
            if feature in BREACH:
                return feature
    for weight, feature in contributions:
        if weight > 0 and feature not in _NOT_A_REASON:
            return feature
    return ""


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _EVIDENCE_MAX else text[: _EVIDENCE_MAX - 1] + "…"
