"""One-time rename of the keys written before every key moved under ``cw:`` (core/keys.py).

Until this layout, state lived under four prefixes (``bot:``, ``poller:``, ``feeds:``, ``cw:``).
Subscriptions, run-time feeds, feed state, story markers and the poller's "seen" set must
survive the upgrade: losing "seen" would queue every article in every feed again, and losing
the sent markers would message readers twice. So the first process to connect renames each
legacy key (RENAMENX keeps its value and TTL) before any role reads or writes, and records
the schema version; every later start only reads that version.

Streams keep their names (``bot:deliveries`` and its dead-letter, retry and bookkeeping keys,
``feeds:events``): they are a documented contract and are never renamed.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from redis.asyncio import Redis

from core import keys

log = logging.getLogger(__name__)

SCHEMA_VERSION = "2"
# (legacy prefix, new prefix); a prefix not ending in ':' is one whole key.
LEGACY: tuple[tuple[str, str], ...] = (
    ("bot:", keys.BOT),
    ("poller:", f"{keys.PREFIX}poller:"),
    ("feeds:runtime", keys.RUNTIME_FEEDS),
    ("feeds:version", keys.FEEDS_VERSION),
)
# Stream names are kept; so are the keys derived from them.
_KEEP = (keys.DELIVERIES, keys.FEED_EVENTS)
LOCK_TTL_MS = 120_000
WAIT_S = 300.0


def _kept(key: str) -> bool:
    return any(key == s or key.startswith(f"{s}:") for s in _KEEP)


async def _rename_all(redis: Redis) -> tuple[int, int]:
    """Rename every legacy key; return (renamed, left because the new name was taken)."""
    renamed = taken = 0
    for old, new in LEGACY:
        pattern = f"{old}*" if old.endswith(":") else old
        async for raw in redis.scan_iter(match=pattern, count=1_000):
            key = str(raw)
            if _kept(key) or not key.startswith(old):
                continue
            if await redis.renamenx(key, new + key[len(old):]):
                renamed += 1
            else:
                # The new name already holds data written by this version: never overwrite
                # it; the legacy copy stays for an operator to inspect.
                taken += 1
                log.warning("legacy key %s kept: %s already exists", key, new + key[len(old):])
    return renamed, taken


async def migrate_keys(redis: Redis) -> int:
    """Bring the key layout up to date once per database; return how many keys were renamed."""
    if await redis.get(keys.SCHEMA) == SCHEMA_VERSION:
        return 0
    token = uuid.uuid4().hex
    if not await redis.set(keys.SCHEMA_LOCK, token, nx=True, px=LOCK_TTL_MS):
        # Another process is renaming: roles must not start on a half-renamed database.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_S
        while await redis.get(keys.SCHEMA) != SCHEMA_VERSION:
            if loop.time() > deadline:
                raise TimeoutError("another process has been migrating Redis keys for too long")
            if await redis.set(keys.SCHEMA_LOCK, token, nx=True, px=LOCK_TTL_MS):
                break  # its lock expired (it died): finish the job here
            await asyncio.sleep(0.5)
        else:
            return 0
    try:
        renamed, taken = await _rename_all(redis)
        await redis.set(keys.SCHEMA, SCHEMA_VERSION)
    finally:
        if await redis.get(keys.SCHEMA_LOCK) == token:
            await redis.delete(keys.SCHEMA_LOCK)
    if renamed or taken:
        log.info("key layout %s: %d legacy keys renamed under %s, %d left (name taken)",
                 SCHEMA_VERSION, renamed, keys.PREFIX, taken)
    return renamed
