"""OPML import and export of feed lists."""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

from yarl import URL

from core.feeds import FeedConfig


class OPMLError(ValueError):
    """An OPML file that cannot be read; the message names the file and the problem."""


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:48]


def feed_id_for(name: str, url: str, taken: set[str]) -> str:
    """Return a readable id unique within ``taken``: a slug of the name, else of the host."""
    base = _slug(name) or _slug(URL(url).host or "") or "feed"
    fid = base
    if fid in taken:
        fid = f"{base}-{hashlib.sha1(url.encode()).hexdigest()[:6]}"
    taken.add(fid)
    return fid


def read_opml(path: Path, taken: Iterable[str] = ()) -> list[FeedConfig]:
    """Return the feeds of an OPML file (every outline with an xmlUrl, nested or not)."""
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise OPMLError(f"{path}: cannot read OPML: {exc}") from None
    if root.tag.lower() != "opml":
        raise OPMLError(f"{path}: not OPML (root element is <{root.tag}>)")
    used = set(taken)
    feeds: list[FeedConfig] = []
    seen_urls: set[str] = set()
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if not url or url in seen_urls:
            continue
        seen_urls.add(url)
        name = (outline.get("title") or outline.get("text") or URL(url).host or url).strip()
        hints = tuple(h.strip() for h in (outline.get("category") or "").split(",") if h.strip())
        try:
            feeds.append(FeedConfig(
                id=feed_id_for(name, url, used), url=url, name=name,
                language=outline.get("language", ""), region_hints=hints,
            ))
        except ValueError as exc:
            raise OPMLError(f"{path}: outline {name!r} has a bad feed: {exc}") from None
    return feeds


def write_opml(feeds: Iterable[FeedConfig], title: str = "ceasefire-watch feeds") -> str:
    """Return an OPML 2.0 document listing ``feeds``."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    body = ET.SubElement(root, "body")
    for feed in feeds:
        attrs = {"type": "rss", "text": feed.name, "title": feed.name, "xmlUrl": feed.url}
        if feed.language:
            attrs["language"] = feed.language
        if feed.region_hints:
            attrs["category"] = ",".join(feed.region_hints)
        ET.SubElement(body, "outline", attrs)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode")
