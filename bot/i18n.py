"""The bot's languages: gettext catalogues (bot/locale/*.po) compiled in memory with Babel.

A chat's language is the one it chose with /language, else its user's Telegram
``language_code``, else English. Messages are ``str.format`` templates (``{name}``): the caller
escapes the values it passes. Arabic and Hebrew lines start with a right-to-left mark, since
Telegram's HTML has no ``dir`` attribute.
"""

from __future__ import annotations

import gettext
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

from babel import Locale
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


@dataclass(frozen=True)
class Translator:
    """One language's messages, formatted with ``{name}`` arguments."""

    lang: str

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
            name = Locale.parse(self.lang).languages.get(code.lower())
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
