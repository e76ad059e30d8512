"""Text normalisation and sentence splitting shared by the classifier's rules."""

from __future__ import annotations

import re

# Typographic variants folded to ASCII so one pattern covers every outlet's spelling.
_FOLD = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u00a0": " ",
        "\u200b": "",
        "\u02bc": "'",  # Ukrainian apostrophe (перемирʼя)
        "\u0307": "",  # combining dot left by lower-casing Turkish "İ"
        "\u0640": "",  # Arabic tatweel (decorative elongation)
        # Arabic orthographic variants folded the usual way (hamza seats, ta marbuta, ya).
        "\u0623": "\u0627",
        "\u0625": "\u0627",
        "\u0622": "\u0627",
        "\u0629": "\u0647",
        "\u0649": "\u064a",
        **{chr(c): "" for c in range(0x064B, 0x0653)},  # harakat (short-vowel marks)
    }
)

# A sentence ends at . ! ? ؟ … followed by space and a start that is not lower-case ASCII,
# or at a bullet / wide gap. A rare split after an abbreviation ("U.S. Army") costs little.
_SPLIT = re.compile(r"(?<=[.!?\u061f\u2026])[\"')\]]*\s+(?=[^\sa-z])|\s+[\u2022|]\s+|\s{2,}")
# Markup and links left in feed descriptions: a URL slug such as "fighting-escalates-after-
# breakdown-in-ceasefire-talks" is not a sentence of the lede. A tag may be cut off at the end.
_MARKUP = re.compile(r"<[a-zA-Z/!][^>]*(?:>|$)|\bhttps?://\S+|\bwww\.\S+")
_TRAILERS = re.compile(
    r"\s*(?:continue reading\W*|read full article at rt\.com|read more\W*)$", re.I
)


def fold(text: str) -> str:
    """Return ``text`` with typographic quotes/dashes folded and case lowered."""
    low = text.translate(_FOLD).lower()
    if "\u0103\u0142" in low:
        # Feeds decoded as cp1250 instead of UTF-8 turn Polish "ó" into "Ăł".
        low = low.replace("\u0103\u0142", "ó")
    return low


def split_sentences(text: str) -> list[str]:
    """Split a lede into sentences (original case kept, trailers dropped)."""
    if "<" in text or "http" in text or "www." in text:
        text = _MARKUP.sub(" ", text)
    text = _TRAILERS.sub("", text.strip())
    if not text:
        return []
    return [s.strip() for s in _SPLIT.split(text) if s and s.strip()]
