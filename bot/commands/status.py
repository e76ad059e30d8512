"""One-message summaries of pipeline health (/status) and delivery figures (/stats).

In the chat's language; role and stream names are the service's own (shown as they are).
"""

from __future__ import annotations

import time
from typing import cast

from redis.asyncio import Redis

from bot.i18n import Translator, translator
from bot.store.subscriptions import SubscriptionStore
from bot.telegram.html import esc
from core import keys
from core.streams import stream_stats

STALE_S = 60.0


async def pipeline_status(redis: Redis, t: Translator | None = None) -> str:
    """Return roles alive (by heartbeat) and the backlog of each stream, as HTML."""
    t = t or translator(None)
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
    lines = [t.gettext("<b>Pipeline status</b>")]
    if roles:
        lines += [f"{'🟢' if ok else '🔴'} {t.isolate(esc(role))}"
                  for role, ok in sorted(roles.items())]
    else:
        lines.append(t.gettext("No role heartbeat found."))
    for spec in keys.STREAMS:
        stream = spec.name
        stats = await stream_stats(redis, stream, spec.group)
        lag = "?" if stats.lag is None else str(stats.lag)
        lines.append(t.gettext("<code>{stream}</code>: waiting {waiting}, in progress {pending}",
                               stream=esc(stream), waiting=lag, pending=stats.pending))
    return t.lines("\n".join(lines))


async def delivery_stats(
    redis: Redis, subs: SubscriptionStore, t: Translator | None = None
) -> str:
    """Return subscriber counts and the failures recorded per stream (its dead letters), as HTML."""
    t = t or translator(None)
    counts = await subs.counts()
    # Every failure given up on lands in its stream's dead letters, Telegram's refusals of a
    # delivery included.
    streams = dict.fromkeys(spec.name for spec in keys.STREAMS)  # alerts has two groups
    dead = [f"{esc(name)} {int(await redis.xlen(keys.dead_letter(name)))}" for name in streams]
    return t.lines("\n".join([
        t.gettext("<b>Stats</b>"),
        t.gettext("Chats: {chats} (active {active}, deactivated {deactivated})",
                  chats=counts["chats"], active=counts["active"],
                  deactivated=counts["deactivated"]),
        t.gettext("Failures recorded (dead letters): {streams}",
                  streams=t.isolate(", ".join(dead))),
    ]))
