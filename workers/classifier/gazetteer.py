"""Conflict-region gazetteer: tags an item with the regions and parties of regions.yaml.

The file's model and loader are core/regions.py; this module only compiles it into a matcher.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from core.config_files import ConfigError
from core.regexutil import grouped_alternation, top_level_alternatives
from core.regions import MACROS, RegionsFile, expand_alias, load_regions
from workers.classifier.text import fold


def alias_pattern(alias: str) -> str:
    """The regex an alias stands for in folded text: shorthands expanded, then folded."""
    return fold(expand_alias(alias))


@dataclass(frozen=True, slots=True)
class Tags:
    """Regions (ids) and parties named in an item, in order of first mention."""

    regions: tuple[str, ...]
    parties: tuple[str, ...]


# The scanning regex allows any clitics before every alias, once, as one optional run: with
# the shorthands left inside each alias, no alias of Arabic or Hebrew would start with a literal
# letter, and every one of them would be tried at every word of every text. What a match really
# is (which alias, with which clitics) is then decided by the full match against each region.
_SCAN_PREFIX = (
    "(?:[\u0648\u0641\u05d5\u05e9]?[\u0628\u0644\u0643\u05d1\u05dc\u05de]?"
    "(?:\u0627\u0644|\u0644|\u05d4)?)"
)
_LEADING_MACROS = tuple(MACROS)


def _scan_fragments(alias: str) -> list[str]:
    """The pieces an alias adds to the scanning regex, most of them starting with a letter.

    Leading shorthands are dropped (the scan prefix covers them) and top-level alternatives
    become pieces of their own.
    """
    pieces = []
    for part in top_level_alternatives(alias):
        piece = part
        while piece.startswith(_LEADING_MACROS):
            piece = piece[piece.index("}") + 1 :].removeprefix("?")  # "{al}?" is optional too
        pieces.append(alias_pattern(piece))
    return pieces


def _scanner(aliases: list[str]) -> re.Pattern[str]:
    """One regex finding every alias of ``aliases`` (whole words, clitics allowed).

    Longer pieces go first, so "south sudan" or "sudan południowy" wins over "sudan" at the same
    word: alternatives are tried in order, and length is a good proxy for the more specific.
    """
    pieces = sorted(
        dict.fromkeys(f for a in aliases for f in _scan_fragments(a)), key=len, reverse=True
    )
    return re.compile(rf"(?<!\w){_SCAN_PREFIX}{grouped_alternation(pieces)}(?!\w)")


class Gazetteer:
    """All aliases in one grouped alternation, so tagging is a single fast regex pass.

    A match is mapped back to its region (or party) by full-matching the matched words
    against each region's own pattern, cached per distinct matched string.
    """

    def __init__(self, spec: RegionsFile) -> None:
        """Compile ``spec``."""
        self._regions = [
            (r.id, re.compile(grouped_alternation([alias_pattern(a) for a in r.aliases])))
            for r in spec.regions
        ]
        # One entry per weak group, keyed "region#group" (ids cannot contain "#").
        self._weak = [
            (f"{r.id}#{i}", re.compile(grouped_alternation([alias_pattern(a) for a in group])))
            for r in spec.regions
            for i, group in enumerate(r.weak)
        ]
        self._parties = [
            (name, re.compile(grouped_alternation([alias_pattern(a) for a in aliases])))
            for name, aliases in spec.parties.items()
            if aliases
        ]
        self._party_regions: dict[str, set[str]] = {}
        for region in spec.regions:
            for party in region.parties:
                self._party_regions.setdefault(party, set()).add(region.id)
        self._rx = _scanner(
            [a for r in spec.regions for a in (*r.aliases, *(a for g in r.weak for a in g))]
        )
        self._rx_parties = _scanner([a for aliases in spec.parties.values() for a in aliases])
        self._cache: dict[str, tuple[str, ...]] = {}
        self.regions = tuple(r.id for r in spec.regions)
        self._aliases = {
            r.id: [*r.aliases, *(a for g in r.weak for a in g)] for r in spec.regions
        }
        # Scanners for a few regions only (those with a truce in force), built on first use.
        self._subset_rx: dict[frozenset[str], re.Pattern[str]] = {}

    @classmethod
    def from_file(cls, path: Path) -> Gazetteer:
        """Load and compile ``regions.yaml``; ConfigError names a bad key."""
        spec = load_regions(path)
        try:
            return cls(spec)
        except re.error as exc:
            # The file's aliases all compile; only folding them (fold() maps some characters)
            # could break one, and that is still the file's fault, not a crash.
            raise ConfigError(f"{path}: an alias does not compile once folded: {exc}") from None

    def _which(
        self, kind: str, words: str, table: list[tuple[str, re.Pattern[str]]]
    ) -> tuple[str, ...]:
        key = f"{kind}:{words}"
        found = self._cache.get(key)
        if found is None:
            found = tuple(name for name, rx in table if rx.fullmatch(words))
            if len(self._cache) < 50_000:  # bounded: matched strings are few in practice
                self._cache[key] = found
        return found

    def mentions(self, low: str, regions: frozenset[str]) -> bool:
        """True when folded ``low`` names any alias of ``regions`` (a cheap prefilter of tag)."""
        rx = self._subset_rx.get(regions)
        if rx is None:
            aliases = [a for r in sorted(regions) for a in self._aliases.get(r, ())]
            if not aliases:
                return False
            if len(self._subset_rx) > 64:  # truces come and go; keep the cache small
                self._subset_rx.clear()
            rx = self._subset_rx[regions] = _scanner(aliases)
        return rx.search(low) is not None

    def tag(self, text: str, *, folded: bool = False) -> Tags:
        """Regions named in ``text`` and the parties of those regions named too.

        A region named only by weak aliases counts when two of its weak groups are named, or
        when no region is named otherwise.
        """
        low = text if folded else fold(text)
        named: dict[str, None] = {}  # every region named at all, in order of first mention
        strong: set[str] = set()
        weak: dict[str, set[str]] = {}  # region -> its weak groups named
        for m in self._rx.finditer(low):
            words = m.group(0)
            for region in self._which("r", words, self._regions):
                named[region] = None
                strong.add(region)
            for key in self._which("w", words, self._weak):
                region, _, group = key.partition("#")
                named[region] = None
                weak.setdefault(region, set()).add(group)
        strong.update(r for r, groups in weak.items() if len(groups) > 1)
        regions = [r for r in named if r in strong] or list(named)
        if not regions:
            return Tags((), ())
        # A party counts only with one of its regions (Russia is named in many stories).
        found = set(regions)
        parties: list[str] = []
        for m in self._rx_parties.finditer(low):
            for party in self._which("p", m.group(0), self._parties):
                if party not in parties and self._party_regions.get(party, set()) & found:
                    parties.append(party)
        return Tags(tuple(regions), tuple(parties))
