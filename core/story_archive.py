"""The durable archive of violation stories that the export reads (core/export.py).

The bot's stories (bot/store/stories.py) live 7 days; analysts ask for months. The truces
role, which reads every alert, keeps here each ``violation`` alert as one report of its story:
a hash per story (alert id -> report) and one sorted set of stories by first report time.
A story's row is folded from its reports when read, in (time, alert id) order, so
redelivery, replicas and arrival order change nothing. Stories older than
``RETENTION_DAYS`` are trimmed. The first write also reads in the violations the ``alerts``
stream still holds, so an upgraded service exports what it alerted on before.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import cast

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from core import keys
from core.models import Alert, MalformedEntryError, decode
from core.records import record_from_json

log = logging.getLogger(__name__)

RETENTION_DAYS = 400  # a year and a month: one year back from any day in it
RETENTION_S = RETENTION_DAYS * 86400
TRIM_BATCH = 100  # stories trimmed per write at most, so a write stays short
READ_BATCH = 500


def reported_at(alert: Alert) -> datetime:
    """When the report appeared: its publication time, never later than when it was fetched."""
    return min(alert.article.published, alert.article.fetched).astimezone(UTC)


@dataclass(frozen=True)
class ArchivedReport:
    """One outlet's report of a violation story, as the export needs it."""

    alert_id: str
    at: float  # epoch seconds of reported_at()
    source: str
    url: str
    title: str
    score: float
    evidence: str
    regions: tuple[str, ...]
    accuser: str = ""
    accused: str = ""
    attack: str = ""
    place: str = ""
    killed: int | None = None
    wounded: int | None = None

    @classmethod
    def from_alert(cls, alert: Alert) -> ArchivedReport:
        """Project an alert onto what the archive keeps."""
        return cls(
            alert_id=alert.id, at=reported_at(alert).timestamp(), source=alert.article.source,
            url=alert.article.url, title=alert.article.title, score=alert.score,
            evidence=alert.evidence, regions=tuple(alert.regions), **alert.event.claim(),
        )

    def to_json(self) -> str:
        """Serialised form kept in Redis."""
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str) -> ArchivedReport:
        """Parse the serialised form (fields this version does not know are ignored)."""
        return record_from_json(cls, raw)


@dataclass(frozen=True)
class Source:
    """One outlet of a story and the link to its first report."""

    source: str
    url: str


@dataclass(frozen=True)
class ArchivedStory:
    """A violation story folded from its reports: the row the export writes."""

    story_id: str
    first_report: datetime
    regions: tuple[str, ...]
    sources: tuple[Source, ...]  # one per distinct outlet, in order of first report
    title: str  # of the first report
    evidence: str  # the lead sentence of the highest-scored report
    score: float  # the highest
    accuser: str = ""  # each fact as the first report stating it gave it
    accused: str = ""
    attack: str = ""
    place: str = ""
    killed: int | None = None
    wounded: int | None = None


def _first(values: Iterable[str]) -> str:
    return next((v for v in values if v), "")


def _first_int(values: Iterable[int | None]) -> int | None:
    return next((v for v in values if v is not None), None)


def fold(story_id: str, reports: Sequence[ArchivedReport]) -> ArchivedStory:
    """The story of ``reports`` (at least one), whatever order they came in."""
    ordered = sorted(reports, key=lambda r: (r.at, r.alert_id))
    regions: dict[str, None] = {}
    sources: dict[str, Source] = {}
    for report in ordered:
        regions.update(dict.fromkeys(report.regions))
        sources.setdefault(report.source.strip().lower(), Source(report.source, report.url))
    # Highest score leads; a tie goes to the earlier report.
    lead = min(ordered, key=lambda r: (-r.score, r.at, r.alert_id))
    return ArchivedStory(
        story_id=story_id,
        first_report=datetime.fromtimestamp(ordered[0].at, UTC),
        regions=tuple(regions),
        sources=tuple(sources.values()),
        title=ordered[0].title,
        evidence=lead.evidence,
        score=lead.score,
        accuser=_first(r.accuser for r in ordered),
        accused=_first(r.accused for r in ordered),
        attack=_first(r.attack for r in ordered),
        place=_first(r.place for r in ordered),
        killed=_first_int(r.killed for r in ordered),
        wounded=_first_int(r.wounded for r in ordered),
    )


class StoryArchive:
    """Violation stories by first report time, kept ``RETENTION_DAYS``."""

    def __init__(self, redis: Redis, retention_s: float = RETENTION_S) -> None:
        """Hold the client; nothing runs until a method is awaited."""
        self.redis = redis
        self.retention_s = retention_s

    async def add(self, alert: Alert, now: float | None = None) -> bool:
        """Keep a violation alert as a report of its story; False when it is not kept.

        Idempotent: the report is written once per alert id (HSETNX) and the story's place in
        the index only ever moves earlier (ZADD LT), both in one transaction.
        """
        now = time.time() if now is None else now
        if alert.label != "violation":
            return False
        report = ArchivedReport.from_alert(alert)
        if report.at < now - self.retention_s:
            return False  # a redelivery of something already trimmed must not come back
        async with self.redis.pipeline(transaction=True) as pipe:
            self._write(pipe, alert, report)
            await pipe.execute()
        await self.trim(now)
        return True

    def _write(self, pipe: Pipeline, alert: Alert, report: ArchivedReport) -> None:
        story = alert.story
        key = keys.archive_story(story)
        pipe.hsetnx(key, alert.id, report.to_json())
        pipe.zadd(keys.ARCHIVE_INDEX, {story: report.at}, lt=True)
        # A backstop only: trim() removes stories by their first report time.
        pipe.expire(key, int(self.retention_s) + 86400)

    async def backfill(self, now: float | None = None) -> int:
        """Archive every violation alert the ``alerts`` stream holds; return how many.

        Idempotent like add(), so two processes doing it at once, or one doing it again
        after a crash, change nothing; the flag is set only when the whole stream was read.
        """
        now = time.time() if now is None else now
        count, start = 0, "-"
        while True:
            page = cast(list[tuple[str, dict[str, str]]], await self.redis.xrange(
                keys.ALERTS, start, "+", count=READ_BATCH))
            async with self.redis.pipeline(transaction=False) as pipe:
                for _, fields in page:
                    try:
                        alert = decode(fields, Alert)
                    except MalformedEntryError:
                        continue  # the consumers dead-letter it; it reports nothing here
                    report = ArchivedReport.from_alert(alert)
                    if alert.label == "violation" and report.at >= now - self.retention_s:
                        self._write(pipe, alert, report)
                        count += 1
                await pipe.execute()
            if len(page) < READ_BATCH:
                break
            start = f"({page[-1][0]}"
        await self.redis.set(keys.ARCHIVE_BACKFILLED, str(int(now)))
        return count

    async def trim(self, now: float | None = None) -> int:
        """Drop (a batch of) stories first reported before the retention window."""
        now = time.time() if now is None else now
        old = cast(list[str], await self.redis.zrangebyscore(
            keys.ARCHIVE_INDEX, "-inf", f"({now - self.retention_s}", start=0, num=TRIM_BATCH
        ))
        if not old:
            return 0
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(*(keys.archive_story(s) for s in old))
            pipe.zrem(keys.ARCHIVE_INDEX, *old)
            await pipe.execute()
        return len(old)

    async def stories(
        self, since: datetime, until: datetime, region: str | None = None
    ) -> list[ArchivedStory]:
        """Stories first reported in [since, until), oldest first; only ``region``'s if given."""
        ids = cast(list[str], await self.redis.zrangebyscore(
            keys.ARCHIVE_INDEX, since.timestamp(), f"({until.timestamp()}"
        ))
        found: list[ArchivedStory] = []
        for start in range(0, len(ids), READ_BATCH):
            batch = ids[start:start + READ_BATCH]
            async with self.redis.pipeline(transaction=False) as pipe:
                for story in batch:
                    pipe.hvals(keys.archive_story(story))
                values = cast(list[list[str]], await pipe.execute())
            for story, raw in zip(batch, values, strict=True):
                if not raw:
                    continue  # expired between the two reads
                folded = fold(story, [ArchivedReport.from_json(r) for r in raw])
                if region is None or region in folded.regions:
                    found.append(folded)
        return found


async def record(redis: Redis, alert: Alert) -> None:
    """Archive ``alert`` when it reports a violation (the truces role calls this per alert).

    The first call on a database without the backfilled flag reads in the ``alerts`` stream.
    """
    archive = StoryArchive(redis)
    if not await redis.exists(keys.ARCHIVE_BACKFILLED):
        count = await archive.backfill()
        log.info("story archive: %d violation alerts read in from the alerts stream", count)
    await archive.add(alert)
