"""Redis Streams: names, publishing and typed reads; the consumer and housekeeping re-exported.

Roles import everything stream-related from here; the code lives in ``core.consumer``
(the consumer every role uses), ``core.stream_entries`` (what it hands its handlers) and
``core.stream_admin`` (groups, trimming, stats).
"""

from __future__ import annotations

from typing import Any, cast

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from core.consumer import StreamConsumer
from core.models import StreamMessage, encode
from core.stream_admin import StreamStats, ensure_group, stream_stats, trim_safely
from core.stream_entries import (
    Delivery,
    Entry,
    Handler,
    PermanentError,
    dead_letter_record,
    entries_of,
)

__all__ = [
    "Delivery",
    "Entry",
    "Handler",
    "PermanentError",
    "StreamConsumer",
    "StreamStats",
    "dead_letter_record",
    "ensure_group",
    "publish",
    "publish_many",
    "queue_publish",
    "read_group",
    "read_range",
    "stream_stats",
    "trim_safely",
]


def queue_publish(pipe: Pipeline, stream: str, message: StreamMessage) -> None:
    """Queue ``message`` for ``stream`` on an open pipeline or MULTI; it lands at execute().

    For writes that must land together with the entry (a done marker, a seen mark).
    """
    pipe.xadd(stream, encode(message))  # type: ignore[arg-type]


async def publish(redis: Redis, stream: str, message: StreamMessage) -> str:
    """Append ``message`` to ``stream`` and return the entry id.

    No MAXLEN here: it could cut entries a group has not read. Consumers trim past
    ``streams.maxlen`` by the oldest id any group still needs (:func:`trim_safely`).
    """
    entry_id = await redis.xadd(stream, encode(message))  # type: ignore[arg-type]
    return str(entry_id)


async def publish_many(redis: Redis, stream: str, messages: list[StreamMessage]) -> list[str]:
    """Append several messages in one round trip (a pipeline, not a transaction)."""
    pipe = redis.pipeline(transaction=False)
    for message in messages:
        queue_publish(pipe, stream, message)
    return [str(entry_id) for entry_id in await pipe.execute()]


async def read_range(
    redis: Redis, stream: str, *, count: int | None = None, newest_first: bool = False
) -> list[Entry]:
    """XRANGE (or XREVRANGE) over the whole stream, typed as (id, fields) string pairs."""
    if newest_first:
        rows = cast(list[Any], await redis.xrevrange(stream, "+", "-", count))
    else:
        rows = cast(list[Any], await redis.xrange(stream, "-", "+", count))
    return [(str(eid), cast(dict[str, str], fields)) for eid, fields in rows]


async def read_group(
    redis: Redis, stream: str, group: str, consumer: str, *, start: str = ">", count: int = 100,
    block_ms: int | None = None,
) -> list[Entry]:
    """XREADGROUP on one stream (blocking up to ``block_ms`` if given), as (id, fields) pairs."""
    reply = await redis.xreadgroup(group, consumer, {stream: start}, count=count, block=block_ms)
    return entries_of(reply)


