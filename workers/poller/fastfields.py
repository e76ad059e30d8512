"""Feed fields read from an lxml tree exactly as feedparser's handlers would set them.

Each function mirrors one of feedparser's ``_start_*``/``_end_*`` handlers (or its ``pop``) for
the fields parse.py reads, and raises :class:`Decline` wherever a document could take a path
not mirrored here; :mod:`workers.poller.fastparse` then leaves the body to feedparser.
"""

from __future__ import annotations

import contextlib
import functools
import re
from typing import Any

from feedparser.datetimes import _parse_date
from feedparser.html import _cp1252
from feedparser.mixin import _FeedParserMixin
from feedparser.urls import _urljoin
from lxml import etree

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
# The C1 range _cp1252 maps from: a text without any (nearly all) needs no translate, which
# with a dict table costs a lookup per character and was a sixth of a fast parse.
_C1 = re.compile("[\x80-\x9f]")
KNOWN: dict[str, str] = {uri.lower(): p for uri, p in _FeedParserMixin.namespaces.items()}
CANONICAL = frozenset(p for p in KNOWN.values() if p)
_AMP_REF = re.compile(r"&([A-Za-z0-9_]+);")
_HTML_TYPES = frozenset({"text/plain", "text/html"})  # xhtml escapes its text: declined
# feedparser handler names (prefix_localname, lowercased) of the fields read downstream.
TITLE = frozenset({"title", "dc_title", "media_title"})
_SUMMARY = frozenset({"description", "summary", "abstract", "dc_description",
                      "media_description", "itunes_summary"})
CONTENT = frozenset({"content", "content_encoded", "fullitem", "body", "xhtml_body"})
_PUBLISHED = frozenset({"published", "issued", "pubdate", "dcterms_issued"})
_UPDATED = frozenset({"updated", "modified", "lastbuilddate", "dc_date", "dcterms_modified"})
LANGUAGE = frozenset({"language", "dc_language"})
LINKISH = frozenset({"link", "guid", "id"})
FIELDS = TITLE | _SUMMARY | CONTENT | _PUBLISHED | _UPDATED | LANGUAGE | LINKISH
# Elements that switch feedparser's context (where fields land): declined unless mirrored.
CONTEXTS = frozenset({"item", "entry", "channel", "feed", "feedinfo", "image", "textinput",
                       "source"})


class Decline(Exception):
    """The document may take a feedparser path the fast path does not mirror."""


def element_name(el: etree._Element) -> str:
    """Return feedparser's name for ``el``: its known prefix (or the document's) + local name."""
    return _name(str(el.tag), el.prefix)


@functools.lru_cache(maxsize=4096)  # a few dozen distinct tags per feed, thousands of elements
def _name(tag: str, doc_prefix: str | None) -> str:
    uri, _, local = tag[1:].rpartition("}") if tag.startswith("{") else ("", "", tag)
    uri = uri.lower()
    if "backend.userland.com/rss" in uri:
        uri = "http://backend.userland.com/rss"
    prefix = KNOWN.get(uri)
    if prefix is None:
        prefix = doc_prefix if uri else ""
    local = local.lower()
    return f"{prefix.lower()}_{local}" if prefix else local


def attributes(el: etree._Element) -> dict[str, str]:
    """Return the element's attributes as feedparser's strict parser names them."""
    out: dict[str, str] = {}
    bare: dict[str, str] = {}  # expat also reports every attribute under its local name
    for key, value in el.attrib.items():
        qname = etree.QName(key)
        prefix = KNOWN.get((qname.namespace or "").lower(), "") if qname.namespace else ""
        name = (f"{prefix}:{qname.localname}" if prefix else qname.localname).lower()
        out[name] = value.lower() if name in ("rel", "type") else value
        local = qname.localname.lower()
        if bare.setdefault(local, value) != value:
            raise Decline(f"two {local} attributes")
    for local, value in bare.items():
        out[local] = value.lower() if local in ("rel", "type") else value
    return out


def _fix(text: str) -> str:
    """Apply feedparser's repairs to popped text: UTF-8 read as Latin-1, then cp1252 codes."""
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        text = text.encode("iso-8859-1").decode("utf-8")
    return text.translate(_cp1252) if _C1.search(text) else text


def text_of(el: etree._Element, *, uri: bool = False) -> str:
    """Return the element's text as feedparser pops it; decline when it holds any markup."""
    if len(el):
        raise Decline("markup, comment or PI inside a text field")
    text = (el.text or "").strip()
    if uri and text:
        text = _urljoin("", text)
    return _fix(text)


def content_type(el: etree._Element, default: str) -> str:
    """Return the mapped content type; decline for those feedparser would base64-decode."""
    attrs = attributes(el)
    if "mode" in attrs:
        raise Decline("content mode attribute")
    ctype = attrs.get("type", default).lower()
    ctype = {"text": "text/plain", "plain": "text/plain", "html": "text/html"}.get(ctype, ctype)
    if ctype not in _HTML_TYPES:
        raise Decline(f"content type {ctype}")
    return ctype


def _enforce_href(attrs: dict[str, str]) -> dict[str, str]:
    """Mirror feedparser's ``_enforce_href``: ``url`` or ``uri`` becomes ``href``."""
    href = attrs.get("url", attrs.get("uri", attrs.get("href")))
    if href:
        attrs.pop("url", None)
        attrs.pop("uri", None)
        attrs["href"] = href
    return attrs


def read_link(el: etree._Element, context: dict[str, Any], *, in_entry: bool) -> None:
    """Mirror feedparser's ``_start_link``/``pop('link')`` for one link element."""
    attrs = attributes(el)
    rel = attrs.setdefault("rel", "alternate")
    attrs.setdefault("type", "application/atom+xml" if rel == "self" else "text/html")
    attrs = _enforce_href(attrs)
    if "href" in attrs:
        attrs["href"] = _urljoin("", attrs["href"])
    links: list[dict[str, str]] = context.setdefault("links", [])
    links.append(attrs)
    if "href" in attrs:
        if rel == "alternate" and attrs["type"] in ("text/html", "application/xhtml+xml", "html",
                                                     "xhtml"):
            context["link"] = attrs["href"]
        return
    value = text_of(el, uri=True)
    if in_entry:
        value = value.replace("&amp;", "&")
    value = _AMP_REF.sub(r"&\g<1>", value)
    context["link"] = value
    if value or not in_entry:
        links[-1]["href"] = value


def read_guid(el: etree._Element, context: dict[str, Any]) -> None:
    """Mirror ``_start_guid``/``_end_guid``: the id, and the link when it is a permalink."""
    is_link = attributes(el).get("ispermalink", "true") == "true"
    value = text_of(el, uri=is_link)
    context["id"] = value
    if is_link:
        context.setdefault("link", value)


def read_title(h: str, el: etree._Element, context: dict[str, Any], state: list[bool]) -> None:
    """Mirror feedparser's title rule: the first non-empty title wins; ``state[0]``: one did.

    A media:title does not count: ``_end_media_title`` restores the depth that marks it.
    """
    content_type(el, "text/plain")
    value = text_of(el)
    if state[0]:
        return
    context["title"] = value
    if value and h != "media_title":
        state[0] = True


def read_entry(item: etree._Element) -> dict[str, Any]:
    """Return one entry as feedparser's would read (the keys parse.py uses)."""
    entry: dict[str, Any] = {}
    about = item.get(f"{{{RDF}}}about")
    if about:
        entry["id"] = about
    kids = [(element_name(c), c) for c in item if isinstance(c.tag, str)]
    _check_nested(kids)
    titled = [False]
    for h, c in kids:
        if h in CONTEXTS:
            if h != "source" or len(c):
                raise Decline(f"{h} inside an entry")
            titled[0] = False  # feedparser's _start_source resets the title depth
        elif h == "link":
            read_link(c, entry, in_entry=True)
        elif h == "enclosure":  # feedparser lists it among the links (parse.py skips them)
            attrs = _enforce_href(attributes(c))
            attrs["rel"] = "enclosure"
            entry.setdefault("links", []).append(attrs)
        elif h in ("guid", "id"):
            read_guid(c, entry)
        elif h in TITLE:
            read_title(h, c, entry, titled)
        elif h in _PUBLISHED:
            entry["published"] = value = text_of(c)
            entry["published_parsed"] = _parse_date(value)
        elif h in _UPDATED:
            entry["updated"] = value = text_of(c)
            entry["updated_parsed"] = _parse_date(value)
        elif h in LANGUAGE:
            entry["language"] = text_of(c)
    _read_texts(item, entry)
    return entry


def _read_texts(item: etree._Element, entry: dict[str, Any]) -> None:
    """Mirror feedparser on the entry's descriptions and contents, nested ones included.

    A description when the entry has a summary but no content yet becomes content; content
    copies itself to an absent summary without a depth; a description is kept when no
    summary has a depth yet or it is no deeper than the one kept (``property_depth_map``).
    """
    has_content = False
    depth_kept: int | None = None

    def visit(parent: etree._Element, depth: int) -> None:
        nonlocal has_content, depth_kept
        for el in parent:
            if not isinstance(el.tag, str):
                continue
            h = element_name(el)
            as_content = h in CONTENT or (h in _SUMMARY and h != "abstract"
                                          and "summary" in entry and not has_content)
            if as_content:
                if h in ("body", "xhtml_body"):
                    raise Decline("xhtml body")
                ctype = content_type(el, "text/html" if h in ("content_encoded", "fullitem")
                                     else "text/plain")
                value = text_of(el)
                has_content = True
                entry.setdefault("content", []).append({"type": ctype, "value": value})
                entry.setdefault("summary", value)
            elif h in _SUMMARY:
                content_type(el, "text/html" if h in ("description", "dc_description",
                                                      "media_description") else "text/plain")
                value = text_of(el)
                if depth_kept is None or depth <= depth_kept:
                    entry["summary"], depth_kept = value, depth
            else:
                visit(el, depth + 1)

    visit(item, 1)


def _check_nested(kids: list[tuple[str, etree._Element]]) -> None:
    """Decline nested fields feedparser could take, but descriptions (see _read_texts).

    A nested title or language never beats a direct one (feedparser keeps the shallowest).
    """
    direct = {h for h, _ in kids}
    for _, child in kids:
        for el in child.iterdescendants():
            if not isinstance(el.tag, str):
                continue
            h = element_name(el)
            if (h in TITLE and direct & TITLE) or (h in LANGUAGE and direct & LANGUAGE):
                continue
            if h in _SUMMARY or h in CONTENT:
                continue
            if h in FIELDS or h in CONTEXTS:
                raise Decline(f"nested {h} in an entry")
