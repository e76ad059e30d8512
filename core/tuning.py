"""The nested groups of settings: stream consumers, the poller, WebSub (core/settings.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class StreamSettings(BaseModel):
    """Tuning of every stream consumer and producer."""

    batch_size: int = Field(default=100, ge=1, le=10_000)
    block_ms: int = Field(default=1_000, ge=10, le=60_000)
    # An entry idle this long in another consumer's pending list is taken over.
    claim_idle_ms: int = Field(default=30_000, ge=100)
    claim_interval_s: float = Field(default=5.0, gt=0)
    # With the backoff below, 8 deliveries span about two minutes before dead-lettering.
    max_deliveries: int = Field(default=8, ge=1, le=1_000)
    # Approximate cap far above any backlog: trimming never reaches pending entries.
    maxlen: int = Field(default=1_000_000, ge=10_000)
    # A failed entry is retried after retry_backoff_s * 2^(deliveries-1), capped.
    retry_backoff_s: float = Field(default=1.0, ge=0)
    # An entry whose handler was started this often without ever raising is taken to crash
    # its consumer and is dead-lettered; above max_deliveries so a slow handler that only
    # outlived a few restarts is not mistaken for one.
    max_crashes: int = Field(default=20, ge=1, le=1_000)
    retry_backoff_cap_s: float = Field(default=60.0, ge=0)


class PollerTuning(BaseModel):
    """How hard and how often the poller fetches: every knob of the poller, one default each.

    The poller takes all of its tuning from here (workers/poller builds its fetch limits and
    schedule bounds from it); nothing below keeps a default of its own.
    """

    concurrency: int = Field(default=64, ge=1, le=10_000)  # polls in flight at once
    # Polls dispatched per second at most, spaced evenly (100,000 feeds / 10 min = 167/s).
    max_rate: float = Field(default=200.0, gt=0)
    # How fast a cold start walks through feeds without a stored next poll (spread over at
    # most max_interval_s), so a restart does not fetch every feed at once.
    start_rate: float = Field(default=20.0, gt=0)
    # News is polled every minute at most (a 304 costs well under 1 ms of CPU); a busy feed's
    # learned interval may go down to min_interval_s (see workers/poller/schedule.py).
    min_interval_s: float = Field(default=30.0, ge=1)
    default_interval_s: float = Field(default=60.0, ge=1)
    max_interval_s: float = Field(default=60.0, ge=1)
    # Feeds with `priority: true` in feeds.yaml: at most this interval, learned down to the min.
    priority_interval_s: float = Field(default=30.0, ge=1)
    priority_min_interval_s: float = Field(default=15.0, ge=1)
    deactivate_after: int = Field(default=20, ge=1)
    # auto: processes where two or more CPUs can run them (workers/poller/parse_pool.py).
    # Processes parse about twice as fast on two cores and keep parsing off the event
    # loop's core, for ~45 MiB each of their own; threads keep the poller in one process.
    parse_executor: Literal["auto", "thread", "process"] = "auto"
    parse_workers: int = Field(default=2, ge=1, le=64)
    max_body_mb: float = Field(default=8.0, gt=0, le=512)
    per_host: int = Field(default=2, ge=1, le=100)
    max_connections: int = Field(default=100, ge=1, le=10_000)
    # One fetch, every redirect hop included, ends after fetch_timeout_s whatever happens.
    fetch_timeout_s: float = Field(default=30.0, gt=0, le=600)
    connect_timeout_s: float = Field(default=10.0, gt=0, le=600)
    read_timeout_s: float = Field(default=15.0, gt=0, le=600)
    max_redirects: int = Field(default=5, ge=0, le=20)
    # How long an article id stays known as queued: a feed listing it again is no news.
    seen_ttl_s: int = Field(default=30 * 86_400, ge=60)
    # The run-time feed set is reloaded in full every reload_s, and within watch_s of a change.
    reload_s: float = Field(default=60.0, gt=0)
    watch_s: float = Field(default=2.0, gt=0)
    # On stop, in-flight polls get this long to finish, then are cancelled.
    drain_s: float = Field(default=5.0, ge=0)


class WebSubSettings(BaseModel):
    """WebSub push for feeds that name a hub (workers/poller/websub*.py); off without a port."""

    host: str = "127.0.0.1"  # the callback server; put a TLS proxy at public_base_url
    port: int | None = Field(default=None, ge=0, le=65_535)  # unset: no WebSub, polling only
    lease_s: int = Field(default=864_000, ge=60)  # asked of the hub (it decides)
    # A feed with a live subscription is still polled this often: a lost push costs this.
    fallback_poll_s: float = Field(default=900.0, ge=1)
    check_s: float = Field(default=30.0, gt=0)  # how often subscriptions are renewed, retried
    verify_timeout_s: float = Field(default=300.0, gt=0)  # no verification by then: failed
    retry_s: float = Field(default=600.0, gt=0)  # after a failure, doubling up to a day
