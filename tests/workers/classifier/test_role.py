"""Classifier role: an alert goes to the regions its text names, not to every hint of its feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from core.config_files import default_config_dir
from core.keys import ALERTS, ARTICLES
from core.models import Alert, Article, TruceEvent, decode
from core.streams import Delivery
from core.truce_model import Report
from core.truce_store import add_report
from workers.classifier.engine import Classifier
from workers.classifier.role import (
    STORY_WINDOW_S,
    ArticleHandler,
    ClassifierMetrics,
    alert_regions,
)
from workers.classifier.story_ids import StoryIds
from workers.truce.context import TruceWatch
from workers.truce.extract import EventExtractor

MIDDLE_EAST = ("gaza-israel", "yemen", "iraq")
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def _article(title: str, summary: str, hints: tuple[str, ...], n: int = 1) -> Article:
    return Article(
        id=f"art-{n}", feed_id="feed", source="Outlet", url=f"https://example.org/{n}",
        title=title, summary=summary, lang="en", published=NOW, fetched=NOW,
        region_hints=hints,
    )


@pytest.mark.parametrize(
    ("found", "hints", "regions"),
    [
        (("gaza-israel",), MIDDLE_EAST, ("gaza-israel",)),  # the text decides
        (("lebanon",), MIDDLE_EAST, ("lebanon",)),  # even a region the feed is not hinted for
        ((), ("ukraine",), ("ukraine",)),  # no place named, a one-region feed
        ((), MIDDLE_EAST, ()),  # no place named, a many-region feed: no guess
        ((), (), ()),
    ],
)
def test_alert_regions(
    found: tuple[str, ...], hints: tuple[str, ...], regions: tuple[str, ...]
) -> None:
    assert alert_regions(found, hints) == regions


def _handler(redis: Redis, clf: Classifier) -> ArticleHandler:
    return ArticleHandler(
        redis, clf, ClassifierMetrics(CollectorRegistry()),
        StoryIds(redis, window_s=STORY_WINDOW_S),
        events=EventExtractor.from_config(default_config_dir()),
        watch=TruceWatch(redis, refresh_s=0),
    )


async def _alerts(redis: Redis) -> list[Alert]:
    entries = cast(list[tuple[str, dict[str, str]]], await redis.xrange(ALERTS))
    return [decode(fields, Alert) for _, fields in entries]


async def test_gaza_story_from_a_middle_east_feed_reaches_only_gaza(
    redis: Redis, clf: Classifier
) -> None:
    handler = _handler(redis, clf)
    article = _article(
        "Israeli strikes kill 12 in Khan Younis despite Gaza ceasefire",
        "Hamas accused Israel of violating the ceasefire after strikes on Khan Younis.",
        MIDDLE_EAST,
    )
    await handler(article, Delivery("1-0", ARTICLES, 1))
    [alert] = await _alerts(redis)
    assert alert.label == "violation"
    assert alert.regions == ("gaza-israel",)


async def test_an_alert_carries_the_language_it_was_read_in(
    redis: Redis, clf: Classifier
) -> None:
    """A feed that names no language: the alert says the detected one (votes count by it)."""
    handler = _handler(redis, clf)
    article = _article(
        "Obstrzał Doniecka mimo zawieszenia broni, zginęły dwie osoby",
        "Rosyjskie siły ostrzelały Donieck, łamiąc zawieszenie broni, podały władze Ukrainy.",
        ("ukraine",),
    ).model_copy(update={"lang": ""})
    await handler(article, Delivery("1-0", ARTICLES, 1))
    [alert] = await _alerts(redis)
    assert alert.article.lang == "" and alert.lang == "pl"


async def test_hint_stands_in_only_for_a_one_region_feed(redis: Redis, clf: Classifier) -> None:
    handler = _handler(redis, clf)
    title = "Ceasefire violated as shelling resumes along the front line"
    summary = "Both sides accused each other of breaking the ceasefire overnight."
    await handler(_article(title, summary, ("ukraine",), 1), Delivery("1-0", ARTICLES, 1))
    await handler(_article(title, summary, MIDDLE_EAST, 2), Delivery("2-0", ARTICLES, 1))
    one, many = await _alerts(redis)
    assert one.label == many.label == "violation"
    assert one.regions == ("ukraine",)
    assert many.regions == ()


async def _truce_in_gaza(redis: Redis) -> None:
    """A truce in force in Gaza since an hour before NOW (two reports: it is confirmed)."""
    start = NOW - timedelta(hours=1)
    for n in (1, 2):
        await add_report(redis, "gaza-israel", Report(
            alert_id=f"t{n}", story_id=f"t{n}", at=start, kind="starts", label="ceasefire",
            event=TruceEvent(kind="starts", starts=start, duration_h=96),
        ))


async def test_hostilities_without_a_truce_word_during_a_truce_alert_as_such(
    redis: Redis, clf: Classifier
) -> None:
    handler = _handler(redis, clf)
    title = "Israeli air strike kills three in Khan Younis"
    summary = "Medics said an air strike hit a house in Khan Younis on Monday."
    await handler(_article(title, summary, MIDDLE_EAST, 1), Delivery("1-0", ARTICLES, 1))
    assert await _alerts(redis) == []  # no truce word, no truce known: not an alert
    await _truce_in_gaza(redis)
    await handler(_article(title, summary, MIDDLE_EAST, 2), Delivery("2-0", ARTICLES, 1))
    [alert] = await _alerts(redis)
    assert alert.label == "violation" and alert.rule == "truce_in_force"
    assert alert.truce is not None and alert.truce.region == "gaza-israel"
    assert alert.truce.since == NOW - timedelta(hours=1)
    assert alert.event.attack and alert.event.killed == 3
    # The war named, no incident told: still nothing.
    await handler(_article("Gaza war rages as diplomats meet", "The war in Gaza goes on.",
                           MIDDLE_EAST, 3), Delivery("3-0", ARTICLES, 1))
    assert len(await _alerts(redis)) == 1
