"""The truce role: ``alerts`` in (group ``truces``), each region's truce state out.

Every alert that reports a truce event becomes a Report in each of its regions
(core/truce_store.py). The state is a pure fold of those reports, so redelivery and replicas
change nothing; and when the state is lost (``cw:truce:built`` gone) it is rebuilt from the
``alerts`` stream before the next alert is applied.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import cast

from prometheus_client import CollectorRegistry, Counter
from redis.asyncio import Redis

from core import keys, story_archive, truce_store
from core.lifecycle import RoleContext
from core.models import Alert, MalformedEntryError, decode
from core.stopping import sleep_unless_stopped
from core.streams import Delivery, StreamConsumer
from core.truce_model import Report
from workers.truce.escalation import EscalationMetrics, EscalationWatch

log = logging.getLogger(__name__)
REBUILD_PAGE = 1000
GUARD_S = 1.0  # how soon a lost state is noticed when no alert comes


class TruceMetrics:
    """Counters of the truce role, registered once per process."""

    def __init__(self, registry: CollectorRegistry) -> None:
        """Register the truce role's metrics on ``registry``."""
        self.reports = Counter(
            "cw_truce_reports_total",
            "Truce events applied to a region's state, by event kind.",
            ["kind"],
            registry=registry,
        )
        self.rebuilds = Counter(
            "cw_truce_rebuilds_total",
            "Times the truce state was rebuilt from the alerts stream.",
            registry=registry,
        )


async def reports_in_stream(redis: Redis) -> dict[str, list[Report]]:
    """Every report the ``alerts`` stream holds, by region (malformed entries skipped)."""
    by_region: dict[str, list[Report]] = defaultdict(list)
    start = "-"
    while True:
        page = cast(
            list[tuple[str, dict[str, str]]],
            await redis.xrange(keys.ALERTS, start, "+", count=REBUILD_PAGE),
        )
        for _, fields in page:
            try:
                alert = decode(fields, Alert)
            except MalformedEntryError:
                continue  # the notifier's group dead-letters it; it reports nothing here
            report = Report.from_alert(alert)
            if report is not None:
                for region in alert.regions:
                    by_region[region].append(report)
        if len(page) < REBUILD_PAGE:
            return dict(by_region)
        start = f"({page[-1][0]}"


async def rebuild(redis: Redis, metrics: TruceMetrics | None = None) -> int:
    """Rebuild every region's state from the ``alerts`` stream; return the reports applied."""
    by_region = await reports_in_stream(redis)
    await truce_store.rebuild(redis, by_region)
    count = sum(len(r) for r in by_region.values())
    if metrics is not None:
        metrics.rebuilds.inc()
    log.warning("truce state rebuilt from the alerts stream: %d reports, %d regions",
                count, len(by_region))
    return count


class AlertHandler:
    """Applies one alert's truce event to the state of each of its regions."""

    def __init__(
        self, redis: Redis, metrics: TruceMetrics, escalations: EscalationWatch | None = None
    ) -> None:
        """Hold what the handler needs; nothing runs until it is called."""
        self.redis = redis
        self.metrics = metrics
        self.escalations = escalations or EscalationWatch(redis)

    async def __call__(self, alert: Alert, delivery: Delivery) -> None:
        """Store the alert's report; rebuild first when the state was lost."""
        # First: escalation counts every violation story, truce event or not, rebuild or not.
        await self.escalations.record(alert)
        await story_archive.record(self.redis, alert)  # the export's durable copy
        if not await truce_store.is_built(self.redis):
            # The stream holds this alert too: the rebuild applies it with the rest.
            await rebuild(self.redis, self.metrics)
            return
        report = Report.from_alert(alert)
        if report is None:
            return
        for region in alert.regions:
            state = await truce_store.add_report(self.redis, region, report)
            log.info("truce %s: %s from %s -> %s", region, report.kind, alert.id, state.phase)
        self.metrics.reports.labels(report.kind).inc()


async def guard(redis: Redis, metrics: TruceMetrics, stop: asyncio.Event, every_s: float) -> None:
    """Rebuild the state whenever it goes missing, without waiting for the next alert.

    Readers and the classifier's detection read the state between alerts too; a truce that
    vanished for hours because no alert came would be a wrong answer, not a lost one.
    """
    while not stop.is_set():
        if not await truce_store.is_built(redis):
            await rebuild(redis, metrics)
        await sleep_unless_stopped(stop, every_s)


async def run(ctx: RoleContext) -> None:
    """Consume ``alerts`` in group ``truces`` until stop; rebuild lost state meanwhile."""
    metrics = ctx.metric_set(TruceMetrics)
    if not await truce_store.is_built(ctx.redis):
        await rebuild(ctx.redis, metrics)
    escalations = EscalationWatch(ctx.redis, metrics=ctx.metric_set(EscalationMetrics))
    consumer = StreamConsumer(
        ctx.redis,
        stream=keys.ALERTS,
        group=keys.group(keys.ALERTS, role="truces"),
        consumer=ctx.consumer_name,
        model=Alert,
        handler=AlertHandler(ctx.redis, metrics, escalations),
        settings=ctx.settings.streams,
        metrics=ctx.metrics,
    )
    log.info("truce role ready")
    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(guard(ctx.redis, metrics, ctx.stop, GUARD_S))
        await consumer.run(ctx.stop)
