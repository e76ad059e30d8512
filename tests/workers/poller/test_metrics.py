"""The poller's per-feed freshness gauges: one series per feed, gone with the feed."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from workers.poller.metrics import PollerMetrics

LAST = "cw_poller_feed_last_success_timestamp_seconds"
NEWEST = "cw_poller_feed_newest_item_timestamp_seconds"


def test_each_feed_has_its_series_until_it_is_forgotten() -> None:
    registry = CollectorRegistry()
    metrics = PollerMetrics(registry)
    text = generate_latest(registry).decode()
    assert f"# TYPE {LAST} gauge" in text and f"# TYPE {NEWEST} gauge" in text
    metrics.freshness.last_success.update({"a": 100.0, "b": 200.0})
    metrics.freshness.newest_item["a"] = 90.0
    assert registry.get_sample_value(LAST, {"feed": "a"}) == 100.0
    assert registry.get_sample_value(LAST, {"feed": "b"}) == 200.0
    assert registry.get_sample_value(NEWEST, {"feed": "a"}) == 90.0
    assert f'{LAST}{{feed="b"}} 200.0' in generate_latest(registry).decode()
    metrics.forget(["a"])
    assert registry.get_sample_value(LAST, {"feed": "a"}) is None
    assert registry.get_sample_value(NEWEST, {"feed": "a"}) is None
    assert registry.get_sample_value(LAST, {"feed": "b"}) == 200.0
