"""The delivery latency histogram: since publication and since fetch, clamped at zero."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry

from bot.notifier.metrics import NotifierMetrics


def test_latency_since_publication_and_fetch() -> None:
    registry = CollectorRegistry()
    metrics = NotifierMetrics(registry)
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    published = (now - timedelta(hours=2)).timestamp()
    fetched = (now - timedelta(seconds=3)).timestamp()
    metrics.observe_delivery(published, fetched, now=now.timestamp())
    # A publication date in the future (wrong feed clock) counts as no delay, not negative.
    metrics.observe_delivery(now.timestamp() + 60, None, now=now.timestamp())

    def bucket(since: str, le: str) -> float | None:
        return registry.get_sample_value(
            "cw_alert_delivery_latency_seconds_bucket", {"since": since, "le": le}
        )

    assert bucket("fetched", "2.5") == 0 and bucket("fetched", "5.0") == 1
    assert bucket("published", "0.1") == 1  # the future one
    assert bucket("published", "3600.0") == 1 and bucket("published", "10800.0") == 2
    assert bucket("published", "86400.0") == 2
    assert registry.get_sample_value(
        "cw_alert_delivery_latency_seconds_count", {"since": "fetched"}
    ) == 1
