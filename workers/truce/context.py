"""Where a truce is in force, as the classifier needs it: polled, cached, cheap per item."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from redis.asyncio import Redis

from core import keys, truce_store
from core.models import TruceEvent
from core.truce import advance, in_force_at
from core.truce_model import BREAKDOWN_WINDOW, TruceState
from workers.classifier.in_truce import TruceWindow


def windows_at(live: dict[str, TruceState], at: datetime) -> dict[str, TruceWindow]:
    """The regions whose truce is in force at ``at``, or ended within the breakdown window."""
    out: dict[str, TruceWindow] = {}
    for region, state in live.items():
        now = advance(state, at)
        if now.since is None and now.until is None:
            # Known only from its breaches: we cannot tell it from a war that never paused,
            # so it never turns plain war news into violations.
            continue
        if in_force_at(now, at):
            out[region] = TruceWindow(region, now.since, now.until)
        elif (
            now.phase in ("ended", "collapsed")
            and now.ended_at is not None
            and now.ended_at <= at <= now.ended_at + BREAKDOWN_WINDOW
        ):
            out[region] = TruceWindow(region, now.since, now.until, ended=True)
    return out


def tells_an_incident(event: TruceEvent) -> bool:
    """True when an item tells of one incident: a kind of attack, or a toll, is stated.

    A candidate without a truce word rests on its hostility alone; "as the war rages" or
    "the kibbutz attacked by Hamas" name the war, not an incident in breach of the truce.
    """
    return bool(event.attack) or event.killed is not None or event.wounded is not None


class TruceWatch:
    """The regions' live truce states, reloaded when the truce role changed them.

    At most once per ``refresh_s`` it reads one counter; only when that moved does it read
    the states (a small hash: no history), so the cost per article is nil.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        refresh_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Watch ``redis``; nothing is read until the first call."""
        self.redis = redis
        self.refresh_s = refresh_s
        self._clock = clock
        self._checked = float("-inf")
        self._version: str | None = None
        self._live: dict[str, TruceState] = {}

    async def windows(self, at: datetime) -> dict[str, TruceWindow]:
        """The truce windows at time ``at`` (the article's publication time)."""
        now = self._clock()
        if now - self._checked >= self.refresh_s:
            self._checked = now
            raw = await self.redis.get(keys.TRUCE_VERSION)
            version = raw.decode() if isinstance(raw, bytes) else raw
            if version != self._version:
                self._live = await truce_store.load_live(self.redis)
                self._version = version
        return windows_at(self._live, at) if self._live else {}
