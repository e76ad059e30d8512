"""Stream housekeeping: group creation, safe trimming, and length/pending/lag figures."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, cast

from redis.asyncio import Redis
from redis.exceptions import ResponseError

log = logging.getLogger(__name__)

LAG_COUNT_CAP = 10_001


@dataclass(frozen=True)
class StreamStats:
    """Length, pending count and lag (undelivered entries) of one stream for one group."""

    stream: str
    group: str
    length: int
    pending: int
    lag: int | None


async def stream_stats(redis: Redis, stream: str, group: str) -> StreamStats:
    """Return length, pending and lag of ``stream`` for ``group`` (zeros when absent)."""
    length = int(await redis.xlen(stream))
    try:
        groups = await redis.xinfo_groups(stream)
    except ResponseError:
        return StreamStats(stream, group, length, 0, None)
    for info in groups:
        if info.get("name") == group:
            lag = info.get("lag")
            if lag is None:
                # Redis 6.2 has no lag field (and 7 omits it after some deletions): count the
                # entries past the group's last delivery, up to a cap.
                after = f"({info.get('last-delivered-id', '0-0')}"
                lag = len(cast(list[Any], await redis.xrange(stream, after, "+", LAG_COUNT_CAP)))
            return StreamStats(stream, group, length, int(info.get("pending", 0)), int(lag))
    return StreamStats(stream, group, length, 0, length)


async def ensure_group(redis: Redis, stream: str, group: str) -> None:
    """Create ``group`` on ``stream`` (and the stream) if missing; safe to call repeatedly."""
    try:
        await redis.xgroup_create(stream, group, id="0", mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def _min_id(a: str, b: str) -> str:
    def key(x: str) -> tuple[int, int]:
        ms, _, seq = x.partition("-")
        return int(ms), int(seq or 0)

    return a if key(a) <= key(b) else b


async def trim_safely(redis: Redis, stream: str, maxlen: int) -> int:
    """Trim ``stream`` past ``maxlen`` but never below the oldest entry any group still needs."""
    if int(await redis.xlen(stream)) <= maxlen:
        return 0
    try:
        groups = await redis.xinfo_groups(stream)
    except ResponseError:
        return 0
    if not groups:
        # No reader yet: everything is still needed. Say so instead of dropping data.
        log.warning("stream %s exceeds %d entries and has no consumer group", stream, maxlen)
        return 0
    keep_from: str | None = None
    for info in groups:
        needed = str(info.get("last-delivered-id", "0-0"))
        if int(info.get("pending", 0)):
            summary = await redis.xpending(stream, str(info["name"]))
            if summary.get("min"):
                needed = _min_id(needed, str(summary["min"]))
        keep_from = needed if keep_from is None else _min_id(keep_from, needed)
    assert keep_from is not None
    removed = int(await redis.xtrim(stream, minid=keep_from, approximate=True))
    if removed:
        log.debug("trimmed %d entries from %s below %s", removed, stream, keep_from)
    return removed
