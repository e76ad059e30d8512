"""Per-language event vocabularies compiled for matching, and their loader.

The files' model is workers/truce/vocab_spec.py. Every fragment is folded like the text it
is matched against (workers/classifier/text.fold), its clitic shorthands expanded, and each
list joined into one regex anchored at word boundaries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from core.config_files import ConfigError, load_yaml
from core.regexutil import grouped_alternation
from core.regions import expand_alias
from workers.classifier.text import fold
from workers.truce.vocab_spec import EventVocabSpec

EVENTS_DIR = "events"
NUMBER_DIGITS = r"\d{1,3}(?:[,. ]\d{3})+(?!\d)|\d+"


def _pattern(fragments: list[str] | tuple[str, ...]) -> str:
    return grouped_alternation(sorted((fold(expand_alias(f)) for f in fragments), key=len,
                                      reverse=True))


def _words(fragments: list[str] | tuple[str, ...]) -> re.Pattern[str] | None:
    if not fragments:
        return None
    return re.compile(rf"(?<!\w)(?:{_pattern(fragments)})(?!\w)")


def _table(table: dict[str, int] | dict[str, float]) -> tuple[tuple[re.Pattern[str], float], ...]:
    return tuple((re.compile(fold(expand_alias(k))), float(v)) for k, v in table.items())


@dataclass(frozen=True, slots=True)
class EventVocab:
    """A language's compiled event vocabulary (patterns match folded text)."""

    lang: str
    order: str
    midnight_ends_day: bool
    number: str  # regex of one number: digits or a number word
    number_values: tuple[tuple[re.Pattern[str], float], ...]
    unit_values: tuple[tuple[re.Pattern[str], float], ...]
    durations: re.Pattern[str] | None
    fixed_values: tuple[float, ...]  # hours of fixed duration i (group f<i>)
    weekdays: tuple[tuple[re.Pattern[str], float], ...]
    months: tuple[tuple[re.Pattern[str], float], ...]
    relative_days: tuple[tuple[re.Pattern[str], float], ...]
    hour_names: tuple[tuple[re.Pattern[str], float], ...]
    zones: tuple[tuple[re.Pattern[str], str], ...]
    patterns: dict[str, re.Pattern[str]]  # every word list, by name
    attacks: tuple[tuple[str, re.Pattern[str]], ...]
    killed: re.Pattern[str] | None
    wounded: re.Pattern[str] | None
    party_aliases: dict[str, tuple[str, ...]]  # as written: compiled with regions.yaml's

    def rx(self, name: str) -> re.Pattern[str] | None:
        """The compiled word list ``name`` (a word class or a marker list), if defined."""
        return self.patterns.get(name)

    def value(self, table: tuple[tuple[re.Pattern[str], float], ...], word: str) -> float | None:
        """The value ``word`` (folded) has in ``table`` (numbers, units, weekdays ...)."""
        for rx, val in table:
            if rx.fullmatch(word):
                return val
        return None

    def duration_h(self, m: re.Match[str]) -> float | None:
        """Hours of a match of ``durations``: its number (1 when the template has none) x unit."""
        for key, unit in m.groupdict().items():
            if key[0] == "f" and unit is not None:
                return self.fixed_values[int(key[1:])]
            if key[0] != "u" or unit is None:
                continue
            per = self.value(self.unit_values, unit)
            word = m.groupdict().get("n" + key[1:])
            count = 1.0 if word is None else self.number_value(word)
            return per * count if per is not None and count is not None else None
        return None

    def count(self, m: re.Match[str]) -> int | None:
        """The number of a match of ``killed`` or ``wounded``."""
        for key, word in m.groupdict().items():
            if key[0] == "n" and word is not None:
                value = self.number_value(word)
                return int(value) if value is not None else None
        return None

    def number_value(self, text: str) -> float | None:
        """The value of a matched number: digits (with thousands separators) or a word."""
        digits = re.sub(r"\D", "", text)
        if digits and text[0].isdigit():
            return float(digits)
        return self.value(self.number_values, text)


def compile_vocab(spec: EventVocabSpec) -> EventVocab:
    """Compile a validated spec into an EventVocab."""
    words = sorted(spec.numbers, key=len, reverse=True)
    number = NUMBER_DIGITS + ("|" + _pattern(words) if words else "")
    units = _pattern(list(spec.units)) if spec.units else "(?!)"
    lists: dict[str, tuple[str, ...]] = {
        **spec.words, "from": spec.from_, "from_after": spec.from_after, "until": spec.until,
        "until_after": spec.until_after, "midnight": spec.midnight, "am": spec.am, "pm": spec.pm,
        "hour_before": spec.hour_before, "hour_after": spec.hour_after,
        "joiners": spec.joiners, "not_places": spec.not_places, "place_drop": spec.place_drop,
    }
    lists |= {
        "weekday": tuple(spec.weekdays), "month": tuple(spec.months),
        "relday": tuple(spec.relative_days), "hour_name": tuple(spec.hour_names),
        "zone": tuple(spec.zones),
    }
    patterns = {name: rx for name, frags in lists.items() if (rx := _words(frags)) is not None}
    for name in ("from_after", "until_after", "hour_after", "am", "pm"):
        # Suffixes written onto the time ("18.00'den", "18:00-ից", "6am"): matched right at its
        # end, with no word boundary before them.
        frags = lists[name]
        if frags:
            patterns[name + "_suffix"] = re.compile(
                rf"[-'\u2019]?\s?(?:{_pattern(frags)})(?!\w)"
            )
    return EventVocab(
        lang=spec.lang,
        order=spec.order,
        midnight_ends_day=spec.midnight_ends_day,
        number=number,
        number_values=_table(spec.numbers),
        unit_values=_table(spec.units),
        durations=_duration_rx(spec.durations, spec.fixed_durations, number, units),
        fixed_values=tuple(float(v) for v in spec.fixed_durations.values()),
        weekdays=_table(spec.weekdays),
        months=_table(spec.months),
        relative_days=_table(spec.relative_days),
        hour_names=_table(spec.hour_names),
        zones=tuple((re.compile(fold(expand_alias(k))), v) for k, v in spec.zones.items()),
        patterns=patterns,
        attacks=tuple((kind, rx) for kind, frags in spec.attacks.items()
                      if (rx := _words(frags)) is not None),
        killed=_count_rx(spec.killed, number),
        wounded=_count_rx(spec.wounded, number),
        party_aliases=spec.party_aliases,
    )


def _duration_rx(
    templates: tuple[str, ...], fixed: dict[str, float], number: str, units: str
) -> re.Pattern[str] | None:
    """One regex of every duration template and every fixed duration.

    Template i names its parts ``n<i>`` and ``u<i>``, fixed duration i ``f<i>``: a group name
    may occur once per pattern.
    """
    parts = []
    for i, template in enumerate(templates):
        body = fold(expand_alias(template))
        body = body.replace("{n}", f"(?P<n{i}>{number})").replace("{u}", f"(?P<u{i}>{units})")
        parts.append(f"(?:{body})")
    parts += [f"(?P<f{i}>{fold(expand_alias(p))})" for i, p in enumerate(fixed)]
    if not parts:
        return None
    return re.compile(rf"(?<!\w)(?:{'|'.join(parts)})(?!\w)")


def _count_rx(templates: tuple[str, ...], number: str) -> re.Pattern[str] | None:
    if not templates:
        return None
    parts = [
        "(?:" + fold(expand_alias(t)).replace("{n}", f"(?P<n{i}>{number})") + ")"
        for i, t in enumerate(templates)
    ]
    return re.compile(rf"(?<!\w)(?:{'|'.join(parts)})(?!\w)")


def load_vocabs(events_dir: Path, parties: frozenset[str] | None = None) -> dict[str, EventVocab]:
    """Load each ``<lang>.yaml`` in ``events_dir``; ConfigError names a bad file and key.

    ``parties``: the party names of regions.yaml, which ``party_aliases`` may only extend.
    """
    if not events_dir.is_dir():
        raise ConfigError(f"{events_dir}: events vocabulary directory not found")
    out: dict[str, EventVocab] = {}
    for path in sorted(events_dir.glob("*.yaml")):
        spec = load_yaml(path, EventVocabSpec)
        if spec.lang != path.stem:
            raise ConfigError(
                f"{path}: invalid value for 'lang': {spec.lang!r}: must match the file name"
            )
        unknown = sorted(set(spec.party_aliases) - parties) if parties is not None else []
        if unknown:
            raise ConfigError(
                f"{path}: invalid value for 'party_aliases': {unknown}: not parties of regions.yaml"
            )
        try:
            out[spec.lang] = compile_vocab(spec)
        except re.error as exc:
            # Each fragment compiles alone; folding or joining could still break one.
            raise ConfigError(f"{path}: a pattern does not compile once folded: {exc}") from None
    if not out:
        raise ConfigError(f"{events_dir}: no events vocabulary files (*.yaml)")
    return out
