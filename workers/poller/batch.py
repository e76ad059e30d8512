"""One Redis round trip for the small pipelines of many concurrent polls.

Each poll reads its state and takes its lease (one pipeline), then writes what changed and
gives the lease back (another). With 64 polls in flight those are 128 tiny pipelines, and
redis-py's per-execute cost (a pooled connection, a timeout per read, packing) was more
than half of a 304 poll's CPU. :class:`PipelineBatcher` queues each poll's commands and
sends everything queued in one non-transactional pipeline, one batch in flight at a time:
while one round trip is out, the next batch gathers.

Semantics are those of separate pipelines: commands are not atomic together, each caller
gets its own replies in order, and a command's error is raised to its caller only (a
connection error to every caller of that batch).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

Build = Callable[[Pipeline], None]


class PipelineBatcher:
    """Coalesces callers' pipelines into one round trip; see the module docstring."""

    def __init__(self, redis: Redis) -> None:
        """Batch onto ``redis``; nothing runs until the first :meth:`execute`."""
        self.redis = redis
        self._pending: list[tuple[Build, asyncio.Future[list[Any]]]] = []
        self._flushing: asyncio.Task[None] | None = None

    async def execute(self, build: Build) -> list[Any]:
        """Queue the commands ``build`` adds to a pipeline; return their replies in order."""
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._pending.append((build, future))
        if self._flushing is None:
            self._flushing = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        try:
            while self._pending:
                # One turn of the loop first: polls resumed together queue together.
                await asyncio.sleep(0)
                batch, self._pending = self._pending, []
                await self._send(batch)
        finally:
            self._flushing = None

    async def _send(self, batch: list[tuple[Build, asyncio.Future[list[Any]]]]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        spans: list[tuple[int, int]] = []
        for build, future in batch:
            start = len(pipe.command_stack)
            try:
                build(pipe)
            except Exception as exc:  # that caller's bug: its commands are not sent
                del pipe.command_stack[start:]
                if not future.done():
                    future.set_exception(exc)
            spans.append((start, len(pipe.command_stack)))
        try:
            replies = await pipe.execute(raise_on_error=False)
        except BaseException as exc:
            for _, future in batch:
                if future.done():
                    continue
                if isinstance(exc, asyncio.CancelledError):
                    future.cancel()
                else:
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise  # cancelled: the callers were told, the flush task ends
            return
        for (_, future), (start, end) in zip(batch, spans, strict=True):
            if future.done():
                continue  # its caller was cancelled meanwhile, or its build failed
            mine = replies[start:end]
            error = next((r for r in mine if isinstance(r, Exception)), None)
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(mine)
