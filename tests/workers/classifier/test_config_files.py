"""Lexicon and gazetteer files: validated with clear errors; a language is added without code."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core.config_files import ConfigError, default_config_dir
from workers.classifier.engine import Classifier
from workers.classifier.gazetteer import Gazetteer
from workers.classifier.lexicon import load_lexicons

ITALIAN = """
lang: it
name: Italian
script: latin
letters: "èò"
stopwords: "il di che e la per un una non con del della delle dei gli le è sono nel alla"
classes:
  truce: ["tregu[ae]", "cessate il fuoco"]
  hostile: ["razz[io]", "scontri", "bombard\\\\w*", "attacc\\\\w*"]
  violate: ["violat\\\\w*", "violazion[ei]"]
  accuse: ["accus\\\\w*"]
  call: ["chied\\\\w*", "appell\\\\w*"]
"""


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(
        default_config_dir(), target, ignore=shutil.ignore_patterns("*.py", "__pycache__")
    )
    return target


def test_a_language_is_added_with_a_yaml_file_only(config_copy: Path) -> None:
    before = Classifier.from_config(config_copy)
    title = "Israele e Hamas si accusano di aver violato la tregua"
    lede = "Il governo ha detto che sono stati lanciati razzi dalla Striscia di Gaza."
    assert before.classify(title, lede).reason == "unsupported language: it"
    (config_copy / "lexicons" / "it.yaml").write_text(ITALIAN, encoding="utf-8")
    after = Classifier.from_config(config_copy)
    result = after.classify(title, lede)
    assert result.lang == "it"
    assert result.label == "violation"
    assert result.regions == ("gaza-israel",)


def test_bad_regex_names_file_and_class(config_copy: Path) -> None:
    (config_copy / "lexicons" / "it.yaml").write_text(
        ITALIAN.replace("tregu[ae]", "tregu[ae"), "utf-8"
    )
    with pytest.raises(ConfigError) as err:
        load_lexicons(config_copy / "lexicons")
    assert "it.yaml" in str(err.value)
    assert "truce" in str(err.value)


def test_unknown_class_and_missing_truce_are_rejected(config_copy: Path) -> None:
    path = config_copy / "lexicons" / "it.yaml"
    path.write_text(ITALIAN.replace("  call:", "  calls:"), "utf-8")
    with pytest.raises(ConfigError, match="unknown word classes"):
        load_lexicons(config_copy / "lexicons")
    path.write_text(ITALIAN.replace('  truce: ["tregu[ae]", "cessate il fuoco"]\n', ""), "utf-8")
    with pytest.raises(ConfigError, match="truce"):
        load_lexicons(config_copy / "lexicons")


def test_file_name_must_match_language(config_copy: Path) -> None:
    (config_copy / "lexicons" / "xx.yaml").write_text(ITALIAN, "utf-8")
    with pytest.raises(ConfigError, match=r"xx\.yaml"):
        load_lexicons(config_copy / "lexicons")


def test_missing_params_file_is_a_clear_error(config_copy: Path) -> None:
    (config_copy / "classifier_params.yaml").unlink()
    with pytest.raises(ConfigError, match=r"classifier_params\.yaml"):
        Classifier.from_config(config_copy)


def test_gazetteer_rejects_bad_alias(tmp_path: Path) -> None:
    path = tmp_path / "regions.yaml"
    path.write_text('regions:\n  - {id: x, name: X, aliases: ["(unclosed"]}\n', "utf-8")
    with pytest.raises(ConfigError, match=r"regions\.yaml"):
        Gazetteer.from_file(path)


@pytest.mark.parametrize(
    ("text", "regions", "parties"),
    [
        ("Clashes on the Line of Control in Kashmir", ("kashmir",), ()),
        (
            "India and Pakistan agree to observe ceasefire in Kashmir",
            ("kashmir",),
            ("India", "Pakistan"),
        ),
        ("Хамас и Израиль продлили перемирие в Газе", ("gaza-israel",), ("Hamas", "Israel")),
        ("Ateşkes Dağlık Karabağ'da ihlal edildi", ("nagorno-karabakh",), ()),
        (
            "الجيش السوداني وقوات الدعم السريع يتبادلان الاتهامات في الخرطوم",
            ("sudan",),
            ("Sudanese army", "RSF"),
        ),
        (
            "Tajik and Kyrgyz border guards exchange fire near Batken",
            ("kyrgyz-tajik",),
            ("Tajikistan", "Kyrgyzstan"),
        ),
        (
            "Thailand and Cambodia trade fire at the border",
            ("thailand-cambodia",),
            ("Thailand", "Cambodia"),
        ),
        ("Colombia's government and the ELN extend ceasefire", ("colombia",), ("ELN",)),
        ("M23 rebels advance on Goma", ("dr-congo",), ("M23",)),
        ("Russia hosts a football friendly", (), ()),
    ],
)
def test_regions_and_parties(
    clf: Classifier, text: str, regions: tuple[str, ...], parties: tuple[str, ...]
) -> None:
    tags = clf.gazetteer.tag(text)
    assert tags.regions == regions
    assert set(tags.parties) >= set(parties)
