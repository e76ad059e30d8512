"""Regression cases per language: the false-alarm and miss patterns of issue 10.

The cases live in ``regressions/<lang>.yaml``, one file per supported language. They are
news-style headline + lede pairs written for these tests (never copied from a feed or from
the labelled sets), one or more for each pattern:

false alarms (must not be ``violation``)
    call_while_war, fighting_before_truce, truce_after_fighting, truce_holding,
    non_military_failure, feared_fighting (all ``ceasefire``); history, non_military_truce
    (``none``)
misses (must be ``violation``)
    ended_resumed, uncommon_verb, extended_while_fighting, juxtaposed, monitor_count
plain violations
    accusation, despite
where a language's truce phrases allow it (optional patterns)
    inserted_word (a word inside a multi-word truce phrase), end_war_agreement (an agreement
    "to end the war" broken by fighting): both ``violation``

A case the current model still gets wrong carries ``known_miss: "<reason>"``; it runs as a
strict xfail, so the fix that makes it pass fails the run until the mark is removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.config_files import default_config_dir
from workers.classifier.engine import Classifier
from workers.classifier.text import split_sentences

REGRESSIONS = Path(__file__).parent / "regressions"
LABELS = ("violation", "ceasefire", "none")
LANGUAGES = ("en", "pl", "ru", "uk", "ar", "fr", "es", "de", "tr", "hy", "az", "he")
PATTERNS: dict[str, str] = {
    "call_while_war": "ceasefire",
    "fighting_before_truce": "ceasefire",
    "truce_after_fighting": "ceasefire",
    "truce_holding": "ceasefire",
    "non_military_failure": "ceasefire",
    "feared_fighting": "ceasefire",
    "history": "none",
    "non_military_truce": "none",
    "ended_resumed": "violation",
    "uncommon_verb": "violation",
    "extended_while_fighting": "violation",
    "juxtaposed": "violation",
    "monitor_count": "violation",
    "accusation": "violation",
    "despite": "violation",
}
# Patterns only some languages need: where a truce is a phrase a word can go inside.
OPTIONAL_PATTERNS: dict[str, str] = {
    "inserted_word": "violation",
    "end_war_agreement": "violation",
}


@dataclass(frozen=True, slots=True)
class Case:
    """One headline + lede and the label the guideline gives it."""

    lang: str
    pattern: str
    expected: str
    title: str
    text: str
    known_miss: str


def _load(path: Path) -> list[Case]:
    with path.open(encoding="utf-8") as fh:
        data: dict[str, Any] = yaml.safe_load(fh)
    lang = str(data["lang"])
    assert lang == path.stem, f"{path}: lang {lang!r} does not match the file name"
    cases = []
    for row in data["cases"]:
        cases.append(
            Case(
                lang=lang,
                pattern=str(row["pattern"]),
                expected=str(row["expected"]),
                title=str(row.get("title") or ""),
                text=str(row.get("text") or ""),
                known_miss=str(row.get("known_miss") or ""),
            )
        )
    return cases


CASES: list[Case] = [c for lang in LANGUAGES for c in _load(REGRESSIONS / f"{lang}.yaml")]


def _param(case: Case, index: int) -> Any:
    marks = [pytest.mark.xfail(reason=case.known_miss, strict=True)] if case.known_miss else []
    return pytest.param(case, id=f"{case.lang}-{index:02d}-{case.pattern}", marks=marks)


def _params() -> list[Any]:
    counters: dict[str, int] = {}
    out = []
    for case in CASES:
        counters[case.lang] = counters.get(case.lang, 0) + 1
        out.append(_param(case, counters[case.lang]))
    return out


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    """The shipped classifier, loaded once for this module."""
    return Classifier.from_config(default_config_dir())


def _norm(text: str) -> str:
    return " ".join(text.split())


def test_table_is_well_formed() -> None:
    """Every language has every pattern, and each case's label is the pattern's label."""
    seen: dict[str, set[str]] = {lang: set() for lang in LANGUAGES}
    known = PATTERNS | OPTIONAL_PATTERNS
    for case in CASES:
        assert case.pattern in known, (case.lang, case.pattern)
        assert case.expected == known[case.pattern], (case.lang, case.title)
        assert case.expected in LABELS, case
        assert case.title.strip() or case.text.strip(), case
        seen[case.lang].add(case.pattern)
    for lang, patterns in seen.items():
        assert set(PATTERNS) <= patterns, (lang, sorted(set(PATTERNS) - patterns))


@pytest.mark.parametrize("case", _params())
def test_regression(classifier: Classifier, case: Case) -> None:
    result = classifier.classify(case.title, case.text, case.lang)
    assert result.lang == case.lang, (result.lang, result.reason)
    assert result.label == case.expected, (result.label, result.rule, result.evidence)
    if case.expected == "violation":
        # The "why" quote is one whole sentence of the item (the headline counts as one).
        sentences = {_norm(case.title)} | {_norm(s) for s in split_sentences(case.text)}
        assert result.evidence, result
        assert _norm(result.evidence) in sentences, result.evidence


@pytest.mark.parametrize(
    ("lang", "title", "text"),
    [
        (
            "it",
            "Hamas accusa Israele di aver violato la tregua a Gaza",
            "Secondo il movimento, i raid aerei sono ripresi nella notte su Khan Yunis.",
        ),
        (
            "ja",
            "ガザ地区の停戦、イスラエル軍の空爆で崩壊",
            "停戦発効から数時間後、南部ハンユニスで空爆が再開された。",
        ),
    ],
)
def test_unsupported_language_is_none(
    classifier: Classifier, lang: str, title: str, text: str
) -> None:
    """Italian and Japanese are not supported: ``none``, and the reason says why."""
    for declared in (lang, None):
        result = classifier.classify(title, text, declared)
        assert result.label == "none"
        assert result.reason.startswith("unsupported language"), result.reason
