"""Prometheus metrics of the notifier, built once per process on its registry."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram

# From a fraction of a second (the pipeline at its best) to a day (feeds that publish late).
LATENCY_BUCKETS = (
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
    3 * 3600.0, 6 * 3600.0, 12 * 3600.0, 86400.0,
)


class NotifierMetrics:
    """Deliveries, retries and alerts (labels never hold chat ids, text or tokens)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        """Register the metrics on ``registry``."""
        self.deliveries = Counter(
            "cw_bot_deliveries_total",
            "Per-chat deliveries by outcome (sent, edited, unchanged, duplicate, deactivated, "
            "migrated, failed, inactive, retry_later, deferred).",
            ["outcome"], registry=registry,
        )
        self.retries = Counter(
            "cw_bot_retries_total",
            "Deliveries parked for another attempt, by reason (rate_limited, transient).",
            ["reason"], registry=registry,
        )
        self.alerts = Counter(
            "cw_bot_alerts_total",
            "Alerts seen by the notifier, by outcome (fanned_out, no_match, console, repeat).",
            ["outcome"], registry=registry,
        )
        self.send_seconds = Histogram(
            "cw_bot_send_seconds", "Time of one Telegram send or edit call.", registry=registry,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.delivery_latency = Histogram(
            "cw_alert_delivery_latency_seconds",
            "Time from an article's publication (since=published) or fetch (since=fetched) to "
            "its delivery: once per alert and chat on the first successful send or edit, or "
            "when the console sink prints it.",
            ["since"], registry=registry, buckets=LATENCY_BUCKETS,
        )
        self.events = Counter(
            "cw_bot_feed_events_total",
            "Feed events (e.g. a feed deactivated) handled, by outcome (sent, logged, stale, "
            "failed, retry).",
            ["outcome"], registry=registry,
        )

    def observe_delivery(
        self, published: float | None, fetched: float | None, now: float | None = None
    ) -> None:
        """Record one delivery's latency since publication and since fetch (epoch seconds).

        A publication date in the future (a feed's clock or time zone is wrong) counts as 0.
        """
        at = time.time() if now is None else now
        for since, start in (("published", published), ("fetched", fetched)):
            if start is not None:
                self.delivery_latency.labels(since).observe(max(0.0, at - start))

