"""Where feeds are parsed, off the event loop: threads, or processes where there are cores.

Parsing a whole feed is CPU work in Python (lxml's tree walk, html.parser for summaries, URL
and date normalising: ~10 ms for a 90 KiB feed). In threads it shares one core with the
event loop under the GIL; in processes it uses every core the machine gives, for memory:
each worker is a process of its own. ``auto`` (the default) takes processes where at least
two CPUs are there to run them, threads where one is.
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import os
import select
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

from workers.poller.parse import FeedInfo, ParseOutcome, parse_feed, skip_libxml2_probe

ParseKind = Literal["auto", "process", "thread"]
_CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def usable_cpus(cpu_max: Path = _CGROUP_CPU_MAX) -> float:
    """Return the CPUs this process may use: its CPU affinity, capped by a cgroup v2 quota.

    A container started with ``--cpus 1`` on an eight-core host sees eight cores in its
    affinity but may use one: worker processes there would only take turns.
    """
    try:
        cpus = float(len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        cpus = float(os.cpu_count() or 1)
    try:
        quota, period = cpu_max.read_text().split()[:2]
        if quota != "max":
            cpus = min(cpus, int(quota) / int(period))
    except (OSError, ValueError, ZeroDivisionError):
        pass  # no cgroup v2 CPU controller here: the affinity is the answer
    return cpus


def resolve_kind(kind: ParseKind, cpus: float | None = None) -> Literal["process", "thread"]:
    """Return the executor kind ``kind`` means here: ``auto`` is processes on 2+ CPUs."""
    if kind != "auto":
        return kind
    return "process" if (usable_cpus() if cpus is None else cpus) >= 2 else "thread"


def _start_worker(poller_pid: int) -> None:
    """Initialise a parse worker process: no libxml2 probe, and gone when its poller is."""
    skip_libxml2_probe()
    threading.Thread(target=_exit_after, args=(poller_pid,), name="poller-watch",
                     daemon=True).start()


def _exit_after(pid: int) -> None:
    # A poller killed outright (kill -9, the OOM killer) would leave its workers, and the
    # forkserver, waiting for ever: a worker holds both ends of its task queue's pipe and
    # the forkserver's "alive" pipe itself, so neither ever reads EOF.
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):  # not Linux 5.3+: look every few seconds
        while _alive(pid):
            time.sleep(2.0)
    else:
        select.select([fd], [], [])  # readable once the process has exited
    os._exit(0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ParsePool:
    """Executor for :func:`parse_feed`: processes use every core, threads save memory."""

    def __init__(self, kind: ParseKind, workers: int) -> None:
        """Choose the executor kind and size (PollerTuning's); it starts in ``__aenter__``."""
        self.kind = resolve_kind(kind)
        self.workers = max(1, workers)
        self._executor: Executor | None = None

    async def __aenter__(self) -> Self:
        """Start the executor (forkserver processes: never fork a running event loop)."""
        if self.kind == "process":
            ctx = multiprocessing.get_context("forkserver")
            # The server imports the parser alone, not the program that started it (all
            # of the service, by default): every worker forked from it shares those pages.
            ctx.set_forkserver_preload([parse_feed.__module__])
            self._executor = ProcessPoolExecutor(
                self.workers, mp_context=ctx, initializer=_start_worker,
                initargs=(os.getpid(),),
            )
        else:
            skip_libxml2_probe()
            self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="feed-parse")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Shut the executor down, cancelling parses that have not started."""
        if self._executor is not None:
            executor, self._executor = self._executor, None
            await asyncio.to_thread(executor.shutdown, True, cancel_futures=True)

    async def parse(
        self, body: bytes, headers: Mapping[str, str], feed: FeedInfo, url: str, fetched: datetime,
        *, bounded: bool = False,
    ) -> ParseOutcome:
        """Run :func:`parse_feed` in the executor."""
        assert self._executor is not None, "use ParsePool as an async context manager"
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor,
            functools.partial(parse_feed, bounded=bounded), body, dict(headers), feed, url, fetched,
        )
