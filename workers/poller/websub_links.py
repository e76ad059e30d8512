"""WebSub's two pure pieces: finding a feed's hub and topic, and checking a push's signature.

Discovery (W3C WebSub, section 4) looks at the HTTP ``Link`` header first, then at the
document: ``<link rel="hub" href=…>`` and ``<link rel="self" href=…>`` as Atom elements, or
as ``atom:link`` (any prefix) inside RSS. Only the document's head is scanned (the text
before its first item or entry, at most :data:`HEAD_BYTES`): that is where the links live,
and it keeps the scan cheap on every changed body.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import re
from dataclasses import dataclass
from urllib.parse import urljoin

from core.urlguard import check_url_syntax

HEAD_BYTES = 64 * 1024
_FIRST_ENTRY = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)[\s>/]")
_LINK_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?link\b([^>]*)>", re.IGNORECASE)
_ATTR = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_HEADER_LINK = re.compile(r"<([^>]*)>([^<]*)")
_REL_PARAM = re.compile(r"""(?:^|;)\s*rel\s*=\s*(?:"([^"]*)"|([^;,\s]+))""", re.IGNORECASE)
# The algorithms the spec names for X-Hub-Signature (section 8); sha1 is still allowed there.
_ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha384": hashlib.sha384,
               "sha512": hashlib.sha512}


@dataclass(frozen=True, slots=True)
class Discovery:
    """A feed's hub and the topic URL to subscribe to (its rel=self, else the fetched URL)."""

    hub: str
    topic: str


def _header_links(value: str) -> list[tuple[str, set[str]]]:
    """Return (URL, rels) of each link in an HTTP ``Link`` header value."""
    out = []
    for match in _HEADER_LINK.finditer(value):
        rel = _REL_PARAM.search(match.group(2))
        if rel is not None:
            rels = (rel.group(1) or rel.group(2)).lower().split()
            out.append((match.group(1).strip(), set(rels)))
    return out


def _body_links(body: bytes) -> list[tuple[str, set[str]]]:
    """Return (href, rels) of each link element in the document's head."""
    head = body[:HEAD_BYTES]
    entry = _FIRST_ENTRY.search(head)
    if entry is not None:
        head = head[: entry.start()]
    out = []
    for tag in _LINK_TAG.finditer(head):
        attrs = {m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3))
                 for m in _ATTR.finditer(tag.group(1))}
        rel, href = attrs.get(b"rel"), attrs.get(b"href")
        if rel and href:
            text = html.unescape(href.decode("utf-8", "replace")).strip()
            out.append((text, set(rel.decode("ascii", "replace").lower().split())))
    return out


def _pick(links: list[tuple[str, set[str]]], rel: str, base: str) -> str:
    """Return the first link with ``rel`` as an absolute http(s) URL, or ''."""
    for href, rels in links:
        if rel in rels:
            try:
                return str(check_url_syntax(urljoin(base, href)))
            except ValueError:  # UnsafeURLError too: "ftp:", "http://[::1", no host
                continue
    return ""


def discover(body: bytes, link_header: str | None, url: str) -> Discovery | None:
    """Return the hub and topic ``body`` (fetched from ``url``) advertises, or None."""
    for links in (_header_links(link_header or ""), _body_links(body)):
        hub = _pick(links, "hub", url)
        if hub:
            # The spec wants rel=self as the topic; a feed naming a hub but no self is
            # common enough that the URL it was fetched from stands in for it.
            return Discovery(hub, _pick(links, "self", url) or url)
    return None


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` (``method=hexdigest``) is the HMAC of ``body`` keyed by ``secret``."""
    method, _, given = (header or "").strip().partition("=")
    algorithm = _ALGORITHMS.get(method.strip().lower())
    if algorithm is None or not given or not secret:
        return False
    expected = hmac.new(secret.encode(), body, algorithm).hexdigest()
    return hmac.compare_digest(expected, given.strip().lower())
