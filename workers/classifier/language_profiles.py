"""What language detection knows of each language: its script, stopwords and typical letters.

The supported languages' profiles come from their lexicons; ``config/lexicons/_unsupported.yaml``
adds detection-only profiles, so an unsupported language is named rather than misread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from workers.classifier.lexicon import Lexicon, Script
from workers.classifier.text import fold


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
