"""A fast path for well-formed feeds: lxml builds what feedparser would, or declines.

feedparser spends ~80% of a first poll in Python SAX callbacks; lxml builds the tree in C.
:func:`fast_parse` returns the parts of :func:`feedparser.parse`'s result that parse.py reads
(version, the feed's title/link/language/ttl/sy:*, each entry's id, links, title, summary,
content, dates and language), computed with feedparser's own rules and helpers (encoding
detection, date parsing, URI joining, cp1252 and mojibake repair). Whenever the document could
make feedparser take a path not mirrored here (not well-formed, a DOCTYPE, xml:base, nested or
repeated fields, markup inside a text field, base64 content ...) it returns None and the
caller runs feedparser as before: declining is always safe, guessing never is.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from feedparser.encodings import convert_to_utf8
from lxml import etree

from workers.poller.fastfields import (
    CANONICAL,
    CONTENT,
    CONTEXTS,
    FIELDS,
    KNOWN,
    LANGUAGE,
    LINKISH,
    TITLE,
    Decline,
    attributes,
    element_name,
    read_entry,
    read_guid,
    read_link,
    read_title,
    text_of,
)

log = logging.getLogger(__name__)
_ATOM = "http://www.w3.org/2005/atom"
_RSS1 = "http://purl.org/rss/1.0/"
_RSS090 = "http://my.netscape.com/rdf/simple/0.9/"
_XMLNS = re.compile(rb"""xmlns(?::([\w.-]+))?\s*=\s*["']([^"']*)["']""")
_FEED_META = frozenset({"ttl", "sy_updateperiod", "sy_updatefrequency"})
_IMAGE_KIDS = frozenset({"title", "link", "description", "url", "href", "width", "height"})
_TEXTINPUT_KIDS = frozenset({"title", "link", "description", "name"})
_RSS_VERSIONS = {"0.91": "rss091u", "0.92": "rss092", "0.93": "rss093", "0.94": "rss094"}
_ATOM_VERSIONS = {"0.1": "atom01", "0.2": "atom02", "0.3": "atom03"}
_PARSER_OPTIONS: dict[str, Any] = {
    "resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False,
    "remove_blank_text": False, "encoding": "utf-8",
}


def _version(root: etree._Element, handler: str, root_decls: list[tuple[str, str]]) -> str:
    """Return the version feedparser gives (first namespace declared, then the root's)."""
    version = ""
    for prefix, uri in root_decls:
        low = uri.lower()
        if not prefix and low == _RSS090:
            version = "rss090"
        elif low == _RSS1:
            version = "rss10"
        elif low == _ATOM:
            version = "atom10"
        if version:
            break
    attr = attributes(root).get("version", "")
    if handler == "rss":
        if not version.startswith("rss"):
            version = _RSS_VERSIONS.get(attr) or ("rss20" if attr.startswith("2.") else "rss")
    elif handler == "feed":
        version = version or _ATOM_VERSIONS.get(attr, "atom")
    elif handler != "rdf_rdf":
        raise Decline(f"root {handler}")
    if not version:
        raise Decline("RDF without the RSS 1.0 namespace on its root")
    return version


def _declarations(data: bytes, root_at: int) -> list[tuple[str, str]]:
    """Check every namespace declaration in ``data``; return the root's, in order.

    Declines the bindings that make feedparser name elements otherwise than by prefix and
    URI (see :func:`element_name`): a prefix rebound, an unknown URI under two prefixes, or a
    feedparser prefix ("dc", "content" ...) bound to another namespace it knows while its own
    namespace is used too.
    """
    declared: dict[str, str] = {}
    bound: dict[str, str] = {}
    renamed: set[str] = set()  # feedparser prefixes the document binds to another namespace
    used: set[str] = set()  # feedparser prefixes of the known namespaces the document uses
    root_end = data.find(b">", root_at)
    root_decls: list[tuple[str, str]] = []
    for m in _XMLNS.finditer(data):
        prefix = (m.group(1) or b"").decode("ascii", "replace")
        uri = m.group(2).decode("utf-8", "replace")
        if m.start() < root_end:
            root_decls.append((prefix, uri))
        if declared.setdefault(prefix, uri) != uri:
            raise Decline(f"prefix {prefix} bound twice")
        known = KNOWN.get(uri.lower())
        if known is None and bound.setdefault(uri, prefix) != prefix:
            raise Decline(f"namespace {uri} under two prefixes")
        if known is not None and prefix in CANONICAL and known != prefix:
            renamed.add(prefix)
        if known is not None:
            used.add(known)
    if renamed & used:  # feedparser would rename that namespace's elements after the prefix
        raise Decline(f"prefixes {sorted(renamed & used)} bound to other known namespaces")
    return root_decls


def _feed_scope(
    root: etree._Element, handler: str,
) -> tuple[list[etree._Element], list[tuple[str, etree._Element, bool]]]:
    """Return the entries, and the (handler, element, direct) of the feed's own elements."""
    entries: list[etree._Element] = []
    feed: list[tuple[str, etree._Element, bool]] = []
    channel = root if handler == "feed" else None

    def walk(parent: etree._Element, in_feed: bool, depth: int) -> None:
        nonlocal channel
        for el in parent:
            if not isinstance(el.tag, str):
                continue
            h = element_name(el)
            if h in ("item", "entry"):
                entries.append(el)
                feed.append(("#reset", el, True))  # feedparser's title rule starts afresh
            elif h == "channel" and channel is None and parent is root:
                channel = el
                walk(el, True, 0)
            elif h in ("image", "textinput"):
                feed.append(("#reset", el, True))
                allowed = _IMAGE_KIDS if h == "image" else _TEXTINPUT_KIDS
                # An unprefixed child not in feedparser's list ends the image/textinput
                # context early, and the fields after it would land in the feed's.
                for kid in el:
                    if isinstance(kid.tag, str) and (
                        element_name(kid) == etree.QName(kid).localname.lower()
                        and element_name(kid) not in allowed
                    ):
                        raise Decline(f"unusual {h} element")
            elif h in CONTEXTS or h == "rss":
                raise Decline(f"{h} out of place")
            elif in_feed:
                feed.append((h, el, depth == 0))
                walk(el, True, depth + 1)
            elif h in FIELDS or h in _FEED_META:
                raise Decline(f"{h} outside the channel")
            else:
                walk(el, False, depth + 1)

    walk(root, handler == "feed", 0)
    if channel is None:
        raise Decline("no channel")
    return entries, feed


def _feed(
    root: etree._Element, handler: str, scope: list[tuple[str, etree._Element, bool]],
    headers: Mapping[str, str],
) -> dict[str, Any]:
    """Return the feed-level fields parse.py reads, as feedparser's ``feed`` holds them."""
    meta: dict[str, Any] = {}
    if headers.get("content-language"):
        meta["language"] = headers["content-language"].replace("_", "-")
    attrs = attributes(root)
    lang = attrs.get("xml:lang", attrs.get("lang"))
    if lang and handler in ("feed", "rss"):
        meta["language"] = lang.replace("_", "-")
    for name in _FEED_META:
        if sum(1 for h, _, _ in scope if h == name) > 1:
            raise Decline(f"repeated feed {name}")
    titled = [False]
    for h, el, direct in scope:
        if h == "#reset":
            titled[0] = False
            continue
        if (h in TITLE or h in LINKISH) and not direct:
            raise Decline(f"nested feed {h}")
        if h in CONTENT:
            raise Decline("feed-level content: feedparser carries it into the first entry")
        if h in TITLE:
            read_title(h, el, meta, titled)
        elif h == "link":
            read_link(el, meta, in_entry=False)
        elif h in ("guid", "id"):
            read_guid(el, meta)
        elif h in LANGUAGE:
            meta["language"] = text_of(el)
        elif h in _FEED_META:
            if el.attrib:
                raise Decline(f"{h} with attributes")
            meta[h] = text_of(el)
    return meta


_BASE_ATTRIBUTE = re.compile(rb"\s(?:xml:)?base\s*=")


def _has_base_attribute(data: bytes) -> bool:
    """Whether ``data`` has a ``base`` or ``xml:base`` attribute, in any case, as feedparser reads.

    Looked for at each "base" of the lowered bytes: the same pattern searched case-blind
    over the whole document tried it at every whitespace (a millisecond for a large feed).
    """
    lowered = data.lower()  # ASCII only, as re.IGNORECASE on bytes
    at = lowered.find(b"base")
    while at >= 0:
        if any(start >= 0 and _BASE_ATTRIBUTE.match(lowered, start) for start in (at - 1, at - 5)):
            return True
        at = lowered.find(b"base", at + 1)
    return False


def _parse(body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
    if headers.get("content-location"):
        raise Decline("Content-Location: feedparser resolves links against it")
    result: dict[str, Any] = {}
    data = convert_to_utf8(dict(headers), body, result)
    if result.get("bozo") or not result.get("encoding"):
        raise Decline(f"encoding: {result.get('bozo_exception') or 'none found'}")
    start = re.search(rb"<\w", data)
    if b"<!" in (data[: start.start()] if start else data).replace(b"<!--", b""):
        raise Decline("a DOCTYPE (entities, netscape)")
    if _has_base_attribute(data):
        raise Decline("xml:base")
    root_decls = _declarations(data, start.start() if start else 0)
    try:
        root = etree.fromstring(data, etree.XMLParser(**_PARSER_OPTIONS))
    except etree.XMLSyntaxError as exc:
        raise Decline(f"not well-formed: {exc}") from None
    handler = element_name(root)
    version = _version(root, handler, root_decls)
    entries, scope = _feed_scope(root, handler)
    return {"version": version, "bozo": False, "feed": _feed(root, handler, scope, headers),
            "entries": [read_entry(item) for item in entries]}


def decline_reason(body: bytes, headers: Mapping[str, str]) -> str:
    """Return why :func:`fast_parse` declines ``body``, or "" when it takes it."""
    try:
        _parse(body, headers)
    except (Decline, ValueError, UnicodeError) as exc:
        return str(exc) or type(exc).__name__
    return ""


def fast_parse(body: bytes, headers: Mapping[str, str]) -> dict[str, Any] | None:
    """Return feedparser's result for ``body`` (the fields parse.py reads), or None to decline.

    ``headers`` are the response headers with lowercased names.
    """
    try:
        return _parse(body, headers)
    except (Decline, ValueError, UnicodeError):  # ValueError: lxml on odd input, e.g. NULs
        return None
    except Exception:  # a fast-path bug must cost speed, never a feed: feedparser reads it
        log.debug("fast path failed; feedparser reads the feed", exc_info=True)
        return None
