"""The bot's languages: gettext catalogues (bot/locale/*.po) compiled in memory with Babel.

A chat's language is the one it chose with /language, else its user's Telegram
``language_code``, else English. Messages are ``str.format`` templates (``{name}``): the caller
escapes the values it passes. Arabic and Hebrew lines start with a right-to-left mark, since
Telegram's HTML has no ``dir`` attribute. Times are written by Babel for the language (CLDR's
date and time patterns), in the chat's time zone when it set one.
"""

from __future__ import annotations

import gettext
import io
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, tzinfo
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_date, format_skeleton
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DEFAULT = "en"
# Each language's name in itself, as /language lists them.
LANGUAGES: dict[str, str] = {
    "en": "English", "pl": "Polski", "ru": "Русский", "uk": "Українська", "ar": "العربية",
    "fr": "Français", "es": "Español", "de": "Deutsch", "tr": "Türkçe", "hy": "Հայերեն",
    "az": "Azərbaycan dili", "he": "עברית",
}
RTL_LANGUAGES = frozenset({"ar", "he"})
RLM = "\u200f"  # RIGHT-TO-LEFT MARK: makes the line's paragraph right to left
FSI, LRI, PDI = "\u2068", "\u2066", "\u2069"  # isolates: a foreign run keeps its own direction
DOMAIN = "messages"
# CLDR's Gregorian yMMMd for Armenian puts the year first ("2023 թ. սեպ 19"), unlike its own
# generic calendar and the usual Armenian order ("19 սեպ, 2023 թ."): that order is used.
_DAY_PATTERNS = {"hy": "d MMM, y թ."}
_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/GMT", "GMT", "Etc/Zulu", "Zulu", "Etc/UCT", "UCT"})


def N_(message: str) -> str:
    """Mark a string for extraction (pybabel's default keyword); translated where shown."""
    return message


def normalize(code: str | None) -> str | None:
    """The supported language of a code such as ``pt-BR`` or ``UK``, or None."""
    if not code:
        return None
    lang = code.strip().lower().replace("_", "-").split("-")[0]
    return lang if lang in LANGUAGES else None


@cache
def _catalogue(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``lang`` (English is the msgids themselves)."""
    if lang == DEFAULT:
        return gettext.NullTranslations()
    path = resources.files("bot") / "locale" / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as po:
        catalog = read_po(po, locale=lang)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


@cache
def _locale(lang: str) -> Locale:
    return Locale.parse(lang)


@cache
def _zone(name: str) -> tzinfo:
    """The time zone ``name`` (IANA), UTC when unknown."""
    if name in _UTC_NAMES:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def zone_label(name: str) -> str:
    """A zone as readers typed it: ``UTC``, ``UTC+3`` (IANA's Etc/GMT-3), ``Europe/Kyiv``."""
    if _zone(name) is UTC:
        return "UTC"
    if name.startswith("Etc/GMT") and name[7:8] in "+-" and name[8:].isdigit():
        # IANA's Etc/GMT zones have the sign inverted (Etc/GMT-3 is UTC+3).
        return f"UTC{'-' if name[7] == '+' else '+'}{name[8:]}"
    return name


@dataclass(frozen=True)
class Translator:
    """One language's messages, formatted with ``{name}`` arguments, and its times in ``zone``."""

    lang: str
    zone: str = "UTC"  # the chat's time zone (IANA name), for the times shown

    def in_zone(self, zone: str | None) -> Translator:
        """The same language with times in ``zone`` (UTC when unknown)."""
        name = zone if zone and _zone(zone) is not UTC else "UTC"
        return self if name == self.zone else replace(self, zone=name)

    @property
    def zone_name(self) -> str:
        """The zone of the times shown, as a reader writes it (``UTC``, ``UTC+3``)."""
        return zone_label(self.zone)

    def when(self, t: datetime, *, zone: bool = True) -> str:
        """``t`` as this language writes a date and time (``19 sept. 2023, 12:05`` in French).

        In the chat's zone; ``zone`` adds the zone's name, for a time read on its own.
        """
        local = (t.replace(tzinfo=UTC) if t.tzinfo is None else t).astimezone(_zone(self.zone))
        clock = format_skeleton("Hm", local, locale=self.lang)
        # CLDR's own glue of a date and a time ("{1}, {0}"; "{1}، {0}" in Arabic).
        text = str(_locale(self.lang).datetime_formats["medium"]).format(clock, self.day(local))
        return f"{text} {self.zone_name}" if zone else text

    def day(self, d: date) -> str:
        """A calendar day in this language (``2 janv. 2026``)."""
        pattern = _DAY_PATTERNS.get(self.lang)
        if pattern is not None:
            return format_date(d, pattern, locale=self.lang)
        return format_skeleton("yMMMd", d, locale=self.lang)

    def day_month(self, d: date, *, numeric: bool = False) -> str:
        """A day of the month, without the year (``2 janv.``; ``numeric``: ``02/01``)."""
        return format_skeleton("Md" if numeric else "MMMd", d, locale=self.lang)

    @property
    def rtl(self) -> bool:
        """True for a right-to-left language."""
        return self.lang in RTL_LANGUAGES

    @property
    def mark(self) -> str:
        """What starts each line of our own text: the RTL mark, or nothing."""
        return RLM if self.rtl else ""

    def gettext(self, message: str, **args: object) -> str:
        """``message`` in this language, with ``args`` filled in."""
        text = _catalogue(self.lang).gettext(message)
        return text.format(**args) if args else text

    def ngettext(self, singular: str, plural: str, n: int, **args: object) -> str:
        """The plural form of this language for ``n``; ``{n}`` is filled in too."""
        text = _catalogue(self.lang).ngettext(singular, plural, n)
        return text.format(n=n, **args)

    def lines(self, text: str) -> str:
        """``text`` with each line started by the RTL mark in a right-to-left language."""
        if not self.rtl:
            return text
        # Idempotent: a line already marked (a translated message shown again) stays as it is.
        return "\n".join(
            RLM + line if line and not line.startswith(RLM) else line for line in text.split("\n")
        )

    def isolate(self, text: str) -> str:
        """A run of another direction (headline, name, URL) kept whole inside RTL text."""
        return f"{FSI}{text}{PDI}" if self.rtl and text else text

    def language_name(self, code: str) -> str:
        """The name of language ``code`` in this language (``Russisch`` in German)."""
        try:
            name = _locale(self.lang).languages.get(code.lower())
        except (ValueError, TypeError):
            name = None
        return name or code


@cache
def translator(lang: str | None) -> Translator:
    """The translator of ``lang``; English for an unknown or missing language."""
    return Translator(normalize(lang) or DEFAULT)


def choose(stored: str | None, language_code: str | None) -> Translator:
    """The chat's chosen language, else the user's Telegram language, else English."""
    return translator(normalize(stored) or normalize(language_code))
