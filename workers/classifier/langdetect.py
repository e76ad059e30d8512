"""Cheap language identification from script and stopwords (no model, no guessing).

Candidates are the lexicons plus the stopword lists of unsupported languages in
``config/lexicons/_unsupported.yaml``, so Italian is named "it" (unsupported), not read
as Spanish.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from workers.classifier.lexicon import Lexicon, Script
from workers.classifier.text import fold

_WORD = re.compile(r"\w+")
_SAMPLE = 600  # characters looked at: a headline and the start of the lede are plenty
SHORT = 12  # words: below this a headline may have a single telling word or letter
MIN_RATIO = 0.08


@dataclass(frozen=True, slots=True)
class LanguageProfile:
    """What detection knows of one language."""

    lang: str
    script: str
    stopwords: frozenset[str]
    letters: str


class _OtherSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    script: Script
    stopwords: str
    letters: str = ""


class _OthersFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    languages: dict[str, _OtherSpec]


def profiles(lexicons: dict[str, Lexicon], others_file: Path | None) -> list[LanguageProfile]:
    """Profiles of the supported languages, plus unsupported ones from ``others_file``."""
    out = [LanguageProfile(x.lang, x.script, x.stopwords, x.letters) for x in lexicons.values()]
    if others_file is not None and others_file.is_file():
        from core.config_files import read_yaml

        spec = _OthersFile.model_validate({"languages": read_yaml(others_file) or {}})
        out += [
            LanguageProfile(code, o.script, frozenset(fold(o.stopwords).split()), o.letters)
            for code, o in spec.languages.items()
            if code not in lexicons
        ]
    return out


def script_of(text: str) -> str | None:
    """Dominant script of ``text`` among latin / cyrillic / arabic / greek / hebrew."""
    counts = {"latin": 0, "cyrillic": 0, "arabic": 0, "greek": 0, "hebrew": 0, "other": 0}
    for ch in text[:_SAMPLE]:
        if not ch.isalpha():
            continue
        o = ord(ch)
        if o < 0x250:
            counts["latin"] += 1
        elif 0x400 <= o < 0x530:
            counts["cyrillic"] += 1
        elif 0x600 <= o < 0x700 or 0x750 <= o < 0x780 or 0xFB50 <= o < 0xFF00:
            counts["arabic"] += 1
        elif 0x370 <= o < 0x400:
            counts["greek"] += 1
        elif 0x590 <= o < 0x600:
            counts["hebrew"] += 1
        else:
            counts["other"] += 1
    best = max(counts, key=lambda k: counts[k])
    if counts[best] == 0 or best == "other":
        return None
    return best


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


def detect(
    text: str, langs: list[LanguageProfile], vocab: dict[str, re.Pattern[str]] | None = None
) -> str | None:
    """Language code of ``text`` (supported or not), or None when there is too little evidence.

    Evidence: stopword hits, characters typical of a language (capped), and, for supported
    languages, their own truce vocabulary (``vocab``), which settles short Cyrillic headlines.
    """
    script = script_of(text)
    candidates = [p for p in langs if p.script == script] if script else []
    sample = fold(text[:_SAMPLE])
    words = _WORD.findall(sample)
    if not candidates or not words:
        return None
    scored: list[tuple[int, int, int, str]] = []
    for p in candidates:
        hits = sum(1 for w in words if w in p.stopwords)
        letters = min(sum(1 for ch in sample if ch in p.letters), 3) if p.letters else 0
        if vocab and p.lang in vocab and vocab[p.lang].search(sample):
            hits += 2
        scored.append((hits + letters, hits, letters, p.lang))
    scored.sort(reverse=True)
    unique = len(candidates) == 1 and script != "latin"
    return scored[0][3] if _decide(scored, len(words), unique) else None
