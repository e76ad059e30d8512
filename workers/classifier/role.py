"""The classifier role: ``articles`` stream in, ``alerts`` stream out, each article once."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram
from redis.asyncio import Redis

from core import keys
from core.lifecycle import RoleContext
from core.models import Alert, Article, TruceContext, TruceEvent
from core.settings import Settings
from core.stopping import unless_stopped
from core.streams import Delivery, StreamConsumer, queue_publish
from workers.classifier.engine import Classifier, Result
from workers.classifier.story_ids import StoryIds
from workers.truce.context import TruceWatch, tells_an_incident
from workers.truce.extract import EventExtractor

log = logging.getLogger(__name__)

# How long "this article was classified" is remembered: far beyond any redelivery.
DONE_TTL_S = 7 * 24 * 3600
STORY_WINDOW_S = 48 * 3600


class ClassifierMetrics:
    """Counters of the classifier role, registered once per process."""

    def __init__(self, registry: CollectorRegistry) -> None:
        """Register the classifier's metrics on ``registry``."""
        self.classified = Counter(
            "cw_classified_total",
            "Articles classified, by label and language.",
            ["label", "lang"],
            registry=registry,
        )
        self.seconds = Histogram(
            "cw_classify_seconds",
            "Time to classify one article.",
            registry=registry,
            buckets=(0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01),
        )


def alert_regions(found: tuple[str, ...], hints: tuple[str, ...]) -> tuple[str, ...]:
    """The regions an alert is routed to: those the text names, else the feed's only hint.

    The text decides: a Gaza story from a feed hinted [gaza-israel, yemen, iraq] goes to Gaza
    followers only. A hint stands in only when the gazetteer finds no place at all, and only
    when the feed covers exactly one region (a Kyiv outlet: its unnamed-place items are about
    Ukraine). A multi-region feed's hints say nothing about which of its regions this item
    is about; sending it to all of them is the over-routing this replaces, so it gets none
    and reaches only the readers who follow every region.
    """
    if found:
        return found
    return hints if len(hints) == 1 else ()


def build_alert(
    article: Article,
    result: Result,
    story_id: str,
    event: TruceEvent | None = None,
    truce: TruceContext | None = None,
) -> Alert:
    """Return the alert for ``article``; its id is the article's, so redelivery stays one alert."""
    return Alert(
        id=article.id,
        article=article,
        label=result.label,
        score=round(result.score, 4),
        p_violation=round(result.p_violation, 4),
        alert_threshold=result.alert_threshold,
        evidence=result.evidence,
        rule=result.rule,
        lang=result.lang or article.lang,
        regions=alert_regions(result.regions, article.region_hints),
        parties=result.parties,
        story_id=story_id,
        classified=datetime.now(UTC),
        event=event or TruceEvent(),
        truce=truce,
    )


class ArticleHandler:
    """Classifies one article and, unless it is ``none``, writes its alert exactly once."""

    def __init__(
        self,
        redis: Redis,
        classifier: Classifier,
        metrics: ClassifierMetrics,
        stories: StoryIds,
        *,
        events: EventExtractor,
        watch: TruceWatch,
    ) -> None:
        """Hold what the handler needs; nothing runs until it is called."""
        self.redis = redis
        self.classifier = classifier
        self.metrics = metrics
        self.stories = stories
        self.events = events
        self.watch = watch

    async def __call__(self, article: Article, delivery: Delivery) -> None:
        """Classify ``article``; publish its alert and a done-marker in one transaction."""
        done_key = keys.classified(article.id)
        if delivery.deliveries > 1 and await self.redis.exists(done_key):
            log.info("article %s already classified; skipping redelivery", article.id)
            return
        truces = await self.watch.windows(article.published)
        with self.metrics.seconds.time():
            result = self.classifier.classify(
                article.title, article.summary, article.lang or None, truces=truces
            )
        self.metrics.classified.labels(result.label, result.lang or "unknown").inc()
        if result.label == "none":
            log.debug("article %s: none (%s)", article.id, result.reason or result.rule)
            return
        regions = alert_regions(result.regions, article.region_hints)
        event = self.events.extract(
            title=article.title,
            text=article.summary,
            lang=result.lang,
            label=result.label,
            regions=regions,
            published=article.published,
        )
        if result.truce_region and not tells_an_incident(event):
            log.debug("article %s: no incident told; not a candidate", article.id)
            return
        story_id = await self.stories.assign(article)
        if event.accuser and event.accused and regions:
            story_id = await self.stories.merge_accusation(story_id, regions[0], event)
        window = truces.get(result.truce_region) if result.truce_region else None
        context = (
            TruceContext(region=window.region, since=window.since, until=window.until)
            if window is not None
            else None
        )
        alert = build_alert(article, result, story_id, event, context)
        # The alert and the marker land together or not at all: a crash before this line
        # redoes the work, a crash after it finds the marker.
        async with self.redis.pipeline(transaction=True) as pipe:
            queue_publish(pipe, keys.ALERTS, alert)
            pipe.set(done_key, "1", ex=DONE_TTL_S)
            await pipe.execute()
        log.info(
            "article %s: %s %.2f story=%s regions=%s rule=%s",
            article.id,
            alert.label,
            alert.score,
            story_id,
            ",".join(alert.regions),
            alert.rule,
        )


def check_config(settings: Settings) -> None:
    """Load lexicons, regions and parameters once, so a bad file stops start-up clearly."""
    Classifier.from_config(settings.config_dir)
    EventExtractor.from_config(settings.config_dir)


def _load(config_dir: Path) -> tuple[Classifier, EventExtractor]:
    return Classifier.from_config(config_dir), EventExtractor.from_config(config_dir)


async def run(ctx: RoleContext) -> None:
    """Consume ``articles`` in group ``classifiers`` until stop."""
    loaded = await unless_stopped(ctx.stop, asyncio.to_thread(_load, ctx.settings.config_dir))
    if loaded is None:
        return  # stopped while loading: nothing taken, nothing to drain
    classifier, events = loaded
    metrics = ctx.metric_set(ClassifierMetrics)
    consumer = StreamConsumer(
        ctx.redis,
        stream=keys.ARTICLES,
        group=keys.group(keys.ARTICLES),
        consumer=ctx.consumer_name,
        model=Article,
        handler=ArticleHandler(
            ctx.redis,
            classifier,
            metrics,
            StoryIds(ctx.redis, window_s=STORY_WINDOW_S),
            events=events,
            watch=TruceWatch(ctx.redis, refresh_s=ctx.settings.truce_refresh_s),
        ),
        settings=ctx.settings.streams,
        metrics=ctx.metrics,
    )
    log.info("classifier ready: languages %s", ", ".join(classifier.languages))
    await consumer.run(ctx.stop)
