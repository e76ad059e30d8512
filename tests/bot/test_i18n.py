"""The gettext catalogues: up to date with the code, complete, plural forms right, tags kept."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import DEFAULT, LANGUAGES, RLM, choose, normalize, translator

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "bot" / "locale"
OTHERS = sorted(set(LANGUAGES) - {DEFAULT})
PLACEHOLDER = re.compile(r"\{(\w*)\}")
TAG = re.compile(r"</?[a-z]+[^>]*>")
COMMAND = re.compile(r"/[a-z]+\b")


def _catalog(lang: str) -> Catalog:
    with (LOCALE / lang / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=lang)


def _ids(catalog: Catalog) -> set[str | tuple[str, ...]]:
    return {m.id if isinstance(m.id, str) else tuple(m.id) for m in catalog if m.id}


def _strings(message: Message) -> tuple[str, ...]:
    """The translation, one string per plural form."""
    raw = message.string
    if raw is None:
        return ("",)
    return (raw,) if isinstance(raw, str) else tuple(raw)


def _source(message: Message) -> str:
    """The English text (the plural one for a plural message)."""
    return message.id if isinstance(message.id, str) else message.id[1]


def test_the_template_holds_exactly_the_messages_of_the_code() -> None:
    # What `pybabel extract -F babel.cfg` finds today (README "Languages").
    found: set[str | tuple[str, ...]] = set()
    # babel.cfg: the bot, and the truce phrases core/truce_text.py shares with the web page.
    for _, _, message, _, _ in extract_from_dir(
        str(ROOT), method_map=[("bot/**.py", "python"), ("core/truce_text.py", "python")],
        keywords={"gettext": None, "ngettext": (1, 2), "N_": None},
    ):
        found.add(message if isinstance(message, str) else tuple(message))
    with (LOCALE / "messages.pot").open("rb") as pot:
        template = _ids(read_po(pot))
    assert found == template, "run pybabel extract and update the catalogues (README)"
    assert len(template) > 40


@pytest.mark.parametrize("lang", OTHERS)
def test_every_message_is_translated_with_the_language_plural_forms(lang: str) -> None:
    with (LOCALE / "messages.pot").open("rb") as pot:
        template = _ids(read_po(pot))
    catalog = _catalog(lang)
    assert _ids(catalog) == template
    # Babel's CLDR rule: ru/uk/pl 3 forms, ar 6, he 3, fr/es 3, de/tr/hy/az 2.
    assert catalog.num_plurals == Catalog(locale=lang).num_plurals
    for message in catalog:
        if not message.id:
            continue
        strings = _strings(message)
        assert not message.fuzzy, message.id
        assert len(strings) == (catalog.num_plurals if message.pluralizable else 1), message.id
        assert all(s.strip() for s in strings), f"{lang}: untranslated {message.id!r}"


@pytest.mark.parametrize("lang", OTHERS)
def test_translations_keep_placeholders_tags_and_commands(lang: str) -> None:
    for message in _catalog(lang):
        if not message.id:
            continue
        source = _source(message)
        for text in _strings(message):
            assert TAG.findall(text) == TAG.findall(source), (lang, text)
            assert sorted(COMMAND.findall(text)) == sorted(COMMAND.findall(source)), (lang, text)
            wanted = Counter(PLACEHOLDER.findall(source))
            got = Counter(PLACEHOLDER.findall(text))
            if message.pluralizable:
                # A form for one number only ("مصدر واحد", "מקור אחד") may leave out {n}.
                wanted.pop("n", None)
                got.pop("n", None)
            assert got == wanted, (lang, text)
            # The message must format with the names the code passes.
            text.format(**{name: "x" for name in PLACEHOLDER.findall(source)})


def test_plural_forms_follow_each_language_rule() -> None:
    ru, pl, ar, he = (translator(code) for code in ("ru", "pl", "ar", "he"))
    many = ("{n} source", "{n} sources")
    assert [ru.ngettext(*many, n) for n in (1, 3, 5, 21, 11)] == [
        "1 источник", "3 источника", "5 источников", "21 источник", "11 источников",
    ]
    assert [pl.ngettext(*many, n) for n in (1, 2, 5, 22)] == [
        "1 źródło", "2 źródła", "5 źródeł", "22 źródła",
    ]
    assert [ar.ngettext(*many, n) for n in (1, 2, 3, 11, 100)] == [
        "مصدر واحد", "مصدران", "3 مصادر", "11 مصدرًا", "100 مصدر",
    ]
    assert [he.ngettext(*many, n) for n in (1, 2, 7)] == ["מקור אחד", "שני מקורות", "7 מקורות"]
    assert translator("en").ngettext(*many, 2) == "2 sources"


def test_language_choice_and_fallback() -> None:
    assert normalize("pt-BR") is None and normalize("UK") == "uk" and normalize("he_IL") == "he"
    assert choose(None, None).lang == "en"
    assert choose(None, "de-AT").lang == "de"
    assert choose("fr", "de").lang == "fr"  # /language wins over the Telegram language
    assert choose("xx", "zz").lang == "en"
    assert translator("de").gettext("Read at {source}", source="AP") == "Lesen bei AP"
    ar = translator("ar")
    assert ar.rtl and ar.lines("a\nb") == f"{RLM}a\n{RLM}b"
    assert translator("de").lines("a\nb") == "a\nb"
    assert translator("de").language_name("ru") == "Russisch"


def test_times_follow_each_language_rules_and_the_chat_zone() -> None:
    at = datetime(2023, 9, 19, 12, 5, tzinfo=UTC)
    # Babel's (CLDR's) patterns: the order, the month's abbreviation, the glue of date and time.
    assert translator("fr").when(at) == "19 sept. 2023, 12:05 UTC"
    assert translator("de").when(at, zone=False) == "19. Sept. 2023, 12:05"
    assert translator("en").when(at, zone=False) == "Sep 19, 2023, 12:05"
    assert translator("ar").when(at, zone=False) == "19 سبتمبر 2023، 12:05"
    # Azerbaijani in Latin script; Armenian day first, as it is written (CLDR's Gregorian
    # pattern puts the year first, unlike its own generic one).
    assert translator("az").when(at, zone=False) == "19 sen 2023 12:05"
    assert translator("hy").when(at, zone=False) == "19 սեպ, 2023 թ., 12:05"
    assert translator("hy").day(date(2026, 1, 2)) == "2 հնվ, 2026 թ."
    # The chat's zone: its hour (Baku is UTC+4) and its name; an offset as /timezone took it.
    assert translator("fr").in_zone("Asia/Baku").when(at) == "19 sept. 2023, 16:05 Asia/Baku"
    assert translator("ru").in_zone("Etc/GMT-3").when(at).endswith("15:05 UTC+3")
    assert translator("fr").in_zone("Mars/Olympus").zone == "UTC"  # unknown: UTC
    assert translator("fr").day_month(date(2026, 1, 2)) == "2 janv."
    assert translator("ar").day_month(date(2026, 1, 2), numeric=True) == "2\u200f/1"
