"""The regions readers can follow: ids, names and aliases of regions.yaml, read through core."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from core.config_files import config_file
from core.regions import REGIONS_FILE, RegionsFile, expand_alias, load_regions


@dataclass(frozen=True)
class Region:
    """One region subscribers can follow (aliases: the classifier's regexes for it)."""

    id: str
    name: str
    aliases: tuple[re.Pattern[str], ...] = ()


class RegionCatalog:
    """Known regions by id, resolvable by id or (case-insensitive) name."""

    def __init__(self, regions: list[Region]) -> None:
        self.regions = regions
        self._by_key: dict[str, Region] = {}
        for region in regions:
            self._by_key.setdefault(region.id.lower(), region)
            self._by_key.setdefault(region.name.lower(), region)

    @property
    def names(self) -> dict[str, str]:
        """Id -> display name."""
        return {r.id: r.name for r in self.regions}

    def resolve(self, text: str) -> Region | None:
        """The region an argument names: id, name, an alias, or an unambiguous id prefix."""
        key = " ".join(text.strip().lower().split())
        if not key or len(key) > 80:
            return None
        found = self._by_key.get(key)
        if found is not None:
            return found
        by_alias = [r for r in self.regions if any(a.fullmatch(key) for a in r.aliases)]
        if len(by_alias) == 1:
            return by_alias[0]
        by_prefix = [r for r in self.regions if r.id.startswith(key) and len(key) >= 3]
        return by_prefix[0] if len(by_prefix) == 1 else None

    def name(self, region_id: str) -> str:
        """Display name of an id (the id itself when unknown)."""
        found = self._by_key.get(region_id.lower())
        return found.name if found else region_id

    @classmethod
    def from_spec(cls, spec: RegionsFile) -> RegionCatalog:
        """The catalogue of a validated regions file (the classifier's aliases resolve names)."""
        # The shorthands ({ar}, {he}) mean the same here as in the classifier: "/subscribe غزة".
        return cls([Region(r.id, r.name, tuple(re.compile(expand_alias(a)) for a in r.aliases))
                    for r in spec.regions])

    @classmethod
    def load(cls, config_dir: Path) -> RegionCatalog:
        """Read ``config_dir``'s regions file strictly (ConfigError when it is broken).

        A folder without one uses the packaged file (core.config_files.config_file, the
        rule of the configuration overlay).
        """
        return cls.from_spec(load_regions(config_file(config_dir, REGIONS_FILE)))
