"""The one stream consumer every role uses: ack after effect, retry, claim, dead-letter."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any, Generic, Literal, cast

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from core import keys
from core.metrics import CoreMetrics
from core.models import M, MalformedEntryError, decode
from core.redis_conn import RECONNECT_ERRORS, wait_for_redis
from core.stopping import raise_if_cancelled, sleep_unless_stopped
from core.stream_admin import ensure_group, trim_safely
from core.stream_entries import (
    Delivery,
    Handler,
    PermanentError,
    dead_letter_record,
    entries_of,
)
from core.tuning import StreamSettings

log = logging.getLogger(__name__)


class StreamConsumer(Generic[M]):
    """Reads a stream in a consumer group; acks after the handler; retries, claims, dead-letters."""

    def __init__(
        self,
        redis: Redis,
        *,
        stream: str,
        group: str,
        consumer: str,
        model: type[M],
        handler: Handler[M],
        settings: StreamSettings,
        concurrency: int = 1,
        metrics: CoreMetrics | None = None,
    ) -> None:
        """Configure a consumer; nothing touches Redis until :meth:`run`."""
        self.redis = redis
        self.stream = stream
        self.group = group
        self.consumer = consumer
        self.model = model
        self.handler = handler
        self.cfg = settings
        self.metrics = metrics
        self.concurrency = max(1, concurrency)
        self._sem = asyncio.Semaphore(self.concurrency)
        # Start with our own pending entries: work we read before a restart comes first.
        self._backlog = True
        self._to_ack: list[str] = []
        # When failed entries (left pending) are next retried: backoff grows per delivery.
        self._retry_at: float | None = None
        # Redelivered entries whose handler starts are counted in Redis (see _handle_one).
        self._attempted: set[str] = set()
        self._attempt_of: dict[str, int] = {}
        self.processed = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set; the batch in hand is finished and acked first."""
        await self._ensure_group_retrying(stop)
        housekeeping = asyncio.create_task(self._housekeeping(stop), name=f"claim:{self.stream}")
        try:
            while not stop.is_set():
                try:
                    await self._flush_acks()
                    await self._step()
                except RECONNECT_ERRORS as exc:
                    log.warning("consumer %s lost redis: %s", self.consumer, exc)
                    await wait_for_redis(self.redis, stop)
                    self._backlog = True
                except ResponseError as exc:
                    if "NOGROUP" not in str(exc):
                        raise
                    log.warning("group %s on %s vanished; recreating", self.group, self.stream)
                    await self._ensure_group_retrying(stop)
            with contextlib.suppress(*RECONNECT_ERRORS):
                await self._flush_acks()
        finally:
            housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await housekeeping

    async def _ensure_group_retrying(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await ensure_group(self.redis, self.stream, self.group)
                return
            except RECONNECT_ERRORS:
                await wait_for_redis(self.redis, stop)

    async def _step(self) -> None:
        now = asyncio.get_running_loop().time()
        if self._retry_at is not None and now >= self._retry_at:
            self._retry_at, self._backlog = None, True
        if self._backlog:
            reply = await self.redis.xreadgroup(
                self.group, self.consumer, {self.stream: "0"}, count=self.cfg.batch_size
            )
            entries = entries_of(reply)
            if not entries:
                self._backlog = False
                return
            counts = await self._delivery_counts([eid for eid, _ in entries])
            await self._process(entries, counts)
            return
        block = self.cfg.block_ms
        if self._retry_at is not None:
            # Wake up in time for the next retry even when no new entry arrives.
            block = max(1, min(block, int((self._retry_at - now) * 1000)))
        reply = await self.redis.xreadgroup(
            self.group, self.consumer, {self.stream: ">"},
            count=self.cfg.batch_size, block=block,
        )
        entries = entries_of(reply)
        if entries:
            await self._process(entries, {eid: 1 for eid, _ in entries})

    async def _delivery_counts(self, ids: list[str]) -> dict[str, int]:
        rows = await self.redis.xpending_range(
            self.stream, self.group, min=ids[0], max=ids[-1], count=len(ids) + 16,
            consumername=self.consumer,
        )
        return {str(r["message_id"]): int(r["times_delivered"]) for r in rows}

    async def _process(
        self, entries: list[tuple[str, dict[str, str]]], counts: dict[str, int]
    ) -> None:
        failures: list[int] = []
        lost: list[BaseException] = []

        async def one(entry_id: str, fields: dict[str, str]) -> None:
            deliveries = counts.get(entry_id, 1)
            try:
                async with self._sem:
                    outcome = await self._handle_one(entry_id, fields, deliveries)
            except RECONNECT_ERRORS as exc:
                # Redis went away mid-entry: it stays pending and comes back after reconnecting.
                lost.append(exc)
                return
            if outcome == "ack":
                self._to_ack.append(entry_id)
            elif outcome == "retry":
                failures.append(self._attempt_of.get(entry_id, deliveries))
            self._attempt_of.pop(entry_id, None)

        if self.concurrency == 1:
            # Sequential consumers skip the task-per-entry cost.
            for entry_id, fields in entries:
                await one(entry_id, fields)
                if lost:
                    break
        else:
            async with asyncio.TaskGroup() as tg:
                for entry_id, fields in entries:
                    tg.create_task(one(entry_id, fields))
        if lost:
            raise lost[0]
        await self._flush_acks()
        if failures:
            # Failed entries stay pending and are re-read once their backoff has passed (their
            # delivery count rises each time); new entries keep flowing meanwhile.
            delay = min(self.cfg.retry_backoff_cap_s,
                        self.cfg.retry_backoff_s * 2 ** (max(failures) - 1))
            due = asyncio.get_running_loop().time() + delay
            self._retry_at = due if self._retry_at is None else min(self._retry_at, due)

    async def _handle_one(
        self, entry_id: str, fields: dict[str, str], deliveries: int
    ) -> Literal["ack", "retry", "dead"]:
        """Run the handler on one entry: ack it, leave it pending for a retry, or dead-letter it."""
        started = time.perf_counter()
        attempt = 1
        if deliveries > 1:
            # Redis counts reads, and an entry that only waited (behind the semaphore, or in a
            # consumer that died) was read without being tried. Count real handler starts of
            # redelivered entries instead, so waiting never uses up the retry budget.
            attempt = int(await self.redis.hincrby(keys.stream_attempts(self.stream, self.group),
                                                   entry_id, 1)) + 1
            self._attempted.add(entry_id)
        self._attempt_of[entry_id] = attempt
        if attempt > max(self.cfg.max_deliveries, self.cfg.max_crashes):
            # Started this often without an error: it kills its consumer (a poison entry).
            last = await self.redis.hget(keys.stream_errors(self.stream, self.group), entry_id)
            reason = last if isinstance(last, str) and last else "consumer died while handling it"
            await self._dead_letter(entry_id, fields, attempt - 1, f"gave up: {reason}")
            return "dead"
        try:
            message = decode(fields, self.model)
            await self.handler(message, Delivery(entry_id, self.stream, deliveries))
        except MalformedEntryError as exc:
            await self._dead_letter(entry_id, fields, deliveries, str(exc))
            return "dead"
        except PermanentError as exc:
            await self._dead_letter(entry_id, fields, deliveries, f"permanent: {exc}")
            return "dead"
        except RECONNECT_ERRORS:
            raise
        except Exception as exc:
            raise_if_cancelled(exc)  # a hidden cancellation is a stop, not a failed entry
            error = f"{type(exc).__name__}: {exc}"
            log.warning(
                "handler failed on %s %s (attempt %d/%d): %s",
                self.stream, entry_id, attempt, self.cfg.max_deliveries, error,
            )
            if self.metrics:
                self.metrics.entries.labels(self.stream, "failed").inc()
            if attempt >= self.cfg.max_deliveries:
                await self._dead_letter(entry_id, fields, attempt, error)
                return "dead"
            await self.redis.hset(keys.stream_errors(self.stream, self.group), entry_id, error)
            return "retry"
        self.processed += 1
        if self.metrics:
            self.metrics.entries.labels(self.stream, "ok").inc()
            self.metrics.handle_seconds.labels(self.stream).observe(time.perf_counter() - started)
        return "ack"

    async def _dead_letter(
        self, entry_id: str, fields: dict[str, str], deliveries: int, error: str
    ) -> None:
        """Move an entry to the dead-letter stream and ack it, in one transaction."""
        record = dead_letter_record(
            fields, error, deliveries=deliveries, source_stream=self.stream, source_id=entry_id,
            group=self.group, consumer=self.consumer,
        )
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xadd(keys.dead_letter(self.stream), record)  # type: ignore[arg-type]
            pipe.xack(self.stream, self.group, entry_id)
            pipe.hdel(keys.stream_errors(self.stream, self.group), entry_id)
            pipe.hdel(keys.stream_attempts(self.stream, self.group), entry_id)
            await pipe.execute()
        log.error(
            "dead-lettered %s %s after %d deliveries: %s", self.stream, entry_id, deliveries, error
        )
        if self.metrics:
            self.metrics.entries.labels(self.stream, "dead_letter").inc()

    async def _flush_acks(self) -> None:
        if not self._to_ack:
            return
        ids = list(self._to_ack)
        counted = [i for i in ids if i in self._attempted]
        if counted:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.xack(self.stream, self.group, *ids)
                pipe.hdel(keys.stream_attempts(self.stream, self.group), *counted)
                await pipe.execute()
            self._attempted.difference_update(counted)
        else:
            await self.redis.xack(self.stream, self.group, *ids)
        del self._to_ack[: len(ids)]

    async def _housekeeping(self, stop: asyncio.Event) -> None:
        """Take over entries idle in dead consumers and trim what every group has finished."""
        while not stop.is_set():
            if await sleep_unless_stopped(stop, self.cfg.claim_interval_s):
                return
            try:
                if await self.claim_idle():
                    self._backlog = True
                await trim_safely(self.redis, self.stream, self.cfg.maxlen)
            except (*RECONNECT_ERRORS, ResponseError) as exc:
                log.debug("housekeeping on %s skipped: %s", self.stream, exc)

    async def claim_idle(self) -> int:
        """XAUTOCLAIM entries idle past the timeout into this consumer; return how many."""
        start, claimed = "0-0", 0
        for _ in range(100):  # bounded: at most 100 batches per round
            reply = await self.redis.xautoclaim(
                self.stream, self.group, self.consumer,
                min_idle_time=self.cfg.claim_idle_ms, start_id=start, count=self.cfg.batch_size,
            )
            start, got = str(reply[0]), cast(list[Any], reply[1])
            claimed += len(got)
            if start == "0-0":
                break
        if claimed:
            log.info("claimed %d idle entries on %s for %s", claimed, self.stream, self.consumer)
        return claimed
