"""Item blocks of a raw feed body: spot unchanged items without parsing, cut out new ones.

Many feeds regenerate their bytes on every request (a fresh ``lastBuildDate``, a counter in a
comment) while their items stay the same. Hashing each ``<item>``/``<entry>`` element's raw
bytes tells, without feedparser, whether any item is new or edited; when some are, a smaller
document made of the feed's head, the new items and its tail is what feedparser parses.

Only ever used to *skip* work when every item is byte-identical to one already parsed: any
doubt (no blocks found, nested or unmatched tags, a non-ASCII-compatible encoding) means
``None`` and the caller parses the whole body as usual.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

# The start tag of a feed entry (RSS <item>, Atom <entry>, prefixed or not); group 1: its name.
ENTRY_START = re.compile(rb"<((?:[A-Za-z_][\w.-]*:)?(?:item|entry))(?=[\s>/])")
MAX_KEPT = 500  # hashes remembered per feed (feeds are capped at as many entries)


@dataclass(frozen=True, slots=True)
class ItemBlocks:
    """Where the item elements of a body are, and a short hash of each one's bytes."""

    spans: tuple[tuple[int, int], ...]
    hashes: tuple[str, ...]


def split_items(body: bytes) -> ItemBlocks | None:
    """Return the item blocks of ``body``, or None when they cannot be told apart safely."""
    if body[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in body[:64]:
        return None  # UTF-16/32: the byte patterns below do not apply
    opens = list(ENTRY_START.finditer(body))
    if not opens:
        return None
    spans: list[tuple[int, int]] = []
    for i, m in enumerate(opens):
        close = body.find(b"</" + m.group(1), m.end())
        end = body.find(b">", close) + 1 if close >= 0 else 0
        if end <= 0 or (i + 1 < len(opens) and opens[i + 1].start() < end):
            return None  # unclosed, self-closed or nested (or a tag inside CDATA)
        spans.append((m.start(), end))
    hashes = tuple(hashlib.blake2b(body[a:b], digest_size=6).hexdigest() for a, b in spans)
    return ItemBlocks(tuple(spans), hashes)


def new_items_document(body: bytes, blocks: ItemBlocks, known: set[str]) -> bytes | None:
    """Return head + unknown items + tail of ``body``; None when every item is known."""
    fresh = [body[a:b] for (a, b), h in zip(blocks.spans, blocks.hashes, strict=True)
             if h not in known]
    if not fresh:
        return None
    head = body[: blocks.spans[0][0]]
    tail = body[blocks.spans[-1][1]:]
    return head + b"\n".join(fresh) + tail
