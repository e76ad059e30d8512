"""Prometheus metrics of the poller, registered at startup on the registry it is given."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector


class PollerMetrics:
    """Polls, 304s, errors by kind, articles queued, parse time and per-feed freshness."""

    def __init__(self, registry: CollectorRegistry) -> None:
        """Create and register every poller metric on ``registry``."""
        self.polls = Counter(
            "cw_poller_polls_total",
            "Feed polls, by outcome (new, unchanged, not_modified, error).",
            ["outcome"], registry=registry,
        )
        self.not_modified = Counter(
            "cw_poller_not_modified_total", "Polls answered 304 Not Modified.", registry=registry
        )
        self.errors = Counter(
            "cw_poller_errors_total", "Failed polls by error kind.", ["kind"], registry=registry
        )
        self.articles_queued = Counter(
            "cw_poller_articles_queued_total", "Articles published to the articles stream.",
            registry=registry,
        )
        self.articles_seen = Counter(
            "cw_poller_articles_duplicate_total", "Parsed articles already queued before.",
            registry=registry,
        )
        self.items_skipped = Counter(
            "cw_poller_items_skipped_total",
            "Feed entries left out because they alone failed to normalise.", registry=registry,
        )
        # The share of bodies the lxml fast path read (fastparse.py): a falling share means
        # feeds it declines (ill-formed XML, markup in text fields) and parsing costs more.
        self.parses = Counter(
            "cw_poller_parses_total",
            "Feed bodies parsed, by path (fast: lxml; feedparser: the fallback).",
            ["path"], registry=registry,
        )
        self.parse_seconds = Histogram(
            "cw_poller_parse_seconds", "Time to parse and normalise one feed body.",
            registry=registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.fetch_seconds = Histogram(
            "cw_poller_fetch_seconds", "Time to fetch one feed (all redirect hops).",
            registry=registry,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        # Per-feed freshness, one series per feed: plain dicts read at scrape time. Label
        # children (a lock and a value object each, thousands of them) cost a poll about
        # 10 µs to set, a fifteenth of a 304; prometheus_client's custom collectors are
        # made for this.
        self.freshness = FeedFreshness()
        registry.register(self.freshness)
        self._outcomes: dict[str, Counter] = {}
        self.feeds = Gauge(
            "cw_poller_feeds", "Feeds known to the poller, by state (active, deactivated).",
            ["state"], registry=registry,
        )
        self.in_flight = Gauge(
            "cw_poller_in_flight", "Polls running right now.", registry=registry
        )
        self.live_pollers = Gauge(
            "cw_poller_live_pollers",
            "Poller replicas this one sees live; each polls its share of the feeds.",
            registry=registry,
        )
        self.live_pollers.set(1)
        self.deactivations = Counter(
            "cw_poller_deactivations_total", "Feeds deactivated after a long failure streak.",
            registry=registry,
        )

    def outcome(self, outcome: str) -> Counter:
        """Return the ``polls`` counter of ``outcome``."""
        child = self._outcomes.get(outcome)
        if child is None:
            child = self._outcomes[outcome] = self.polls.labels(outcome)
        return child

    def forget(self, feed_ids: Iterable[str]) -> None:
        """Drop removed feeds' series: a feed no longer polled must not look stale forever."""
        self.freshness.forget(feed_ids)


class FeedFreshness(Collector):
    """Each feed's last successful poll and newest item (unix times), as two gauges."""

    def __init__(self) -> None:
        """Start with no feed."""
        self.last_success: dict[str, float] = {}
        self.newest_item: dict[str, float] = {}

    def forget(self, feed_ids: Iterable[str]) -> None:
        """Drop the series of ``feed_ids``."""
        for fid in feed_ids:
            self.last_success.pop(fid, None)
            self.newest_item.pop(fid, None)

    def describe(self) -> Iterable[Metric]:
        """Name the two families (without samples), so registering does not collect."""
        return list(self._families(False))

    def collect(self) -> Iterable[Metric]:
        """Yield both gauges with a sample per feed."""
        return list(self._families(True))

    def _families(self, samples: bool) -> Iterator[Metric]:
        for name, doc, values in (
            ("cw_poller_feed_last_success_timestamp_seconds",
             "Unix time of each feed's last successful poll.", self.last_success),
            ("cw_poller_feed_newest_item_timestamp_seconds",
             "Unix time of the newest item seen in each feed.", self.newest_item),
        ):
            family = GaugeMetricFamily(name, doc, labels=["feed"])
            # A copy: a poll on the event loop may add a feed while a scrape thread reads.
            for fid, value in (list(values.items()) if samples else ()):
                family.add_metric([fid], value)
            yield family
