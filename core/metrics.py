"""Prometheus metrics every role shares, built once per process on its own registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class CoreMetrics:
    """Stream, heartbeat and lifecycle metrics; role-specific ones live beside each role."""

    def __init__(self, registry: CollectorRegistry) -> None:
        """Register the shared metrics on ``registry``."""
        self.registry = registry
        self.entries = Counter(
            "cw_stream_entries_total",
            "Stream entries handled, by stream and outcome (ok, failed, dead_letter).",
            ["stream", "outcome"],
            registry=registry,
        )
        self.handle_seconds = Histogram(
            "cw_stream_handle_seconds",
            "Time the handler took per stream entry.",
            ["stream"],
            registry=registry,
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.stream_length = Gauge(
            "cw_stream_length", "Entries in the stream.", ["stream"], registry=registry
        )
        self.stream_pending = Gauge(
            "cw_stream_pending", "Entries delivered but not acked.", ["stream", "group"],
            registry=registry,
        )
        self.stream_lag = Gauge(
            "cw_stream_lag", "Entries not yet delivered to the group.", ["stream", "group"],
            registry=registry,
        )
        self.retry_waiting = Gauge(
            "cw_delivery_retry_waiting", "Telegram deliveries waiting for their next retry.",
            registry=registry,
        )
        self.role_restarts = Counter(
            "cw_role_restarts_total", "Times a role crashed and was restarted.", ["role"],
            registry=registry,
        )
        self.role_up = Gauge(
            "cw_role_up", "1 while the role runs in this process.", ["role"], registry=registry
        )
        # Set by the health role's readiness check, for the alerting rules in ops/prometheus.
        self.redis_up = Gauge(
            "cw_redis_up", "1 when Redis answered the last readiness check, else 0.",
            registry=registry,
        )
        self.feeds_failing = Gauge(
            "cw_feeds_failing", "Enabled feeds failing (error streak or deactivated).",
            registry=registry,
        )
        self.feeds_enabled = Gauge("cw_feeds_enabled", "Enabled feeds.", registry=registry)
        self.heartbeat_timestamp = Gauge(
            "cw_role_heartbeat_timestamp_seconds",
            "Unix time of the newest heartbeat of any process of the role (kept when it stops).",
            ["role"], registry=registry,
        )
