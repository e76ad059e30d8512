"""Prometheus metrics of the notifier and the bot, built at start-up on the role's registry."""

from __future__ import annotations

from typing import TypeVar

from prometheus_client import CollectorRegistry, Counter, Histogram

T = TypeVar("T")


def reuse(extras: dict[str, object], cls: type[T], registry: CollectorRegistry) -> T:
    """One instance per role context, kept across role restarts (no duplicate registration)."""
    key = f"{cls.__module__}.{cls.__name__}"
    found = extras.get(key)
    if isinstance(found, cls):
        return found
    made = cls(registry)  # type: ignore[call-arg]
    extras[key] = made
    return made


class NotifierMetrics:
    """Deliveries, retries and alerts (labels never hold chat ids, text or tokens)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        """Register the metrics on ``registry``."""
        self.deliveries = Counter(
            "cw_bot_deliveries_total",
            "Per-chat deliveries by outcome (sent, edited, unchanged, duplicate, deactivated, "
            "migrated, failed).",
            ["outcome"], registry=registry,
        )
        self.retries = Counter(
            "cw_bot_retries_total", "Telegram calls retried, by reason (rate_limited, transient).",
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


class CommandMetrics:
    """Bot commands handled, by command and outcome."""

    def __init__(self, registry: CollectorRegistry) -> None:
        """Register the metrics on ``registry``."""
        self.commands = Counter(
            "cw_bot_commands_total", "Bot commands handled, by command and outcome.",
            ["command", "outcome"], registry=registry,
        )
