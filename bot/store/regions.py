"""The region catalogue: ``config/regions.yaml`` when present, else a small built-in list."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from workers.classifier.gazetteer import expand_alias

log = logging.getLogger(__name__)

# Used when regions.yaml is missing or unusable. The ids are those of the shipped
# config/regions.yaml (the ids alerts carry; a test keeps the two in step), so a subscription
# made while the fallback was in use still matches alerts.
_FALLBACK: tuple[tuple[str, str], ...] = (
    ("nagorno-karabakh", "Nagorno-Karabakh (Armenia–Azerbaijan)"),
    ("ukraine", "Ukraine / Donbas (Russia–Ukraine)"),
    ("gaza-israel", "Gaza / Israel"),
    ("lebanon", "Lebanon (Israel–Hezbollah; Palestinian camps)"),
    ("syria", "Syria"),
    ("yemen", "Yemen"),
    ("sudan", "Sudan (SAF–RSF)"),
    ("libya", "Libya"),
    ("kashmir", "Kashmir / Line of Control (India–Pakistan)"),
    ("myanmar", "Myanmar"),
    ("ethiopia", "Ethiopia / Tigray"),
    ("dr-congo", "DR Congo (M23)"),
    ("colombia", "Colombia"),
    ("kyrgyz-tajik", "Kyrgyz–Tajik border"),
    ("thailand-cambodia", "Thailand–Cambodia border"),
    ("afghanistan", "Afghanistan"),
    ("korea", "Korean Peninsula (1953 armistice)"),
    ("iraq", "Iraq"),
    ("somalia", "Somalia"),
    ("south-sudan", "South Sudan"),
    ("mozambique", "Mozambique"),
    ("sahel", "Sahel (Mali, Burkina Faso, Niger)"),
    ("serbia-kosovo", "Kosovo–Serbia"),
    ("georgia", "Georgia (South Ossetia, Abkhazia)"),
    ("transnistria", "Transnistria (Moldova)"),
    ("israel-iran", "Israel–Iran"),
)
# What the earlier fallback called some of these, still accepted when typed (/subscribe drc).
_FALLBACK_ALIASES: dict[str, tuple[str, ...]] = {
    "gaza-israel": ("gaza",),
    "dr-congo": ("drc",),
    "nagorno-karabakh": ("armenia-azerbaijan",),
    "kashmir": ("india-pakistan",),
}
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


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
    def builtin(cls) -> RegionCatalog:
        """The fallback list."""
        return cls(
            [
                Region(i, n, tuple(re.compile(re.escape(a)) for a in _FALLBACK_ALIASES.get(i, ())))
                for i, n in _FALLBACK
            ]
        )

    @classmethod
    def load(cls, config_dir: Path) -> RegionCatalog:
        """Read ``regions.yaml`` tolerantly (list or mapping of entries); fall back if unusable."""
        path = config_dir / "regions.yaml"
        if not path.exists():
            return cls.builtin()
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            log.warning("cannot read %s (%s); using the built-in region list", path, exc)
            return cls.builtin()
        regions = _parse(data.get("regions") if isinstance(data, dict) else data)
        if not regions:
            log.warning("%s lists no usable regions; using the built-in region list", path)
            return cls.builtin()
        return cls(regions)


def _aliases(raw: Any) -> tuple[re.Pattern[str], ...]:
    out: list[re.Pattern[str]] = []
    for pattern in raw if isinstance(raw, list) else []:
        try:
            # The classifier's shorthands ({ar}, {he}) mean the same here: "/subscribe غزة".
            out.append(re.compile(expand_alias(str(pattern))))
        except re.error:
            continue  # a bad alias only costs that alias
    return tuple(out)


def _parse(raw: Any) -> list[Region]:
    items: list[tuple[Any, Any, Any]] = []
    if isinstance(raw, dict):
        for key, value in raw.items():
            if isinstance(value, dict):
                items.append((value.get("id", key), value.get("name", key), value.get("aliases")))
            else:
                items.append((key, value if isinstance(value, str) else key, None))
    elif isinstance(raw, list):
        for entry in raw:
            if isinstance(entry, dict) and entry.get("id"):
                items.append((entry["id"], entry.get("name") or entry["id"], entry.get("aliases")))
            elif isinstance(entry, str):
                items.append((entry, entry, None))
    out: list[Region] = []
    seen: set[str] = set()
    for rid, name, aliases in items:
        rid_s = str(rid).strip().lower()
        if _ID_RE.match(rid_s) and rid_s not in seen:
            seen.add(rid_s)
            out.append(Region(rid_s, str(name).strip() or rid_s, _aliases(aliases)))
    return out
