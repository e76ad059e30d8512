"""Region catalogue: tolerant loading of regions.yaml and resolution of what users type."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.regions import RegionCatalog


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
