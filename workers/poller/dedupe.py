"""Queue each article id once: claim (SET NX), publish, confirm.

Ordering, so that a crash never loses an article and normally never duplicates one:

1. claim every id: ``seen:<id>`` set to ``pending`` with a short expiry where it was unset, its
   old value read otherwise (one script call for the whole feed);
2. publish the ids we claimed to the ``articles`` stream, then
3. confirm them: ``seen:<id>`` set to ``done`` for ``ttl`` (2 and 3 in one pipeline, which the
   server runs in order).

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
from core.streams import queue_publish

SEEN_PREFIX = keys.SEEN_PREFIX
PENDING = "pending"
DONE = "done"


@dataclass(frozen=True, slots=True)
class QueueResult:
    """How many articles were queued, already known, or held unconfirmed by another poll."""

    queued: int
    seen: int
    unconfirmed: int


# One call for every id of a poll, not one per id: packing and parsing thirty commands was
# most of a first poll's Redis cost. Atomic per key (SET NX GET would need Redis 7; the embedded
# server may be 6.2). Many keys in one script rule out Redis Cluster, which the project does not
# use (story_ids.py makes the same choice). "" stands for "was unset": a Lua table cannot hold nil.
_CLAIM_LUA = """
local out = {}
for i, key in ipairs(KEYS) do
  local old = redis.call('GET', key)
  if old then
    out[i] = old
  else
    redis.call('SET', key, ARGV[1], 'EX', ARGV[2])
    out[i] = ''
  end
end
return out
"""
_CONFIRM_LUA = """
for _, key in ipairs(KEYS) do
  redis.call('SET', key, ARGV[1], 'EX', ARGV[2])
end
return #KEYS
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
    keys_ = [SEEN_PREFIX + aid for aid in ids]
    previous = [old or None for old in await redis.eval(
        _CLAIM_LUA, len(keys_), *keys_, PENDING, claim_ttl_s)]
    claimed = [aid for aid, old in zip(ids, previous, strict=True) if old is None]
    unconfirmed = sum(1 for old in previous if old == PENDING)
    seen = len(ids) - len(claimed) - unconfirmed
    if not claimed:
        return QueueResult(0, seen, unconfirmed)
    # Oldest first, so consumers see a feed's stories in the order they were published.
    claimed.sort(key=lambda aid: unique[aid].published)
    # Entries, then their "done" marks: the server runs a pipeline in order, so a mark never
    # lands without its entry. A connection lost between the two leaves the claims to expire,
    # and a later poll publishes again (a duplicate at worst, never a loss).
    pipe = redis.pipeline(transaction=False)
    for aid in claimed:
        queue_publish(pipe, stream, unique[aid])
    done = [SEEN_PREFIX + aid for aid in claimed]
    pipe.eval(_CONFIRM_LUA, len(done), *done, DONE, ttl_s)
    sync = replica_wait(redis)
    if sync is None:
        await pipe.execute()
    elif not await sync.execute(redis, pipe):
        # Under Sentinel a failover must not keep the marks on the new primary while the
        # entries died with the old one: ids no replica confirmed are reported unconfirmed,
        # so the feed keeps its old validators and its body is read again.
        unconfirmed += len(claimed)
    return QueueResult(len(claimed), seen, unconfirmed)
