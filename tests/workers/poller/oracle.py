"""An independent reading of well-formed feeds with ElementTree: the expected items."""

from __future__ import annotations

import email.utils
import html
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class ExpectedItem:
    """Title, link and date of one item as ElementTree reads them."""

    title: str
    link: str
    date: datetime | None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(el: ET.Element, name: str) -> ET.Element | None:
    for c in el:
        if _local(c.tag) == name:
            return c
    return None


def _text(el: ET.Element | None) -> str:
    return "" if el is None else "".join(el.itertext())


def _date(value: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _unmojibake(text: str) -> str:
    """Undo UTF-8 read as Latin-1 ("corrupciÃ³n"), which feedparser repairs too."""
    if "Ã" not in text and "Â" not in text:
        return text
    try:
        return text.encode("cp1252").decode("utf-8")
    except UnicodeError:
        return text


def fold(text: str) -> str:
    """Decode entities, drop tags, fold whitespace: a title as a reader sees it."""
    text = _unmojibake(html.unescape(text))
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).strip()


def expected_items(body: bytes) -> list[ExpectedItem]:
    """Return the items of a well-formed RSS/RDF/Atom document."""
    root = ET.fromstring(body)
    out = []
    for el in root.iter():
        name = _local(el.tag)
        if name not in ("item", "entry"):
            continue
        link = _text(_child(el, "link")).strip()
        if name == "entry":
            for c in el:
                if _local(c.tag) == "link" and c.get("rel", "alternate") == "alternate":
                    link = c.get("href", "")
                    break
        date_el = next((_child(el, n) for n in ("pubDate", "date", "published", "updated")
                        if _child(el, n) is not None), None)
        out.append(ExpectedItem(fold(_text(_child(el, "title"))), link, _date(_text(date_el))))
    return out
