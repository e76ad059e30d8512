"""Normalising feed entries: canonical URLs, stable ids, plain text, sane dates, language tags.

The language a feed declares is only passed on, as the classifier's prior: the classifier
decides an item's language from its text (workers/classifier/langdetect.py).
"""

from __future__ import annotations

import calendar
import email.utils
import hashlib
import re
import time
from datetime import UTC, datetime, timedelta
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
# Longer links are junk or an attack (a 7 MB <link>); browsers and proxies balk beyond this.
MAX_URL_CHARS = 2048


def _is_tracking(name: str) -> bool:
    low = name.lower()
    return low in _TRACKING_EXACT or low.startswith(_TRACKING_PREFIXES)


_ABSOLUTE = re.compile(r"https?://[^/?#]")


def _plain_absolute(url: str) -> bool:
    """Whether urljoin would give ``url`` back as it is, but for an empty "?" or "#".

    An absolute http(s) URL with a host, in printable ASCII without brackets: urljoin only
    splits and joins it again (half the cost of canonical_url), and the empty "?" or "#"
    it drops, canonical_url drops too. Anything else it may change (tabs and newlines
    removed, a scheme lower-cased, a bad IPv6 host refused) goes through it.
    """
    return (_ABSOLUTE.match(url) is not None and url.isascii() and url.isprintable()
            and "[" not in url)


def canonical_url(url: str, base: str | None = None, *, keep_fragment: bool = False) -> str:
    """Return ``url`` as a canonical absolute http(s) URL, or "" when it cannot be one.

    Host lowercased, default port, tracking parameters and (unless ``keep_fragment``) the
    fragment dropped. Other schemes (``javascript:``, ``data:``, ``file:`` ...), links that
    do not parse and links longer than MAX_URL_CHARS all give "": a reader must never be
    handed them, and a feed item must never fail because of its link.
    """
    raw = url.strip()
    if not raw or len(raw) > MAX_URL_CHARS:
        return ""
    try:
        if base and not _plain_absolute(raw):
            raw = urljoin(base, raw)
        parsed = URL(raw)
        if not parsed.is_absolute() or parsed.scheme not in ("http", "https"):
            return ""
        host = (parsed.host or "").lower().rstrip(".")
        if not host:
            return ""
        kept = [(k, v) for k, v in parse_qsl(parsed.raw_query_string, keep_blank_values=True)
                if not _is_tracking(k)]
        port = parsed.explicit_port
        canon = str(URL.build(
            scheme=parsed.scheme,
            host=host,
            port=None if port == _DEFAULT_PORTS.get(parsed.scheme) else port,
            path=parsed.raw_path or "/",
            query_string=urlencode(kept),
            fragment=parsed.raw_fragment if keep_fragment else "",
            encoded=True,
        ))
    except ValueError:  # also UnicodeError: "http://xn--/", "http://[::1/", a bad port ...
        return ""
    return canon if len(canon) <= MAX_URL_CHARS else ""


# Fragments that point into the page chrome or carry tracking, not at one post of it.
_NOISE_FRAGMENTS = frozenset({"", "comments", "comment", "respond", "disqus_thread", "more",
                              "top", "content", "main", "main-content", "article"})


def item_fragment(link: str, guid: str) -> str:
    """Return the fragment of ``link`` when it names one post of a page (a live blog), else "".

    Live blogs link every post to ``page#post-N`` with distinct guids: dropping the fragment
    would make them one article. A guid that is the page itself (no fragment), no guid at
    all, or a fragment that is tracking (``#ref=rss``) or page chrome keeps it dropped, so the
    same story from two feeds of an outlet stays one id.
    """
    _, sep, frag = link.strip().partition("#")
    guid = guid.strip()
    if not sep or not guid or "=" in frag or frag.lower() in _NOISE_FRAGMENTS:
        return ""
    if frag.lower().startswith("more-"):  # WordPress "read more" anchors
        return ""
    if "#" not in guid and canonical_url(guid) == canonical_url(link):
        return ""
    return frag


def article_id(canonical: str | None, guid: str | None, feed_id: str, fallback: str) -> str:
    """Return a stable id: hash of the canonical URL, else of the GUID (scoped to the feed)."""
    if canonical:
        key = "url:" + canonical
    elif guid:
        key = f"guid:{feed_id}:{guid.strip()}"
    else:
        key = f"text:{feed_id}:{fallback}"
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


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
