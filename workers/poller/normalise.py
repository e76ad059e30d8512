"""Normalising feed entries: canonical URLs, stable ids, plain text, sane dates, a language."""

from __future__ import annotations

import calendar
import email.utils
import hashlib
import html
import re
import time
import unicodedata
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin

from yarl import URL

TITLE_MAX = 300
SUMMARY_MAX = 1500
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
FUTURE_SKEW = timedelta(minutes=10)

# Query parameters that only track the reader: stripping them makes one story one URL.
_TRACKING_EXACT = frozenset({
    "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
    "igshid", "mc_cid", "mc_eid", "_ga", "_gl", "ocid", "cmpid", "emc", "partner", "ito",
    "ns_mchannel", "ns_source", "ns_campaign", "ns_linkname", "ns_fee", "rss", "wt_mc", "wt.mc_id",
    "ref_src", "ref", "source", "smid", "smtyp", "mkt_tok", "spm", "guccounter",
    "guce_referrer", "guce_referrer_sig", "wprss", "xtor",
})
_TRACKING_PREFIXES = ("utm_", "mtm_", "pk_", "hsa_", "at_", "__twitter", "_hs")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _is_tracking(name: str) -> bool:
    low = name.lower()
    return low in _TRACKING_EXACT or low.startswith(_TRACKING_PREFIXES)


def canonical_url(url: str, base: str | None = None) -> str:
    """Return ``url`` absolute, host lowercased, fragment and tracking parameters dropped."""
    raw = url.strip()
    if base:
        raw = urljoin(base, raw)
    try:
        parsed = URL(raw)
    except ValueError:
        return raw
    if not parsed.is_absolute() or parsed.scheme not in ("http", "https"):
        return raw
    kept = [(k, v) for k, v in parse_qsl(parsed.raw_query_string, keep_blank_values=True)
            if not _is_tracking(k)]
    port = parsed.explicit_port
    host = (parsed.host or "").lower().rstrip(".")
    canon = URL.build(
        scheme=parsed.scheme,
        host=host,
        port=None if port == _DEFAULT_PORTS.get(parsed.scheme) else port,
        path=parsed.raw_path or "/",
        query_string=urlencode(kept),
        encoded=True,
    )
    return str(canon)


def article_id(canonical: str | None, guid: str | None, feed_id: str, fallback: str) -> str:
    """Return a stable id: hash of the canonical URL, else of the GUID (scoped to the feed)."""
    if canonical:
        key = "url:" + canonical
    elif guid:
        key = f"guid:{feed_id}:{guid.strip()}"
    else:
        key = f"text:{feed_id}:{fallback}"
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML fragment, with spaces where block elements break."""

    _BLOCK = frozenset({"p", "br", "div", "li", "ul", "ol", "tr", "td", "th", "h1", "h2", "h3",
                        "h4", "h5", "h6", "blockquote", "section", "article", "figure", "hr"})
    _SKIP = frozenset({"script", "style", "noscript", "iframe", "template", "svg"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCK:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BLOCK:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


_WS = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def plain_text(value: str | None, limit: int) -> str:
    """Return ``value`` as plain text: tags stripped, entities decoded, spaces folded, capped."""
    if not value:
        return ""
    text = value
    if "<" in text or "&" in text:
        parser = _TextExtractor()
        try:
            parser.feed(text)
            parser.close()
            text = "".join(parser.parts)
        except (AssertionError, ValueError):  # pathological markup: fall back to unescape
            text = html.unescape(text)
        # Entities double-escaped upstream ("&amp;amp;") survive one pass: decode once more.
        if "&" in text:
            text = html.unescape(text)
    text = _WS.sub(" ", _CONTROL.sub(" ", unicodedata.normalize("NFC", text))).strip()
    if len(text) > limit:
        cut = text[: limit - 1]
        space = cut.rfind(" ")
        text = (cut[:space] if space > limit * 0.6 else cut).rstrip(" ,;:-") + "…"
    return text


# Month and day names of localised RFC 822 dates ("mer, 16 nov 2022", "Seg, 24 Set 2018").
_MONTHS = {
    "gen": "Jan", "genn": "Jan", "ene": "Jan", "jan": "Jan", "janv": "Jan", "fev": "Feb",
    "fév": "Feb", "févr": "Feb", "feb": "Feb", "febr": "Feb", "mar": "Mar", "mars": "Mar",
    "mär": "Mar", "abr": "Apr", "apr": "Apr", "avr": "Apr", "mag": "May", "mai": "May",
    "may": "May", "mayo": "May", "maio": "May", "giu": "Jun", "jun": "Jun", "juin": "Jun",
    "lug": "Jul", "jul": "Jul", "juil": "Jul", "ago": "Aug", "aug": "Aug", "août": "Aug",
    "aou": "Aug", "set": "Sep", "sep": "Sep", "sept": "Sep", "ott": "Oct", "oct": "Oct",
    "out": "Oct", "okt": "Oct", "nov": "Nov", "dic": "Dec", "dez": "Dec", "dec": "Dec",
    "déc": "Dec", "dici": "Dec",
}
_LOCAL_DATE = re.compile(
    r"^\s*(?:[^\W\d]+\.?,?\s+)?(\d{1,2})\s+([^\W\d]+)\.?\s+(\d{2,4})\s+(\d{1,2}:\d{2}(?::\d{2})?)"
    r"\s*(.*)$"
)


def parse_loose_date(value: str | None) -> datetime | None:
    """Parse an RFC 822 date with localised day/month names; None when it is not one."""
    if not value:
        return None
    m = _LOCAL_DATE.match(value)
    if not m:
        return None
    day, month, year, clock, zone = m.groups()
    eng = _MONTHS.get(month.lower()[:4]) or _MONTHS.get(month.lower()[:3])
    if eng is None:
        return None
    try:
        return email.utils.parsedate_to_datetime(f"{day} {eng} {year} {clock} {zone or 'GMT'}")
    except (TypeError, ValueError):
        return None


def sane_published(
    parsed: time.struct_time | None, raw: str | None, fetched: datetime
) -> datetime:
    """Return the entry's publication time in UTC, or ``fetched`` when missing or absurd."""
    when: datetime | None = None
    if parsed is not None:
        try:
            when = datetime.fromtimestamp(calendar.timegm(parsed), UTC)
        except (OverflowError, ValueError, OSError):
            when = None
    if when is None:
        when = parse_loose_date(raw)
    if when is None:
        return fetched
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    when = when.astimezone(UTC)
    if when < EARLIEST or when > fetched + FUTURE_SKEW:
        return fetched
    return when


def language_code(value: str | None) -> str:
    """Return the primary subtag of a language tag ("en-US" -> "en"), lowercased, or ""."""
    if not value:
        return ""
    code = re.split(r"[-_\s,;]", value.strip(), maxsplit=1)[0].lower()
    return code if re.fullmatch(r"[a-z]{2,3}", code) else ""


_STOPWORDS = {
    "en": {"the", "and", "of", "to", "in", "is", "for", "on", "with", "that", "said", "after"},
    "fr": {"le", "la", "les", "des", "et", "du", "une", "est", "dans", "pour", "sur", "qui"},
    "es": {"el", "la", "los", "las", "del", "y", "en", "que", "por", "con", "una", "para"},
    "pt": {"o", "os", "as", "do", "da", "dos", "em", "que", "com", "uma", "para", "não"},
    "it": {"il", "lo", "gli", "della", "di", "che", "e", "per", "con", "una", "sono", "nel"},
    "de": {"der", "die", "das", "und", "ist", "mit", "den", "von", "für", "auf", "nicht", "ein"},
    "pl": {"i", "w", "na", "się", "z", "że", "do", "nie", "jest", "przez", "po", "oraz"},
    "tr": {"ve", "bir", "bu", "ile", "için", "da", "de", "olarak", "sonra", "göre", "ama", "mi"},
}
_UK_LETTERS = frozenset("іїєґІЇЄҐ")


def guess_language(text: str) -> str:
    """Guess a language code from script and common words; "" when unsure."""
    sample = text[:600]
    counts = {"cyr": 0, "arab": 0, "latin": 0, "hebr": 0, "greek": 0}
    for ch in sample:
        o = ord(ch)
        if 0x0400 <= o <= 0x04FF:
            counts["cyr"] += 1
        elif 0x0600 <= o <= 0x06FF:
            counts["arab"] += 1
        elif 0x0590 <= o <= 0x05FF:
            counts["hebr"] += 1
        elif 0x0370 <= o <= 0x03FF:
            counts["greek"] += 1
        elif ch.isalpha() and o < 0x0250:
            counts["latin"] += 1
    script = max(counts, key=lambda k: counts[k])
    if counts[script] < 8:
        return ""
    if script == "cyr":
        if any(c in _UK_LETTERS for c in sample):
            return "uk"
        # Without і/ї/є/ґ, Russian is by far the likeliest Cyrillic language of our feeds.
        return "ru"
    if script != "latin":
        return {"arab": "ar", "hebr": "he", "greek": "el"}[script]
    words = re.findall(r"[^\W\d_]+", sample.lower())
    scores = {lang: sum(w in stop for w in words) for lang, stop in _STOPWORDS.items()}
    best = max(scores, key=lambda k: scores[k])
    ranked = sorted(scores.values(), reverse=True)
    return best if ranked[0] >= 2 and ranked[0] > ranked[1] else ""
