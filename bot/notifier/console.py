"""The console sink (no bot token): each story printed once, later outlets as one line each."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from redis.asyncio import Redis

from bot.notifier.metrics import NotifierMetrics
from bot.store.stories import StoryItem, StoryStore, story_of
from bot.telegram.html import clip, same_text
from core import keys
from core.models import Alert
from core.streams import Delivery
from core.truce_text import accusation, fmt_time

log = logging.getLogger(__name__)

SEEN_TTL_S = 7 * 24 * 3600
_LABELS = {"violation": "VIOLATION", "ceasefire": "CEASEFIRE NEWS"}


def plain(text: str, limit: int) -> str:
    """One line of feed text for a terminal: control characters (ANSI escapes) removed, clipped."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text)
    return clip(cleaned, limit)


def render_first(alert: Alert, names: Mapping[str, str]) -> str:
    """The block printed for the first report of a story: why it fired, where, how sure, link."""
    regions = ", ".join(names.get(r.lower(), r) for r in alert.regions) or "unspecified"
    evidence = plain(alert.evidence, 400)
    why = f'"{evidence}"' if evidence else "(no evidence sentence)"
    if evidence and same_text(alert.evidence, alert.article.title):
        why = "(the headline itself)"  # the headline decided: printing it twice says nothing
    lines = [
        f"ALERT {_LABELS.get(alert.label, alert.label.upper())} {alert.score:.0%} "
        f"| {plain(alert.article.title, 200) or '(no headline)'}",
        f"      where:  {plain(regions, 200)}",
        f"      source: {plain(alert.article.source, 80)} {plain(alert.article.url, 500)}",
        f"      why:    {why}",
    ]
    ev = alert.event
    if alert.label == "violation" and ev.accuser:
        claim = accusation(ev.accuser, ev.accused, ev.attack, ev.place,
                           killed=ev.killed, wounded=ev.wounded)
        lines.append(f"      claim:  {plain(claim, 200)}")
    if alert.truce is not None:
        since = f" since {fmt_time(alert.truce.since)}" if alert.truce.since else ""
        lines.append(
            f"      truce:  during the truce in force{since} (no truce word in the report)"
        )
    return "\n".join(lines)


def render_also(alert: Alert, items: Sequence[StoryItem]) -> str:
    """The line printed when another outlet reports a story already shown."""
    lead = items[0] if items else StoryItem.from_alert(alert)
    outlets = {i.source.strip().lower() for i in items} | {alert.article.source.strip().lower()}
    count = len(outlets)
    return (
        f"ALSO  {plain(lead.title, 120) or '(no headline)'} | also reported by "
        f"{plain(alert.article.source, 80)} {plain(alert.article.url, 500)} "
        f"({count} source{'s' if count != 1 else ''})"
    )


class ConsoleSink:
    """Without a bot token: print each story once and append every alert to ``alerts.jsonl``."""

    def __init__(
        self, redis: Redis, stories: StoryStore, data_dir: Path, metrics: NotifierMetrics, *,
        region_names: Mapping[str, str] | None = None, out: TextIO | None = None,
    ) -> None:
        self.redis = redis
        self.stories = stories
        self.path = data_dir / "alerts.jsonl"
        self.metrics = metrics
        self.names = dict(region_names or {})
        self.out = out

    async def _leads_story(self, alert: Alert, story_id: str) -> bool:
        """True when this alert is the story's first report (also on its own redelivery)."""
        key = keys.console_story(story_id)
        if await self.redis.set(key, alert.id, nx=True, ex=SEEN_TTL_S):
            return True
        return bool(await self.redis.get(key) == alert.id)

    async def handle(self, alert: Alert, delivery: Delivery | None = None) -> None:
        """Print and append once per alert (a redelivery is skipped)."""
        if alert.label == "none":
            return
        await self.stories.add(alert)
        flag = keys.console_printed(alert.id)
        if await self.redis.exists(flag):
            return
        story_id = story_of(alert)
        first = await self._leads_story(alert, story_id)
        items = await self.stories.items(story_id)
        record = json.loads(alert.model_dump_json())
        record["story_sources"] = sorted({i.source for i in items})
        record["first_in_story"] = first
        await asyncio.to_thread(self._append, json.dumps(record, ensure_ascii=False))
        text = render_first(alert, self.names) if first else render_also(alert, items)
        print(text, file=self.out or sys.stdout, flush=True)
        # Marked after printing: a crash in between prints this alert twice, never zero times.
        await self.redis.set(flag, "1", ex=SEEN_TTL_S)
        self.metrics.alerts.labels("console").inc()
        self.metrics.observe_delivery(
            alert.article.published.timestamp(), alert.article.fetched.timestamp()
        )

    def _append(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
