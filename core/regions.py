"""The conflict regions of ``regions.yaml``: the one model of the file, and its strict loader.

The classifier builds its gazetteer on this model (workers/classifier/gazetteer.py); the bot
reads through it the regions readers can follow (bot/store/regions.py). Both get the same
ids, names and aliases, and a file that does not validate stops either of them at start with
a ConfigError naming the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.config_files import config_file, load_yaml
from core.regexutil import check_lowercase_safe, check_patterns

REGIONS_FILE = "regions.yaml"

# Shorthands an alias may use for the clitics written together with a name. Arabic: "and" /
# "so" (و ف), then "in" / "to" / "like" (ب ل ك) and the article (ال, or ل after ل):
# "وبالخرطوم", "للخرطوم". Hebrew: "and" / "that" (ו ש), then "in" / "to" / "from" (ב ל מ), then
# the article ה: "ובעזה", "שבלבנון", "הסורי". Hebrew "like" (כ) is left out: "כלוב" is "cage".
# Without them the word-boundary match misses most mentions.
MACROS = {
    "{ar}": "(?:[\u0648\u0641]?[\u0628\u0644\u0643]?)",
    "{al}": "(?:\u0627\u0644|\u0644)?",
    "{he}": "(?:[\u05d5\u05e9]?[\u05d1\u05dc\u05de]?\u05d4?)",
}


def expand_alias(alias: str) -> str:
    """An alias of regions.yaml with its clitic shorthands ({ar}, {al}, {he}) expanded."""
    for macro, expansion in MACROS.items():
        alias = alias.replace(macro, expansion)
    return alias


def _check_aliases(value: tuple[str, ...]) -> tuple[str, ...]:
    # Aliases are matched against lower-cased text: an upper-case escape would change meaning.
    check_lowercase_safe(value, "alias ")
    check_patterns([expand_alias(a) for a in value], "alias ")
    return value


class RegionSpec(BaseModel):
    """One conflict region: id, display name, aliases (regex, any language) and its parties.

    ``weak`` aliases are names the region shares with other conflicts or with other senses
    ("Israel" is also a party in Lebanon, "Tripoli" is also in Lebanon, "RSF" is also the
    press-freedom group), in groups (one name in all its spellings): they tag the region only
    when the text names no other place, or when two groups are named together ("Armenia and
    Azerbaijan" is that conflict even in a story that also mentions Ukraine).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    aliases: tuple[str, ...] = Field(min_length=1)
    weak: tuple[tuple[str, ...], ...] = ()
    parties: tuple[str, ...] = ()
    # IANA zone of the region's clocks: "from Saturday noon" in a report is local time there.
    timezone: str = "UTC"
    # Where the export places the region's stories (WGS84; lat and lon come together), and the
    # country of that point. Optional so a small regions file needs none; every shipped one has
    # them (tests/core/test_export.py).
    country: str = ""
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)

    _aliases_ok = field_validator("aliases")(_check_aliases)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe" is a folder
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _point_whole(self) -> Self:
        if (self.lat is None) != (self.lon is None):
            raise ValueError(f"region {self.id!r}: give both lat and lon, or neither")
        return self

    @field_validator("weak")
    @classmethod
    def _weak_regexes(cls, value: tuple[tuple[str, ...], ...]) -> tuple[tuple[str, ...], ...]:
        for group in value:
            _check_aliases(group)
        return value


class RegionsFile(BaseModel):
    """The whole regions file: regions with unique ids, and the aliases of every party."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    regions: tuple[RegionSpec, ...] = Field(min_length=1)
    parties: dict[str, tuple[str, ...]] = {}

    @field_validator("parties")
    @classmethod
    def _party_regexes(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for aliases in value.values():
            _check_aliases(aliases)
        return value

    @model_validator(mode="after")
    def _unique_ids(self) -> Self:
        # Alerts and subscriptions carry the ids: two regions under one id would be one.
        seen: set[str] = set()
        for region in self.regions:
            if region.id in seen:
                raise ValueError(f"duplicate region id {region.id!r}")
            seen.add(region.id)
        return self


def load_regions(path: Path) -> RegionsFile:
    """Load and validate a regions file; ConfigError names the file, the key and the value."""
    return load_yaml(path, RegionsFile)


def load_config_regions(config_dir: Path) -> RegionsFile:
    """The regions file of ``config_dir``, or the packaged one when the folder has none."""
    return load_regions(config_file(config_dir, REGIONS_FILE))
