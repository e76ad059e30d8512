"""One-message summaries of pipeline health (/status) and delivery figures (/stats)."""

from __future__ import annotations

import time
from typing import cast

from redis.asyncio import Redis

from bot.store.subscriptions import SubscriptionStore
from bot.telegram.html import esc
from core import keys
from core.streams import stream_stats

STALE_S = 60.0


async def pipeline_status(redis: Redis) -> str:
    """Return roles alive (by heartbeat) and the backlog of each stream, as HTML."""
    beats = cast(dict[str, str], await redis.hgetall(keys.HEARTBEATS))
    now = time.time()
    roles: dict[str, bool] = {}
    for name, stamp in beats.items():
        role = str(name).split("/", 1)[0]
        try:
            fresh = now - float(stamp) < STALE_S
        except ValueError:
            fresh = False
        roles[role] = roles.get(role, False) or fresh
    lines = ["<b>Pipeline status</b>"]
    if roles:
        lines += [f"{'🟢' if ok else '🔴'} {esc(role)}" for role, ok in sorted(roles.items())]
    else:
        lines.append("No role heartbeat found.")
    for spec in keys.STREAMS:
        stream = spec.name
        stats = await stream_stats(redis, stream, spec.group)
        lag = "?" if stats.lag is None else str(stats.lag)
        lines.append(f"<code>{esc(stream)}</code>: waiting {lag}, in progress {stats.pending}")
    return "\n".join(lines)


async def delivery_stats(redis: Redis, subs: SubscriptionStore) -> str:
    """Return subscriber counts and the failures recorded per stream (its dead letters), as HTML."""
    counts = await subs.counts()
    # Every failure given up on lands in its stream's dead letters, Telegram's refusals of a
    # delivery included.
    streams = dict.fromkeys(spec.name for spec in keys.STREAMS)  # alerts has two groups
    dead = [f"{esc(name)} {int(await redis.xlen(keys.dead_letter(name)))}" for name in streams]
    return "\n".join([
        "<b>Stats</b>",
        f"Chats: {counts['chats']} (active {counts['active']}, "
        f"deactivated {counts['deactivated']})",
        f"Failures recorded (dead letters): {', '.join(dead)}",
    ])
