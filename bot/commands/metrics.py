"""Prometheus metrics of the bot's commands, built once per process on its registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class CommandMetrics:
    """Bot commands handled, by command and outcome."""

    def __init__(self, registry: CollectorRegistry) -> None:
        """Register the metrics on ``registry``."""
        self.commands = Counter(
            "cw_bot_commands_total", "Bot commands handled, by command and outcome.",
            ["command", "outcome"], registry=registry,
        )
