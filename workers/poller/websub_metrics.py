"""Prometheus metrics of WebSub (workers/poller/websub*.py), registered by the poller role."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class WebSubMetrics:
    """Pushes received, verifications answered, and subscriptions by state."""

    def __init__(self, registry: CollectorRegistry) -> None:
        """Create and register the WebSub metrics on ``registry``."""
        self.pushes = Counter(
            "cw_websub_pushes_total", "Content pushed by hubs, by outcome (queued, no_news, "
            "bad_signature, gone, error).", ["outcome"], registry=registry)
        self.verifications = Counter(
            "cw_websub_verifications_total", "Hub verifications of intent, by outcome "
            "(confirmed, refused, denied).", ["outcome"], registry=registry)
        # Every poller process reports the same Redis-wide counts: aggregate with max().
        self.subscriptions = Gauge(
            "cw_websub_subscriptions", "WebSub subscriptions by state (push: verified and "
            "within its lease; expired, pending, failed, denied, unsubscribing).", ["state"],
            registry=registry)
