"""Region catalogue: tolerant loading of regions.yaml and resolution of what users type."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.store.regions import RegionCatalog
from core.config_files import default_config_dir


def _write(tmp: Path, text: str) -> Path:
    (tmp / "regions.yaml").write_text(text, encoding="utf-8")
    return tmp


def test_list_form_with_aliases_and_bad_entries(tmp_path: Path) -> None:
    cat = RegionCatalog.load(_write(tmp_path, """
regions:
  - id: gaza-israel
    name: Gaza / Israel
    aliases: ["gaza\\\\w*", "israel\\\\w*", "([bad"]
  - id: south-sudan
    name: South Sudan
  - {name: no id here}
  - "Bad Id With Spaces"
  - kashmir
"""))
    assert [r.id for r in cat.regions] == ["gaza-israel", "south-sudan", "kashmir"]
    assert cat.resolve("Gaza").id == "gaza-israel"  # type: ignore[union-attr]
    assert cat.resolve("south sudan").id == "south-sudan"  # type: ignore[union-attr]
    assert cat.resolve("south").id == "south-sudan"  # type: ignore[union-attr]
    assert cat.resolve("atlantis") is None and cat.resolve("x" * 500) is None


def test_mapping_form(tmp_path: Path) -> None:
    cat = RegionCatalog.load(_write(tmp_path, "regions:\n  yemen: Yemen\n  syria: {name: Syria}\n"))
    assert cat.names == {"yemen": "Yemen", "syria": "Syria"}


@pytest.mark.parametrize("text", ["", "regions: 7", ": : :\n  - [", "regions: []"])
def test_unusable_file_falls_back_to_builtin(tmp_path: Path, text: str) -> None:
    cat = RegionCatalog.load(_write(tmp_path, text))
    assert cat.resolve("gaza") is not None and len(cat.regions) >= 5


def test_missing_file_uses_builtin(tmp_path: Path) -> None:
    assert RegionCatalog.load(tmp_path).regions == RegionCatalog.builtin().regions


def test_builtin_ids_are_those_of_the_shipped_regions_file() -> None:
    """Alerts carry the ids of config/regions.yaml; a fallback with other ids would match none."""
    shipped = RegionCatalog.load(default_config_dir())
    assert RegionCatalog.builtin().names == shipped.names


@pytest.mark.parametrize(
    ("typed", "region"),
    [
        ("gaza", "gaza-israel"),
        ("drc", "dr-congo"),
        ("armenia-azerbaijan", "nagorno-karabakh"),
        ("india-pakistan", "kashmir"),
    ],
)
def test_builtin_still_accepts_the_old_fallback_ids(typed: str, region: str) -> None:
    found = RegionCatalog.builtin().resolve(typed)
    assert found is not None and found.id == region


@pytest.mark.parametrize(
    ("typed", "region"),
    [
        ("Горловка", "ukraine"),
        ("غزة", "gaza-israel"),
        ("עזה", "gaza-israel"),
        ("Tavush", "nagorno-karabakh"),
    ],
)
def test_shipped_aliases_resolve_in_any_script(typed: str, region: str) -> None:
    found = RegionCatalog.load(default_config_dir()).resolve(typed)
    assert found is not None and found.id == region
