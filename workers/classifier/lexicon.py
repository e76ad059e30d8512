"""Per-language vocabularies (config/lexicons/<lang>.yaml) compiled into word-class regexes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.config_files import ConfigError, load_yaml
from core.regexutil import check_patterns, grouped_alternation
from workers.classifier.text import fold

# Word classes the rules understand. ``truce`` is required; the rest default to empty, so a
# new language may start small and still be safe (fewer rules fire, nothing is guessed).
CLASSES: tuple[str, ...] = (
    "truce",  # ceasefire / truce / armistice / humanitarian pause terms
    "truce_ref",  # anaphoric references ("the agreement", "the pause") used once a truce is known
    "false_friend",  # phrases in which a truce word is not about armed conflict (masked out)
    "hostile",  # armed hostilities: shelling, strikes, clashes, fighting, rockets, killed ...
    "violate",  # violate / breach / break / flout / fail to respect
    "accuse",  # accuse / blame / allege / say ... (attribution of a breach)
    "despite",  # despite / in spite of / notwithstanding
    "collapse",  # collapse / crumble / break down / fail to hold
    "resume",  # resume / renewed / restart / again
    "continuing",  # fighting continues / rages / goes on / persists
    "ended",  # truce ended / expired / after the truce
    "soon_after",  # minutes/hours after, shortly after
    "started",  # took effect / came into force / began
    "during",  # during / amid / while
    "pending",  # before it starts / yet to take effect / due to begin
    "count",  # monitoring counts ("recorded 2,000 violations")
    "strain",  # tested / strained / threatened (a fragile truce under fire)
    "hypo",  # hypotheticals, conditions, threats, modality
    "hypo_after",  # a condition that follows the verb (Turkish "ihlal edilmesi halinde")
    "talks",  # negotiations / efforts / mediation (subjects that can "collapse" instead of a truce)
    "call",  # calls, talks, proposals, votes, protests, rejections
    "agree",  # agreed, signed, announced, extended, brokered
    "hold",  # holding, observed, calm
    "negation",  # no / not / without
    "background",  # historical framing: anniversary, years ago, since 1994
    "liveblog",  # live blogs and round-ups (a passing mention is likely)
    "contrast",  # but / yet / however ("a truce took effect, but shelling went on")
    "unreal",  # right before a hostility, makes it a non-event: fears of / risk of / hope / could
    "abate",  # right after a hostility, makes it a non-event: eases / is over (head-final
    # languages put "risk of" / "fear of" here too: Turkish "çatışma riski")
    "no_breach",  # absence of breaches: "no violations recorded", "ни одного нарушения"
    "other_norm",  # what else gets violated: international law, human rights, airspace, borders
    "after",  # after / since / following: which came first, the truce or the fighting
    "extend",  # extend / renew / prolong (a truce in force, so fighting beside it is a breach)
    "expiring",  # due to end / final hours / first day of: the truce is in force right now
    "armed",  # armies, troops, rebels, separatists, militias: a truce between them is military
)

Script = Literal["latin", "cyrillic", "arabic", "greek", "hebrew", "armenian"]


class LexiconSpec(BaseModel):
    """Validated contents of one lexicon file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lang: str = Field(min_length=2, max_length=8)
    name: str
    script: Script
    stopwords: str = Field(min_length=10)  # frequent function words, space-separated
    letters: str = ""  # characters that point to this language among those of its script
    word_prefix: str = ""  # regex of clitics allowed before any word (Arabic و ف ب ل ال ...)
    # Postpositions follow their object (Turkish, Azerbaijani, Armenian): "X-ABL after" reads
    # the other way round from "after X" in the rules about which came first.
    head_final: bool = False
    classes: dict[str, tuple[str, ...]]

    @field_validator("classes")
    @classmethod
    def _known_classes(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        unknown = sorted(set(value) - set(CLASSES))
        if unknown:
            raise ValueError(f"unknown word classes {unknown}; known: {list(CLASSES)}")
        if not value.get("truce"):
            raise ValueError("class 'truce' must list at least one pattern")
        for name, patterns in value.items():
            check_patterns(patterns, f"class {name!r}: ")
        return value


@dataclass(frozen=True, slots=True)
class Lexicon:
    """A language's compiled word classes (patterns match lower-cased text)."""

    lang: str
    name: str
    script: Script
    stopwords: frozenset[str]
    letters: str
    head_final: bool
    patterns: dict[str, re.Pattern[str]]

    def has(self, cls: str) -> bool:
        """Return True when the lexicon defines class ``cls``."""
        return cls in self.patterns


def compile_class(fragments: tuple[str, ...], word_prefix: str) -> re.Pattern[str]:
    """Join regex fragments into one pattern anchored at word starts and ends."""
    body = grouped_alternation(fragments)
    prefix = f"(?:{word_prefix})?" if word_prefix else ""
    return re.compile(rf"(?<!\w){prefix}{body}(?!\w)")


def compile_lexicon(spec: LexiconSpec) -> Lexicon:
    """Compile a validated spec into a Lexicon."""
    patterns = {
        name: compile_class(tuple(fold(f) for f in fragments), fold(spec.word_prefix))
        for name, fragments in spec.classes.items()
        if fragments
    }
    return Lexicon(
        lang=spec.lang,
        name=spec.name,
        script=spec.script,
        stopwords=frozenset(fold(spec.stopwords).split()),
        letters=spec.letters,
        head_final=spec.head_final,
        patterns=patterns,
    )


def load_lexicons(lexicon_dir: Path) -> dict[str, Lexicon]:
    """Load each ``<lang>.yaml`` in ``lexicon_dir`` (not ``_*.yaml``); ConfigError on a bad one."""
    if not lexicon_dir.is_dir():
        raise ConfigError(f"{lexicon_dir}: lexicon directory not found")
    out: dict[str, Lexicon] = {}
    for path in sorted(lexicon_dir.glob("*.yaml")):
        if path.name.startswith("_"):
            continue  # _unsupported.yaml: detection-only stopwords (see langdetect.py)
        spec = load_yaml(path, LexiconSpec)
        if spec.lang != path.stem:
            raise ConfigError(
                f"{path}: invalid value for 'lang': {spec.lang!r}: must match the file name"
            )
        out[spec.lang] = compile_lexicon(spec)
    if not out:
        raise ConfigError(f"{lexicon_dir}: no lexicon files (*.yaml)")
    return out
