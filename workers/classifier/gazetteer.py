"""Conflict-region gazetteer (config/regions.yaml): tags an item with regions and parties."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.config_files import load_yaml
from workers.classifier.regexutil import check_patterns, grouped_alternation
from workers.classifier.text import fold


def _check_regexes(value: tuple[str, ...]) -> tuple[str, ...]:
    check_patterns(value)
    return value


class RegionSpec(BaseModel):
    """One conflict region: id, display name, aliases (regex, any language) and its parties."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    aliases: tuple[str, ...] = Field(min_length=1)
    parties: tuple[str, ...] = ()

    _aliases_ok = field_validator("aliases")(_check_regexes)


class GazetteerSpec(BaseModel):
    """The whole regions file: regions, and the aliases of every party they name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    regions: tuple[RegionSpec, ...] = Field(min_length=1)
    parties: dict[str, tuple[str, ...]] = {}

    @field_validator("parties")
    @classmethod
    def _party_regexes(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for aliases in value.values():
            _check_regexes(aliases)
        return value


@dataclass(frozen=True, slots=True)
class Tags:
    """Regions (ids) and parties named in an item, in order of first mention."""

    regions: tuple[str, ...]
    parties: tuple[str, ...]


class Gazetteer:
    """All aliases in one grouped alternation, so tagging is a single fast regex pass.

    A match is mapped back to its region (or party) by full-matching the matched words
    against each region's own pattern, cached per distinct matched string.
    """

    def __init__(self, spec: GazetteerSpec) -> None:
        """Compile ``spec``."""
        self._regions = [
            (r.id, re.compile(grouped_alternation([fold(a) for a in r.aliases])))
            for r in spec.regions
        ]
        self._parties = [
            (name, re.compile(grouped_alternation([fold(a) for a in aliases])))
            for name, aliases in spec.parties.items()
            if aliases
        ]
        self._party_regions: dict[str, set[str]] = {}
        for region in spec.regions:
            for party in region.parties:
                self._party_regions.setdefault(party, set()).add(region.id)
        all_regions = [fold(a) for r in spec.regions for a in r.aliases]
        all_parties = [fold(a) for aliases in spec.parties.values() for a in aliases]
        self._rx = re.compile(rf"(?<!\w){grouped_alternation(all_regions)}(?!\w)")
        self._rx_parties = re.compile(rf"(?<!\w){grouped_alternation(all_parties)}(?!\w)")
        self._cache: dict[str, tuple[str, ...]] = {}
        self.regions = tuple(r.id for r in spec.regions)

    @classmethod
    def from_file(cls, path: Path) -> Gazetteer:
        """Load and compile ``regions.yaml``; ConfigError names a bad key."""
        return cls(load_yaml(path, GazetteerSpec))

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

    def tag(self, text: str, *, folded: bool = False) -> Tags:
        """Regions named in ``text`` and the parties of those regions named too."""
        low = text if folded else fold(text)
        regions: list[str] = []
        for m in self._rx.finditer(low):
            for region in self._which("r", m.group(0), self._regions):
                if region not in regions:
                    regions.append(region)
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
