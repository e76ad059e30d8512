"""Telegram channels bound to regions: the ``CHANNELS`` setting plus ``/bindchannel``, in Redis.

A binding made by command is stored per channel (keys.CHANNELS); a ``CHANNELS`` binding lives in
the settings, so unbinding one (``/unbindchannel``, or the channel removing the bot) switches it
off in Redis (keys.CHANNELS_OFF) until it is bound again by command.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from redis.asyncio import Redis
from redis.exceptions import WatchError

from core import keys
from core.config_files import ConfigError


@dataclass(frozen=True)
class ChannelBinding:
    """One channel and the regions whose stories it gets."""

    chat_id: int
    regions: frozenset[str]
    configured: bool = False  # some of it comes from CHANNELS
    title: str = ""
    by: int = 0  # the admin who bound it by command (0: CHANNELS only)


def check_channels(pairs: Iterable[tuple[str, int]], region_ids: Iterable[str]) -> None:
    """Raise ConfigError naming the first ``CHANNELS`` entry whose region regions.yaml lacks."""
    known = {r.lower() for r in region_ids}
    for region, chat_id in pairs:
        if region not in known:
            raise ConfigError(
                f"CHANNELS: entry '{region}={chat_id}': unknown region '{region}' "
                f"(regions.yaml has: {', '.join(sorted(known))})"
            )


def _decode(raw: str) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class ChannelStore:
    """Effective channel bindings: ``CHANNELS`` minus those switched off, plus those by command."""

    def __init__(self, redis: Redis, configured: Iterable[tuple[str, int]] = ()) -> None:
        self.redis = redis
        regions: dict[int, set[str]] = {}
        for region, chat_id in configured:
            regions.setdefault(chat_id, set()).add(region.lower())
        self.configured = {c: frozenset(r) for c, r in regions.items()}

    async def bindings(self) -> dict[int, ChannelBinding]:
        """Every bound channel with its regions (one round trip)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(keys.CHANNELS)
            pipe.hkeys(keys.CHANNELS_OFF)
            stored, off = cast(tuple[dict[str, str], list[str]], await pipe.execute())
        out = {c: ChannelBinding(c, r, configured=True)
               for c, r in self.configured.items() if str(c) not in off}
        for key, raw in stored.items():
            data, chat_id = _decode(raw), int(key)
            regions = frozenset(str(r) for r in data.get("regions", ()))
            mine = out.get(chat_id)
            out[chat_id] = ChannelBinding(
                chat_id, regions | (mine.regions if mine else frozenset()),
                configured=mine is not None, title=str(data.get("title", "")),
                by=int(data.get("by", 0)),
            )
        return out

    async def switched_off(self) -> dict[int, str]:
        """``CHANNELS`` bindings switched off, with why."""
        raw = cast(dict[str, str], await self.redis.hgetall(keys.CHANNELS_OFF))
        return {int(k): v for k, v in raw.items() if int(k) in self.configured}

    async def is_bound(self, chat_id: int) -> bool:
        """True while ``chat_id`` is a bound channel."""
        if chat_id in self.configured and not await self.redis.hexists(
            keys.CHANNELS_OFF, str(chat_id)
        ):
            return True
        return bool(await self.redis.hexists(keys.CHANNELS, str(chat_id)))

    async def bind(self, chat_id: int, region: str, *, by: int, title: str = "") -> frozenset[str]:
        """Add ``region`` to a channel's bindings (a CHANNELS one switched back on); return all."""
        field = str(chat_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(keys.CHANNELS)
                    raw = cast(str | None, await pipe.hget(keys.CHANNELS, field))
                    old = _decode(raw) if raw else {}
                    regions = sorted({*map(str, old.get("regions", ())), region.lower()})
                    record = {"regions": regions, "by": by, "title": title[:200], "at": time.time()}
                    cast(Any, pipe).multi()  # redis-py leaves multi() untyped
                    pipe.hset(keys.CHANNELS, field, json.dumps(record, separators=(",", ":")))
                    pipe.hdel(keys.CHANNELS_OFF, field)
                    await pipe.execute()
                    break
                except WatchError:
                    continue  # another admin bound the same channel meanwhile: read it again
        return frozenset(regions) | self.configured.get(chat_id, frozenset())

    async def unbind(self, chat_id: int, reason: str) -> bool:
        """Stop posting to a channel (every region); return False when it was not bound."""
        field = str(chat_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hdel(keys.CHANNELS, field)
            if chat_id in self.configured:
                # HSETNX: a second caller (a concurrent failed post) learns it changed nothing.
                pipe.hsetnx(keys.CHANNELS_OFF, field, reason[:200])
            results = await pipe.execute()
        return any(int(r) for r in results)
