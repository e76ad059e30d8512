"""What the stream consumer hands around: entries, their delivery, handlers, dead-letter records."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from core.models import M


class PermanentError(Exception):
    """Raised by a handler for an entry that can never succeed: dead-letter it at once."""


@dataclass(frozen=True)
class Delivery:
    """Where an entry came from and how often it has been delivered (1 = first time)."""

    entry_id: str
    stream: str
    deliveries: int


Handler = Callable[[M, Delivery], Awaitable[None]]
Entry = tuple[str, dict[str, str]]


def dead_letter_record(
    fields: Mapping[str, str], error: str, *, deliveries: int, source_stream: str,
    source_id: str, group: str, consumer: str,
) -> dict[str, str]:
    """The fields of a dead-letter entry: the message, why it failed, and where it came from.

    The consumer writes it for entries it gives up on; the notifier writes the same record for
    deliveries Telegram refused for good, so every failure of a stream reads alike in
    ``<stream>:dead``.
    """
    return {
        "data": fields.get("data", repr(dict(fields))[:10_000]),
        "error": error[:2_000],
        "deliveries": str(deliveries),
        "source_stream": source_stream,
        "source_id": source_id,
        "group": group,
        "consumer": consumer,
        "failed_at": str(time.time()),
    }



def entries_of(reply: Any) -> list[Entry]:
    """Flatten an XREADGROUP reply (RESP2 list or RESP3 map) for one stream into entries.

    Entries deleted from the stream while pending come back with no fields: there is
    nothing left to process, so they are dropped here (and acked by the next claim).
    """
    if not reply:
        return []
    rows = next(iter(reply.values())) if isinstance(reply, dict) else reply[0][1]
    if rows and isinstance(rows[0], list) and rows[0] and isinstance(rows[0][0], list | tuple):
        rows = rows[0]  # RESP3 nests the entries one level deeper
    return [(str(eid), fields) for eid, fields in rows if fields]
