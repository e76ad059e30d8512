"""A fetched feed body to queued articles: skip unchanged items, parse the rest, dedupe."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from redis.asyncio import Redis

from core.feeds import FeedConfig
from workers.poller.dedupe import QueueResult, queue_new
from workers.poller.items import MAX_KEPT, ItemBlocks, new_items_document, split_items
from workers.poller.parse import MAX_ENTRIES, FeedInfo, ParseOutcome
from workers.poller.parse_pool import ParsePool
from workers.poller.prepare import cap_entries

log = logging.getLogger(__name__)
_OFF_LOOP_BYTES = 1024 * 1024


@dataclass(slots=True)
class BodyResult:
    """What a 200 body yielded; ``remember`` is False when the next poll must fetch it again."""

    outcome: Literal["new", "unchanged", "error"]
    item_hashes: tuple[str, ...] = ()
    parsed: int = 0
    queued: QueueResult = field(default_factory=lambda: QueueResult(0, 0, 0))
    error_kind: str = ""
    error: str = ""
    ttl_s: float | None = None
    entry_times: list[float] = field(default_factory=list)
    parse_seconds: float | None = None
    fast: bool = False  # the lxml fast path read it (else feedparser did)
    partial: bool = False
    remember: bool = True
    skipped: int = 0  # entries that failed on their own and were left out


def _bound_and_split(body: bytes) -> tuple[bytes, bool, ItemBlocks | None]:
    """Return ``body`` cut to the entry cap, whether it was cut, and its item blocks.

    Cut first, so that every later step (item hashing here, parsing in the pool) is bounded
    by the cap: entries past it would never be parsed anyway.
    """
    blocks = split_items(body)
    # split_items gives up unless every entry start tag begins one of its blocks: no more
    # blocks than the cap, no more entries, and nothing to cut (the cut's own scan of the
    # body was a sixth of a poll that found new bytes but no new item).
    if blocks is not None and len(blocks.spans) <= MAX_ENTRIES:
        return body, False, blocks
    capped = cap_entries(body, MAX_ENTRIES)
    if capped is None:
        return body, False, blocks
    return capped, True, split_items(capped)


async def process_body(
    redis: Redis,
    parser: ParsePool,
    feed: FeedConfig,
    *,
    body: bytes,
    headers: Mapping[str, str],
    url: str,
    known_items: str,
    seen_ttl_s: int,
) -> BodyResult:
    """Parse what is new in ``body`` and queue its unseen articles.

    ``known_items`` holds the item hashes of the last body fully handled. When every item of
    this body is among them, nothing can be new and feedparser is not run at all; when only
    some are new, feedparser reads the feed's head, those items and its tail. A cut-down
    document that does not parse falls back to the whole body.
    """
    if len(body) > _OFF_LOOP_BYTES:
        # A scan of megabytes of markup takes a tenth of a second or more: not on the loop.
        body, capped, blocks = await asyncio.to_thread(_bound_and_split, body)
    else:
        body, capped, blocks = _bound_and_split(body)
    if capped:
        log.info("feed %s: more than %d entries; only the first %d are read",
                 feed.id, MAX_ENTRIES, MAX_ENTRIES)
    known = set(known_items.split())
    document, partial = body, False
    if blocks is not None and known:
        cut = new_items_document(body, blocks, known)
        if cut is None:
            return BodyResult("unchanged", item_hashes=blocks.hashes[:MAX_KEPT])
        document, partial = cut, True
    info = FeedInfo(feed.id, feed.name, feed.language, feed.region_hints)
    fetched = datetime.now(UTC)
    # Both documents are within the cap already: the parser need not scan for it again.
    outcome: ParseOutcome = await parser.parse(document, headers, info, url, fetched,
                                               bounded=True)
    seconds = outcome.seconds
    if partial and outcome.error_kind is not None:
        outcome = await parser.parse(body, headers, info, url, fetched, bounded=True)
        seconds += outcome.seconds
        partial = False
    if outcome.error_kind is not None:
        return BodyResult("error", error_kind=outcome.error_kind, error=outcome.error or "",
                          parse_seconds=seconds, fast=outcome.fast)
    if outcome.skipped:
        # Once per poll, not per entry: a feed of 500 broken entries is one line.
        log.warning("feed %s: %d entries left out, the rest kept; first: %s",
                    feed.id, outcome.skipped, outcome.skipped_error)
    queued = await queue_new(redis, outcome.articles, ttl_s=seen_ttl_s)
    return BodyResult(
        "new" if queued.queued else "unchanged",
        item_hashes=blocks.hashes[:MAX_KEPT] if blocks is not None else (),
        parsed=len(outcome.articles), queued=queued, ttl_s=outcome.ttl_s,
        entry_times=outcome.entry_times, parse_seconds=seconds, fast=outcome.fast,
        partial=partial,
        # Ids another poll holds unconfirmed: fetch this body in full again next time and
        # retry them once that claim is confirmed or has expired (see dedupe's docstring).
        remember=queued.unconfirmed == 0, skipped=outcome.skipped,
    )
