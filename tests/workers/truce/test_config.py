"""The events vocabularies and the region time zones: validated, with errors naming the file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from core.config_files import ConfigError, default_config_dir
from core.regions import load_regions
from tests.workers.truce.helpers import PUBLISHED
from workers.truce.extract import EventExtractor
from workers.truce.vocab import load_vocabs
from workers.truce.vocab_spec import ATTACK_KINDS, WORD_CLASSES

LANGS = {"en", "pl", "ru", "uk", "ar", "fr", "es", "de", "tr", "hy", "az", "he"}


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    """The files the extractor reads, copied: regions.yaml, lexicons/ and events/."""
    source, target = default_config_dir(), tmp_path / "config"
    target.mkdir()
    shutil.copy(source / "regions.yaml", target / "regions.yaml")
    for folder in ("lexicons", "events"):
        shutil.copytree(source / folder, target / folder)
    return target


def _load(config: Path) -> None:
    """Load the events files as the extractor does (checked against regions.yaml's parties)."""
    parties = frozenset(load_regions(config / "regions.yaml").parties)
    load_vocabs(config / "events", parties)


def _edit(path: Path, **changes: object) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.update(changes)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_every_language_has_an_events_file() -> None:
    vocabs = load_vocabs(default_config_dir() / "events")
    assert set(vocabs) == LANGS
    for vocab in vocabs.values():
        assert vocab.durations is not None and vocab.killed is not None
        assert {kind for kind, _ in vocab.attacks} <= set(ATTACK_KINDS)


def test_every_region_has_a_time_zone() -> None:
    regions = load_regions(default_config_dir() / "regions.yaml")
    assert all(r.timezone != "UTC" for r in regions.regions)
    zones = {r.id: r.timezone for r in regions.regions}
    assert zones["sudan"] == "Africa/Khartoum"
    assert zones["gaza-israel"] == "Asia/Jerusalem"
    assert zones["ukraine"] == "Europe/Kyiv"
    assert zones["nagorno-karabakh"] == "Asia/Baku"


def test_unknown_time_zone_names_the_file(config_copy: Path) -> None:
    path = config_copy / "regions.yaml"
    text = path.read_text(encoding="utf-8").replace("Africa/Khartoum", "Africa/Atlantis", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"regions\.yaml.*timezone.*Atlantis"):
        EventExtractor.from_config(config_copy)


def test_bad_regex_names_the_file(config_copy: Path) -> None:
    path = config_copy / "events" / "fr.yaml"
    _edit(path, midnight=["minuit("])
    with pytest.raises(ConfigError) as err:
        EventExtractor.from_config(config_copy)
    assert "fr.yaml" in str(err.value)
    assert "minuit(" in str(err.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"words": {"sometimes": ["parfois"]}}, "unknown word classes"),
        ({"attacks": {"catapult": ["catapultes?"]}}, "unknown attack kinds"),
        ({"weekdays": {"lundi": 0}}, "weekdays"),
        ({"zones": {"heure de mars": "Mars/Olympus"}}, "Mars/Olympus"),
        ({"durations": ["{n} jours"]}, "no {u}"),
        ({"killed": ["morts"]}, "no {n}"),
        ({"colour": "blue"}, "colour"),
        ({"lang": "it"}, "must match the file name"),
        ({"party_aliases": {"Atlantis": ["atlantes?"]}}, "not parties of regions.yaml"),
    ],
)
def test_invalid_file_is_a_config_error(
    config_copy: Path, change: dict[str, object], message: str
) -> None:
    path = config_copy / "events" / "fr.yaml"
    _edit(path, **change)
    with pytest.raises(ConfigError) as err:
        _load(config_copy)
    assert "fr.yaml" in str(err.value)
    assert message in str(err.value)


def test_not_yaml_and_missing_dir(config_copy: Path) -> None:
    (config_copy / "events" / "de.yaml").write_text("words: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"de\.yaml.*not valid YAML"):
        load_vocabs(config_copy / "events")
    shutil.rmtree(config_copy / "events")
    with pytest.raises(ConfigError, match="events vocabulary directory not found"):
        EventExtractor.from_config(config_copy)


def test_english_is_required(config_copy: Path) -> None:
    (config_copy / "events" / "en.yaml").unlink()
    with pytest.raises(ConfigError, match="'en'"):
        EventExtractor.from_config(config_copy)


def test_words_are_added_with_a_file_only(config_copy: Path) -> None:
    # A new unit in the Polish file ("kwartał", a quarter) changes what is found: no code.
    def duration(extractor: EventExtractor) -> float | None:
        return extractor.extract(
            title="Strony uzgodniły rozejm na jeden kwartał", text="", lang="pl",
            label="ceasefire", regions=("sudan",), published=PUBLISHED,
        ).duration_h

    assert duration(EventExtractor.from_config(config_copy)) is None
    path = config_copy / "events" / "pl.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["units"]["kwarta[łl]\\w*"] = 2160
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert duration(EventExtractor.from_config(config_copy)) == 2160


def test_word_classes_are_documented() -> None:
    text = (default_config_dir() / "events" / "en.yaml").read_text(encoding="utf-8")
    for name in WORD_CLASSES:
        assert f"  {name}:" in text, name
