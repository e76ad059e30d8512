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

# Where a sentence may end: . ! ? ؟ … and the Armenian full stop (also typed as ":" after an
# Armenian letter), any closing quotes, then space; or a bullet / wide gap, which always ends
# one. Whether a "." really ends the sentence is decided in ``_ends_sentence``.
_CANDIDATE = re.compile(
    "([.!?\u061f\u2026\u0589]|(?<=[\u0531-\u0587]):)([\"')\\]\u00bb\u201d\u2019]*)\\s+"
    "|\\s+[\u2022|]\\s+|\\s{2,}"
)
# The word (letters, digits, inner dots, apostrophes) just before a candidate full stop: the
# apostrophe keeps "перемир'я." whole instead of leaving "я" to pass for an initial.
_WORD_BEFORE = re.compile(r"[\w.'\u2019\u02bc]+$")
_WORD_AFTER = re.compile(r"\w+")


def _words(*groups: str) -> frozenset[str]:
    """One set of the space-separated words of ``groups``."""
    return frozenset(word for group in groups for word in group.split())


# Abbreviations that a capital or a digit usually follows mid-sentence ("Oct. 7", "Gen. Smith",
# "godz. 14", "ok. 20", "Nr. 5"), lower-cased, without the dot. Words that also end sentences
# in some language are left out on purpose: "est" (French "east"), "sie" (German), "mar"
# (Spanish "sea"), "ago" (Spanish August), "im"/"им" ("them"), "itd"/"usw"/"etc" (a list that
# ends the sentence).
_ABBREVIATIONS = _words(
    # months (en, fr, es, de)
    "jan janv feb febr fév févr apr avr abr aug sep sept oct okt nov dec déc dic ene",
    # titles and ranks (en, fr, es, tr)
    "gen lt col maj capt cpt sgt cmdr adm brig dr dra mr mrs ms prof sen rep gov pres rev",
    "st mt ft jr messrs gén mme mm sr sra srta gral cnel tte doç org korg tümg tuğg yrd",
    # counts and references
    "nr vs approx ca vol fig",
    # Polish: godz(ina), ok(oło), gen(erał), tys(iące), płk, ppłk, mjr, kpt, por(ucznik), ul(ica),
    # al(eja), woj(ewództwo), pow(iat), gm(ina), wg, tzw, np, br (bieżącego roku),
    # ub (ubiegłego), tj, ds, św, min(ister), mln, mld, mlrd
    "godz ok tys płk ppłk mjr kpt por ppor sierż szer ul al woj pow gm wg tzw np br ub tj",
    "ds św min mln mld mlrd",
    # Russian / Ukrainian (one-letter г., с., м. are initials below): гг, ул, ген, тыс, тис, млн,
    # млрд, обл, пос, смт, вул, св, ст, см, проф, полк
    "гг ул ген тыс тис млн млрд обл пос смт вул св ст см проф полк",
    # German: Nr, bzw, ca, vgl, Hr, Fr, Str, Mio, Mrd, Abs, Bd
    "bzw vgl hr fr str mio mrd abs bd",
)
# "No." ends many a sentence ("she said no."); before a digit it is "number".
_BEFORE_DIGIT = _words("no nos")
# German ordinal dates ("am 7. Oktober"): a number and a dot before a month name go on.
_GERMAN_MONTHS = _words(
    "januar jänner februar märz april mai juni juli august september oktober november dezember"
)
# After an initialism such as "U.S." a capital usually goes on ("U.S. Army"); these words
# start a new sentence instead ("... imposed by the U.S. The talks ...").
_STARTERS = _words(
    "the a an it its he she they we this that these those in on at but and after before",
    "while when meanwhile however",
)
# Markup and links left in feed descriptions: a URL slug such as "fighting-escalates-after-
# breakdown-in-ceasefire-talks" is not a sentence of the lede. A tag may be cut off at the end.
_MARKUP = re.compile(r"<[a-zA-Z/!][^>]*(?:>|$)|\bhttps?://\S+|\bwww\.\S+")
_TRAILERS = re.compile(
    r"\s*(?:continue reading\W*|read full article at rt\.com|read more\W*)$", re.I
)


_FOLD_CHARS = re.compile("[" + "".join(re.escape(chr(c)) for c in _FOLD) + "]")


def _fold_char(m: re.Match[str]) -> str:
    return _FOLD[ord(m.group())]


def fold(text: str) -> str:
    """Return ``text`` with typographic quotes/dashes folded and case lowered."""
    # One regex scan finds the few characters to fold: str.translate with a dict looks up
    # every character in Python and costs ~10x more on a typical lede.
    low = _FOLD_CHARS.sub(_fold_char, text).lower() if not text.isascii() else text.lower()
    if "\u0103\u0142" in low:
        # Feeds decoded as cp1250 instead of UTF-8 turn Polish "ó" into "Ăł".
        low = low.replace("\u0103\u0142", "ó")
    return low


def _ends_sentence(text: str, m: re.Match[str]) -> bool:
    """True when the candidate full stop ``m`` (of ``_CANDIDATE``) really ends a sentence."""
    stop, closed, after = m.group(1), m.group(2), m.end()
    if stop is None or after >= len(text):
        return True
    if text[after].islower():
        return False  # any script: a lower-case word goes on ("tys. żołnierzy", "т.е. перемирие")
    if stop != "." or closed:
        return True
    before = _WORD_BEFORE.search(text, max(0, m.start() - 40), m.start())
    word = before.group(0).rstrip(".") if before else ""
    return not word or not _abbreviated(word, text, after)


def _abbreviated(word: str, text: str, after: int) -> bool:
    """True when ``word`` + "." is an abbreviation or initial that ``text[after:]`` continues."""
    nxt = _WORD_AFTER.match(text, after)
    following = nxt.group(0).lower() if nxt else ""
    if "." in word:
        # Initialisms: "U.S.", "z.B.", "m.in.", "т.е.", "EE.UU.", "d.h."
        if not all(part.isalpha() and len(part) <= 3 for part in word.split(".")):
            return False
        return not (word.isupper() and following in _STARTERS)
    low = word.lower()
    if low in _BEFORE_DIGIT:
        return text[after].isdigit()
    if word.isalpha():
        # One letter is an initial ("J. Smith", "M. Macron", "г. Донецк", "2023 r. Rosja").
        return len(word) == 1 or low in _ABBREVIATIONS
    return word.isdigit() and following in _GERMAN_MONTHS


def split_sentences(text: str) -> list[str]:
    """Split a lede into sentences (original case kept, trailers dropped)."""
    if "<" in text or "http" in text or "www." in text:
        text = _MARKUP.sub(" ", text)
    text = _TRAILERS.sub("", text.strip())
    if not text:
        return []
    out: list[str] = []
    start = 0
    for m in _CANDIDATE.finditer(text):
        if not _ends_sentence(text, m):
            continue
        stop = m.group(1)
        end = m.start() + (len(stop) + len(m.group(2)) if stop is not None else 0)
        piece = text[start:end].strip()
        if piece:
            out.append(piece)
        start = m.end()
    piece = text[start:].strip()
    if piece:
        out.append(piece)
    return out
