"""Telegram channels bound to regions: the ``CHANNELS`` setting plus ``/bindchannel``, in Redis.

A binding made by command is stored per channel (keys.CHANNELS); a ``CHANNELS`` binding lives in
the settings, so unbinding one (``/unbindchannel``, or the channel removing the bot) switches it
off in Redis (keys.CHANNELS_OFF) until it is bound again by command. A channel has one language
for its posts: the one given to ``/bindchannel`` (kept when it is bound to another region
without one), else its ``CHANNELS`` entry's, else English.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from redis.asyncio import Redis
from redis.exceptions import WatchError

from bot.i18n import LANGUAGES
from core import keys
from core.config_files import ConfigError
from core.settings import ChannelEntry


@dataclass(frozen=True)
class ChannelBinding:
    """One channel and the regions whose stories it gets."""

    chat_id: int
    regions: frozenset[str]
    configured: bool = False  # some of it comes from CHANNELS
    title: str = ""
    by: int = 0  # the admin who bound it by command (0: CHANNELS only)
    lang: str = ""  # the posts' language (bot/i18n.py); "" is English


def _entry_text(entry: ChannelEntry) -> str:
    return f"{entry.region}={entry.chat_id}" + (f":{entry.lang}" if entry.lang else "")


def check_channels(entries: Iterable[ChannelEntry], region_ids: Iterable[str]) -> None:
    """Raise ConfigError naming the first ``CHANNELS`` entry that cannot be served.

    Its region must be in regions.yaml, its language one of the bot's, and a channel named
    twice has one language.
    """
    known = {r.lower() for r in region_ids}
    langs: dict[int, str] = {}
    for entry in entries:
        text = _entry_text(entry)
        if entry.region not in known:
            raise ConfigError(
                f"CHANNELS: entry '{text}': unknown region '{entry.region}' "
                f"(regions.yaml has: {', '.join(sorted(known))})"
            )
        if entry.lang and entry.lang not in LANGUAGES:
            raise ConfigError(f"CHANNELS: entry '{text}': unknown language '{entry.lang}' "
                              f"(the bot speaks: {', '.join(LANGUAGES)})")
        if langs.setdefault(entry.chat_id, entry.lang) != entry.lang:
            raise ConfigError(f"CHANNELS: entry '{text}': channel {entry.chat_id} has another "
                              f"language in an earlier entry ('{langs[entry.chat_id]}')")


def _decode(raw: str) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class ChannelStore:
    """Effective channel bindings: ``CHANNELS`` minus those switched off, plus those by command."""

    def __init__(self, redis: Redis, configured: Iterable[ChannelEntry] = ()) -> None:
        self.redis = redis
        regions: dict[int, set[str]] = {}
        self.configured_lang: dict[int, str] = {}
        for entry in configured:
            regions.setdefault(entry.chat_id, set()).add(entry.region.lower())
            if entry.lang:
                self.configured_lang.setdefault(entry.chat_id, entry.lang)
        self.configured = {c: frozenset(r) for c, r in regions.items()}

    async def bindings(self) -> dict[int, ChannelBinding]:
        """Every bound channel with its regions (one round trip)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(keys.CHANNELS)
            pipe.hkeys(keys.CHANNELS_OFF)
            stored, off = cast(tuple[dict[str, str], list[str]], await pipe.execute())
        out = {c: ChannelBinding(c, r, configured=True, lang=self.configured_lang.get(c, ""))
               for c, r in self.configured.items() if str(c) not in off}
        for key, raw in stored.items():
            data, chat_id = _decode(raw), int(key)
            regions = frozenset(str(r) for r in data.get("regions", ()))
            mine = out.get(chat_id)
            out[chat_id] = ChannelBinding(
                chat_id, regions | (mine.regions if mine else frozenset()),
                configured=mine is not None, title=str(data.get("title", "")),
                by=int(data.get("by", 0)),
                lang=str(data.get("lang") or (mine.lang if mine else "")),
            )
        return out

    async def language(self, chat_id: int) -> str | None:
        """The language of a bound channel's posts ("" for English); None when not bound."""
        field = str(chat_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hget(keys.CHANNELS, field)
            pipe.hexists(keys.CHANNELS_OFF, field)
            raw, off = cast(tuple[str | None, bool], await pipe.execute())
        configured = chat_id in self.configured and not off
        if raw is None:
            return self.configured_lang.get(chat_id, "") if configured else None
        stored = str(_decode(raw).get("lang") or "")
        return stored or (self.configured_lang.get(chat_id, "") if configured else "")

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

    async def bind(
        self, chat_id: int, region: str, *, by: int, title: str = "", lang: str | None = None
    ) -> frozenset[str]:
        """Add ``region`` to a channel's bindings (a CHANNELS one switched back on); return all.

        ``lang`` sets the language of the channel's posts; None keeps the one it has.
        """
        field = str(chat_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(keys.CHANNELS)
                    raw = cast(str | None, await pipe.hget(keys.CHANNELS, field))
                    old = _decode(raw) if raw else {}
                    regions = sorted({*map(str, old.get("regions", ())), region.lower()})
                    record: dict[str, Any] = {"regions": regions, "by": by,
                                              "title": title[:200], "at": time.time()}
                    kept = old.get("lang") if lang is None else lang
                    if kept:
                        record["lang"] = str(kept)
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
