"""Region catalogue: regions.yaml read strictly through core.regions; what users type resolves."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.store.regions import RegionCatalog
from core.config_files import ConfigError, default_config_dir
from core.regions import REGIONS_FILE, load_regions


def _write(tmp: Path, text: str) -> Path:
    (tmp / REGIONS_FILE).write_text(text, encoding="utf-8")
    return tmp


def test_ids_names_and_aliases_resolve(tmp_path: Path) -> None:
    cat = RegionCatalog.load(_write(tmp_path, """
regions:
  - id: gaza-israel
    name: Gaza / Israel
    aliases: ["gaza\\\\w*", "israel\\\\w*", "{ar}{al}غزة"]
  - id: south-sudan
    name: South Sudan
    aliases: ["south sudan"]
  - {id: kashmir, name: Kashmir, aliases: [kashmir]}
"""))
    assert [r.id for r in cat.regions] == ["gaza-israel", "south-sudan", "kashmir"]
    assert cat.resolve("Gaza").id == "gaza-israel"  # type: ignore[union-attr]
    assert cat.resolve("وبغزة").id == "gaza-israel"  # type: ignore[union-attr]
    assert cat.resolve("south sudan").id == "south-sudan"  # type: ignore[union-attr]
    assert cat.resolve("south").id == "south-sudan"  # type: ignore[union-attr]
    assert cat.resolve("Gaza / Israel").id == "gaza-israel"  # type: ignore[union-attr]
    assert cat.resolve("atlantis") is None and cat.resolve("x" * 500) is None
    assert cat.name("kashmir") == "Kashmir" and cat.name("atlantis") == "atlantis"


@pytest.mark.parametrize(
    "text",
    [
        "",  # no regions at all
        "regions: 7",
        ": : :\n  - [",  # not YAML
        "regions: []",
        "regions:\n  - {id: x, name: X, aliases: ['([bad']}\n",  # an alias that does not compile
        "regions:\n  - {id: x, name: X}\n",  # no aliases
        "regions:\n  - {id: Bad Id, name: X, aliases: [x]}\n",
        "regions:\n  - {id: x, name: X, aliases: [x]}\n  - {id: x, name: Y, aliases: [y]}\n",
        "regions:\n  - {id: x, name: X, aliases: ['a\\Wb']}\n",  # upper-case escape
    ],
)
def test_a_broken_file_is_a_config_error(tmp_path: Path, text: str) -> None:
    """No tolerant second reading, no built-in list: the bot refuses it as the classifier does."""
    with pytest.raises(ConfigError, match=r"regions\.yaml"):
        RegionCatalog.load(_write(tmp_path, text))


def test_a_folder_without_the_file_uses_the_packaged_one(tmp_path: Path) -> None:
    assert RegionCatalog.load(tmp_path).names == RegionCatalog.load(default_config_dir()).names


def test_the_shipped_file_gives_the_ids_alerts_carry() -> None:
    """Alerts carry the ids of regions.yaml (the classifier reads the same model)."""
    spec = load_regions(default_config_dir() / REGIONS_FILE)
    catalog = RegionCatalog.load(default_config_dir())
    assert catalog.names == {r.id: r.name for r in spec.regions}
    assert len(catalog.regions) >= 20


@pytest.mark.parametrize(
    ("typed", "region"),
    [
        ("Горловка", "ukraine"),
        ("غزة", "gaza-israel"),
        ("עזה", "gaza-israel"),
        ("Tavush", "nagorno-karabakh"),
        ("gaza", "gaza-israel"),
        ("drc", "dr-congo"),
    ],
)
def test_shipped_aliases_resolve_in_any_script(typed: str, region: str) -> None:
    found = RegionCatalog.load(default_config_dir()).resolve(typed)
    assert found is not None and found.id == region
