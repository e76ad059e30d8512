"""Prometheus metrics of the poller, registered at startup on the registry it is given."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


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
        self.last_success = Gauge(
            "cw_poller_feed_last_success_timestamp_seconds",
            "Unix time of each feed's last successful poll.", ["feed"], registry=registry,
        )
        self.newest_item = Gauge(
            "cw_poller_feed_newest_item_timestamp_seconds",
            "Unix time of the newest item seen in each feed.", ["feed"], registry=registry,
        )
        self.per_feed = (self.last_success, self.newest_item)
        # Label children, looked up once: labels() validates and locks on every call, which
        # was a few percent of a 304 poll. forget() drops a removed feed's pair.
        self._outcomes: dict[str, Counter] = {}
        self._children: tuple[dict[str, Gauge], ...] = tuple({} for _ in self.per_feed)
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

    def last_success_of(self, feed_id: str) -> Gauge:
        """Return the ``last_success`` gauge of ``feed_id``."""
        return self._child(0, feed_id)

    def newest_item_of(self, feed_id: str) -> Gauge:
        """Return the ``newest_item`` gauge of ``feed_id`` (created on first use, not before)."""
        return self._child(1, feed_id)

    def _child(self, index: int, feed_id: str) -> Gauge:
        children = self._children[index]
        child = children.get(feed_id)
        if child is None:
            child = children[feed_id] = self.per_feed[index].labels(feed_id)
        return child

    def forget(self, feed_ids: Iterable[str]) -> None:
        """Drop removed feeds' series: a feed no longer polled must not look stale forever."""
        for fid in feed_ids:
            for gauge, children in zip(self.per_feed, self._children, strict=True):
                children.pop(fid, None)  # a removed child would be set in vain
                with contextlib.suppress(KeyError):
                    gauge.remove(fid)
