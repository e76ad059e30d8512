"""Parsing fetched feed bytes into normalised articles, off the event loop.

feedparser only ever sees the bytes (wrapped in a BytesIO) and the response headers: given a
``str`` it would fetch URLs, and given ``bytes`` it would try them as a file name first.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import feedparser
import feedparser.api

from core.models import Article
from workers.poller.fastparse import fast_parse
from workers.poller.normalise import (
    SUMMARY_MAX,
    TITLE_MAX,
    article_id,
    canonical_url,
    item_fragment,
    language_code,
    sane_published,
)
from workers.poller.plain_text import plain_text
from workers.poller.prepare import prepare_body

log = logging.getLogger(__name__)

_SY_PERIOD_S = {"hourly": 3600, "daily": 86400, "weekly": 604800, "monthly": 2592000,
                "yearly": 31536000}
MAX_ENTRIES = 500  # a feed is a window on recent news; more is a broken or hostile feed


@dataclass(frozen=True, slots=True)
class FeedInfo:
    """What normalisation needs to know about the feed an entry came from."""

    feed_id: str
    source: str
    language: str = ""
    region_hints: tuple[str, ...] = ()


@dataclass(slots=True)
class ParseOutcome:
    """Articles of one feed body, plus what the scheduler learns from it, or an error."""

    articles: list[Article] = field(default_factory=list)
    version: str = ""
    bozo: str | None = None
    error_kind: Literal["not_a_feed", "parse"] | None = None
    error: str | None = None
    ttl_s: float | None = None
    entry_times: list[float] = field(default_factory=list)
    title: str = ""
    seconds: float = 0.0
    truncated: bool = False  # entries past MAX_ENTRIES were cut before parsing
    skipped: int = 0  # entries that failed on their own and were left out
    skipped_error: str = ""  # why the first of them failed
    fast: bool = False  # read by the lxml fast path (fastparse.py), not feedparser


def _num(value: Any) -> float | None:
    try:
        return float(str(value).strip())
    except (TypeError, ValueError):
        return None


def _min_period(meta: Mapping[str, Any]) -> float | None:
    """Return the publisher's requested minimum poll period from <ttl> or sy:update*."""
    periods: list[float] = []
    ttl = _num(meta.get("ttl"))
    if ttl is not None and ttl > 0:
        periods.append(ttl * 60.0)
    period = _SY_PERIOD_S.get(str(meta.get("sy_updateperiod", "")).strip().lower())
    if period is not None:
        freq = _num(meta.get("sy_updatefrequency")) or 1.0
        periods.append(period / max(freq, 1.0))
    return max(periods) if periods else None


def _entry_text(entry: Mapping[str, Any]) -> str:
    summary = entry.get("summary")
    if not summary:
        content = entry.get("content") or []
        if content:
            summary = content[0].get("value")
    return str(summary or "")


def _base_url(meta: Mapping[str, Any], fallback: str) -> str:
    link = str(meta.get("link") or "")
    return link if link.startswith(("http://", "https://")) else fallback


def parse_feed(
    body: bytes, headers: Mapping[str, str], feed: FeedInfo, url: str, fetched: datetime,
    *, bounded: bool = False, fast: bool = True,
) -> ParseOutcome:
    """Parse ``body`` (with HTTP ``headers``) into normalised articles; never raises on content.

    ``bounded``: the caller has cut ``body`` to MAX_ENTRIES entries already (the poller does,
    before hashing items), so it is not scanned for the cap a second time. ``fast``: try the
    lxml fast path first (it declines what it cannot read exactly as feedparser does).
    """
    started = time.perf_counter()
    try:
        out = _parse(body, headers, feed, url, fetched, bounded=bounded, fast=fast)
    except Exception as exc:  # a feed must never kill the poll, whatever it holds
        out = ParseOutcome(error_kind="parse", error=f"parser failed: {exc!r}"[:500])
    out.seconds = time.perf_counter() - started
    return out


def _parse(
    body: bytes, headers: Mapping[str, str], feed: FeedInfo, url: str, fetched: datetime,
    *, bounded: bool, fast: bool,
) -> ParseOutcome:
    lowered = {k.lower(): v for k, v in headers.items()}
    # Bound and repair the bytes first: feedparser's cost follows the whole document.
    prepared = prepare_body(body, lowered, None if bounded else MAX_ENTRIES)
    # A well-formed feed costs lxml a quarter of what feedparser's SAX callbacks cost.
    parsed: Mapping[str, Any] | None = fast_parse(prepared.body, lowered) if fast else None
    took_fast = parsed is not None
    if parsed is None:
        parsed = feedparser.parse(
            io.BytesIO(prepared.body), response_headers=lowered,
            sanitize_html=False, resolve_relative_uris=False,  # we strip HTML anyway: 2x faster
        )
    out = ParseOutcome(version=str(parsed.get("version") or ""), truncated=prepared.truncated,
                       fast=took_fast)
    if parsed.get("bozo"):
        bozo_exc = parsed.get("bozo_exception")
        out.bozo = f"{type(bozo_exc).__name__}: {bozo_exc}" if bozo_exc else "ill-formed"
    meta = parsed.get("feed", {})
    out.title = plain_text(meta.get("title"), TITLE_MAX)
    out.ttl_s = _min_period(meta)
    entries = parsed.get("entries", [])
    if not entries:
        if not out.version:
            ctype = lowered.get("content-type", "?")
            out.error_kind = "not_a_feed"
            out.error = f"not an RSS/Atom feed (content-type {ctype}; {out.bozo or 'no feed'})"
        elif out.bozo:
            out.error_kind = "parse"
            out.error = f"feed has no readable entries: {out.bozo}"
        return out
    base = _base_url(meta, lowered.get("content-location") or url)
    declared = language_code(meta.get("language")) or language_code(lowered.get("content-language"))
    for entry in entries[:MAX_ENTRIES]:
        try:
            article = _article(entry, feed, base, declared, fetched=fetched, out=out)
        except Exception as exc:  # one broken entry must not cost the feed its others
            out.skipped += 1
            out.skipped_error = out.skipped_error or f"{type(exc).__name__}: {exc}"[:300]
            continue
        if article is not None:
            out.articles.append(article)
    if not out.articles and (out.bozo or out.skipped):
        out.error_kind = "parse"
        why = out.bozo or f"{out.skipped} entries failed; first: {out.skipped_error}"
        out.error = f"ill-formed feed with no usable entries: {why}"
    return out


_NOT_ARTICLE_RELS = frozenset({"enclosure", "self", "edit", "replies", "license", "hub",
                               "payment", "related", "via"})
_NOT_OTHER_RELS = _NOT_ARTICLE_RELS | {"alternate"}  # alternate links are taken first


def _links(entry: Mapping[str, Any]) -> list[str]:
    """Return the entry's candidate article links: its main link, then other page links."""
    out = [str(entry.get("link") or "")]
    others = [ln for ln in entry.get("links") or [] if isinstance(ln, Mapping)]
    out += [str(ln.get("href") or "") for ln in others if ln.get("rel", "alternate") == "alternate"]
    out += [str(ln.get("href") or "") for ln in others
            if ln.get("rel", "alternate") not in _NOT_OTHER_RELS]
    return [link.strip() for link in out if link.strip()]


def _article_url(entry: Mapping[str, Any], base: str, guid: str) -> str:
    """Return the first http(s) link of the entry, else its guid when that is one, else ""."""
    for link in _links(entry):
        url = canonical_url(link, base, keep_fragment=bool(item_fragment(link, guid)))
        if url:
            return url
    if guid.startswith(("http://", "https://")):
        return canonical_url(guid)
    return ""


def _article(
    entry: Mapping[str, Any], feed: FeedInfo, base: str, declared: str, *, fetched: datetime,
    out: ParseOutcome,
) -> Article | None:
    guid = str(entry.get("id") or "").strip()
    url = _article_url(entry, base, guid)
    title = plain_text(entry.get("title"), TITLE_MAX)
    summary = plain_text(_entry_text(entry), SUMMARY_MAX)
    if not (title or summary) or not (url or guid):
        return None  # nothing a reader could use or we could dedupe on
    # dict.get: feedparser's own .get maps missing keys to others with a DeprecationWarning.
    raw = dict(entry) if not isinstance(entry, dict) else entry
    published = sane_published(
        dict.get(raw, "published_parsed") or dict.get(raw, "updated_parsed"),
        dict.get(raw, "published") or dict.get(raw, "updated"), fetched,
    )
    if published != fetched:
        out.entry_times.append(published.timestamp())
    # The declared language only: the classifier decides from the text (the feed's is a prior).
    lang = feed.language or language_code(entry.get("language")) or declared
    return Article(
        id=article_id(url or None, guid or None, feed.feed_id, f"{title}|{summary[:200]}"),
        feed_id=feed.feed_id, source=feed.source, url=url, title=title or summary[:120],
        summary=summary, lang=lang, published=published, fetched=fetched,
        region_hints=feed.region_hints,
    )


def skip_libxml2_probe() -> None:
    """Stop feedparser trying to import the absent ``drv_libxml2`` SAX driver on every parse.

    feedparser asks xml.sax for that driver first; the failed import walks sys.path each
    time, ~25% of parsing a short feed. expat, which it falls back to, is what parses anyway.
    """
    feedparser.api.PREFERRED_XML_PARSERS = []
