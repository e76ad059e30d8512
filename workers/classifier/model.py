"""The calibrated scorer: a small multinomial logistic model over rule features."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.config_files import ConfigError, load_yaml
from workers.classifier.features import FEATURES
from workers.classifier.ngrams import NgramWeights

LABELS: tuple[str, ...] = ("violation", "ceasefire", "none")


class ModelParams(BaseModel):
    """Fitted parameters as stored in config/classifier_params.yaml (no training data)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    labels: tuple[str, ...] = LABELS
    features: tuple[str, ...]
    bias: dict[str, float]
    weights: dict[str, dict[str, float]]  # label -> feature -> weight
    fitted_on: str = ""
    # Binary file beside this one with the hashed n-gram weights (see ngrams.py); "" = none.
    ngram_file: str = ""
    # p(violation) from which an item is labelled a violation: the best held-back F1.
    threshold: float = Field(default=0.5, gt=0.0, le=1.0)
    # Readers' default alert threshold: held-back precision >= 0.95 at the highest recall.
    alert_threshold: float = Field(default=0.5, gt=0.0, le=1.0)
    l2: float = Field(default=0.0, ge=0.0)
    cv: dict[str, Any] = {}

    @model_validator(mode="after")
    def _consistent(self) -> ModelParams:
        if tuple(self.labels) != LABELS:
            raise ValueError(f"labels must be {list(LABELS)}")
        for label in LABELS:
            if label not in self.bias or label not in self.weights:
                raise ValueError(f"missing bias/weights for label {label!r}")
        return self


def label_index(probs: list[float], threshold: float) -> int:
    """Violation when its probability reaches ``threshold``, else the likelier other label."""
    if probs[0] >= threshold:
        return 0
    return 1 if probs[1] >= probs[2] else 2


@dataclass(frozen=True, slots=True)
class Scorer:
    """Dense weights in FEATURES order plus optional n-gram weights; unknown features weigh 0."""

    bias: tuple[float, float, float]
    weights: tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]
    ngrams: NgramWeights | None = None
    # p(violation) at or above which an item is labelled a violation (chosen when fitting).
    threshold: float = 0.5
    # The score from which readers who never set /threshold are alerted (chosen when fitting).
    alert_threshold: float = 0.5

    @classmethod
    def from_params(cls, params: ModelParams, ngrams: NgramWeights | None = None) -> Scorer:
        """Align stored weights with the code's FEATURES (a renamed feature simply weighs 0)."""
        rows = tuple(tuple(params.weights[lab].get(f, 0.0) for f in FEATURES) for lab in LABELS)
        bias = tuple(params.bias[lab] for lab in LABELS)
        return cls(
            bias=(bias[0], bias[1], bias[2]),
            weights=(rows[0], rows[1], rows[2]),
            ngrams=ngrams,
            threshold=params.threshold,
            alert_threshold=params.alert_threshold,
        )

    @classmethod
    def from_file(cls, path: Path) -> Scorer:
        """Load fitted parameters from YAML, and the n-gram weights named in it if any."""
        params = load_yaml(path, ModelParams)
        ngrams = None
        if params.ngram_file:
            ngram_path = path.parent / params.ngram_file
            try:
                ngrams = NgramWeights.load(ngram_path)
            except (OSError, ValueError) as exc:
                raise ConfigError(f"{ngram_path}: cannot load n-gram weights: {exc}") from None
        return cls.from_params(params, ngrams)

    def logits(self, x: dict[str, float], grams: dict[int, float] | None = None) -> list[float]:
        """Per-label logits for a feature dict (and the item's n-gram vector, if any)."""
        active = [(i, v) for i, f in enumerate(FEATURES) if (v := x.get(f, 0.0))]
        z = [
            b + sum(w[i] * v for i, v in active)
            for b, w in zip(self.bias, self.weights, strict=True)
        ]
        if grams and self.ngrams is not None:
            z = [a + b for a, b in zip(z, self.ngrams.logits(grams), strict=True)]
        return z

    def probabilities(
        self, x: dict[str, float], grams: dict[int, float] | None = None
    ) -> list[float]:
        """Softmax over logits, in LABELS order."""
        z = self.logits(x, grams)
        top = max(z)
        e = [math.exp(v - top) for v in z]
        s = sum(e)
        return [v / s for v in e]

    def label_index(self, probs: list[float]) -> int:
        """Index of the label for ``probs`` at this model's threshold (see ``label_index``)."""
        return label_index(probs, self.threshold)

    def contributions(self, x: dict[str, float], label_idx: int) -> list[tuple[float, str]]:
        """How much each active feature pushes ``label`` above the mean of the others."""
        out = []
        for i, f in enumerate(FEATURES):
            v = x.get(f, 0.0)
            if not v:
                continue
            own = self.weights[label_idx][i]
            others = [self.weights[j][i] for j in range(3) if j != label_idx]
            out.append(((own - sum(others) / 2) * v, f))
        return sorted(out, reverse=True)


def write_params(path: Path, params: ModelParams) -> None:
    """Write fitted parameters as YAML (rounded: a readable, diff-friendly file)."""
    data = params.model_dump()
    data["bias"] = {k: round(v, 4) for k, v in params.bias.items()}
    data["weights"] = {
        lab: {f: round(w, 4) for f, w in row.items()} for lab, row in params.weights.items()
    }
    data["labels"] = list(params.labels)
    data["features"] = list(params.features)
    header = "# Fitted by `python -m workers.classifier.fit`; parameters only, no training data.\n"
    path.write_text(header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
