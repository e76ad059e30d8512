"""One Redis round trip for the small command lists of many concurrent polls.

Each poll takes its lease and reads its state (one command), then writes what changed and
gives the lease back (another). With 64 polls in flight those are 128 tiny round trips, and
redis-py's per-execute cost (a pooled connection, a timeout per read, packing) was more
than half of a 304 poll's CPU. :class:`PipelineBatcher` queues each poll's commands and
sends everything queued in one write, one batch in flight at a time: while one round trip
is out, the next batch gathers.

Commands are packed by hiredis (the C packer redis-py itself uses) when the caller queues
them: redis-py's pipeline encodes every argument in Python first, which cost a tenth of a
304 poll. Replies are raw (no redis-py response callbacks), decoded as the client decodes.

Semantics are those of separate pipelines: commands are not atomic together, each caller
gets its own replies in order, and a command's error is raised to its caller only (a
connection error to every caller of that batch). A batch that meets a connection error is
sent again under the client's retry policy, as redis-py retries its own pipelines.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import hiredis
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import DataError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

Command = tuple[str | bytes | int | float, ...]
_Queued = tuple[bytes, int, "asyncio.Future[list[Any]]"]


class PipelineBatcher:
    """Coalesces callers' commands into one round trip; see the module docstring."""

    def __init__(self, redis: Redis) -> None:
        """Batch onto ``redis``; nothing runs until the first :meth:`execute`."""
        self.redis = redis
        self._pending: list[_Queued] = []
        self._flushing: asyncio.Task[None] | None = None

    async def execute(self, *commands: Command) -> list[Any]:
        """Queue ``commands`` (argument tuples, as for EXECUTE); return their replies in order.

        An argument hiredis cannot pack (not str, bytes, int or float) raises DataError here,
        to this caller alone, before anything is sent.
        """
        try:
            # The stub types the tuple as one element; any number of arguments is allowed.
            packed = b"".join(hiredis.pack_command(cmd)  # type: ignore[arg-type]
                              for cmd in commands)
        except TypeError as exc:
            raise DataError(str(exc)) from None
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._pending.append((packed, len(commands), future))
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

    async def _send(self, batch: list[_Queued]) -> None:
        try:
            replies = await self._round_trip(batch)
        except BaseException as exc:
            # Every caller of the batch is told: a future left pending would hang its poll for
            # ever (and with it the poller's slot), as a refused connection once did.
            for _, _, future in batch:
                if future.done():
                    continue
                if isinstance(exc, asyncio.CancelledError):
                    future.cancel()
                else:
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise  # cancelled: the callers were told, the flush task ends
            return
        start = 0
        for _, n, future in batch:
            mine, start = replies[start:start + n], start + n
            if future.done():
                continue  # its caller was cancelled meanwhile
            error = next((r for r in mine if isinstance(r, Exception)), None)
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(mine)

    async def _round_trip(self, batch: list[_Queued]) -> list[Any]:
        """Send the batch on a pooled connection; return every reply (errors as values)."""
        payload = [packed for packed, _, _ in batch]
        count = sum(n for _, n, _ in batch)
        pool = self.redis.connection_pool
        # Connecting may fail too (Redis down or restarting): the caller tells the batch.
        conn: AbstractConnection = await pool.get_connection()  # type: ignore[no-untyped-call]

        async def round_trip() -> list[Any]:
            await conn.send_packed_command(payload)
            replies: list[Any] = []
            try:
                # One deadline for the batch's replies, not one per reply: read_response's
                # own timeout (a timer armed and cancelled) was a tenth of a 304 poll's CPU.
                async with asyncio.timeout(conn.socket_timeout):
                    for _ in range(count):
                        try:
                            replies.append(await conn.read_response(timeout=math.inf))
                        except ResponseError as exc:  # read on: the later replies are there
                            replies.append(exc)
            except TimeoutError:
                # As redis-py's own read timeout: an error its retry policy retries on.
                raise RedisTimeoutError("Timeout reading from Redis (a batch of replies)") from None
            return replies

        async def reset(_: Exception) -> None:
            await conn.disconnect()  # a half-read connection must not be reused

        try:
            return await conn.retry.call_with_retry(round_trip, reset)
        except BaseException:
            # Cut short (cancelled mid-read, or out of retries), the batch may have left
            # replies unread on the connection: back in the pool as it is, the next user would
            # read them as its own. Closed, it reconnects clean.
            await conn.disconnect(nowait=True)
            raise
        finally:
            await pool.release(conn)
