"""The parse pool (processes where there are cores, threads where one), and parse costs."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from testkit.feeds import FeedServer
from testkit.waiting import wait_until
from tests.workers.poller.helpers import feed_for, make_poller, rss_with
from workers.poller.outcomes import PARSE_COST_FACTOR
from workers.poller.parse import FeedInfo, ParseOutcome
from workers.poller.parse_pool import ParsePool, resolve_kind, usable_cpus
from workers.poller.state import load_state


def test_auto_takes_processes_on_two_or_more_cpus_and_threads_on_one() -> None:
    assert resolve_kind("auto", cpus=1) == "thread"
    assert resolve_kind("auto", cpus=1.5) == "thread"
    assert resolve_kind("auto", cpus=2) == "process"
    assert resolve_kind("auto", cpus=8) == "process"
    # A kind the operator chose is kept whatever the machine.
    assert resolve_kind("thread", cpus=8) == "thread"
    assert resolve_kind("process", cpus=1) == "process"


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="CPU affinity is Linux's")
def test_usable_cpus_is_the_affinity_capped_by_a_cgroup_quota(tmp_path: Path) -> None:
    affinity = len(os.sched_getaffinity(0))
    cpu_max = tmp_path / "cpu.max"
    assert usable_cpus(tmp_path / "absent") == affinity
    cpu_max.write_text("max 100000\n")
    assert usable_cpus(cpu_max) == affinity
    cpu_max.write_text("50000 100000\n")  # docker run --cpus 0.5
    assert usable_cpus(cpu_max) == min(affinity, 0.5)
    cpu_max.write_text("garbage\n")
    assert usable_cpus(cpu_max) == affinity


@pytest.mark.parametrize("kind", ["thread", "process"])
async def test_each_kind_parses_a_feed_into_its_articles(kind: str) -> None:
    body = rss_with([("a/1", "Shelling in the north"), ("a/2", "Talks resume")])
    async with ParsePool(kind, 1) as pool:  # type: ignore[arg-type]
        assert pool.kind == kind
        out = await pool.parse(body, {"Content-Type": "application/rss+xml"},
                               FeedInfo("f1", "Example"), "https://example.org/feed",
                               datetime.now(UTC))
    assert out.error_kind is None
    assert [(a.url, a.title) for a in out.articles] == [
        ("https://news.example.org/a/1", "Shelling in the north"),
        ("https://news.example.org/a/2", "Talks resume"),
    ]


_POOL_THEN_WAIT = """
import asyncio, multiprocessing.forkserver, os, sys
from datetime import UTC, datetime
from workers.poller.parse import FeedInfo
from workers.poller.parse_pool import ParsePool

async def main():
    async with ParsePool("process", 2) as pool:
        # Enough parses at once that both workers start.
        await asyncio.gather(*(pool.parse(BODY, {}, FeedInfo("f", "F"),
                                          "https://news.example.org/", datetime.now(UTC))
                               for _ in range(4)))
        pids = list(pool._executor._processes)
        pids.append(multiprocessing.forkserver._forkserver._forkserver_pid)
        with open(sys.argv[1] + ".part", "w") as out:
            out.write(" ".join(map(str, pids)))
        os.replace(sys.argv[1] + ".part", sys.argv[1])
        await asyncio.sleep(3600)

BODY = %r
asyncio.run(main())
"""


def _running(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead and not yet reaped, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
async def test_parse_workers_and_their_forkserver_go_when_the_poller_is_killed(
    tmp_path: Path,
) -> None:
    body = rss_with([("a/1", "One")])
    pid_file = tmp_path / "pids"
    # No pipes to the child: its workers would inherit them, and an orphan holding one
    # would keep wait() from returning.
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _POOL_THEN_WAIT % body, str(pid_file),
        stdout=asyncio.subprocess.DEVNULL,
    )
    try:
        assert await wait_until(pid_file.exists, timeout=60), "the pool did not start"
        pids = [int(p) for p in pid_file.read_text().split()]
        assert len(pids) == 3 and all(_running(p) for p in pids)  # two workers, the server
        proc.kill()  # no shutdown, no cleanup: as kill -9 or the OOM killer would
        await proc.wait()
        assert await wait_until(lambda: not any(_running(p) for p in pids), timeout=30), (
            f"still running after their poller was killed: {[p for p in pids if _running(p)]}")
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


class _SlowReportingPool:
    """A real parse pool whose parses report that they took ``seconds`` (no real waiting)."""

    def __init__(self, pool: ParsePool, seconds: float) -> None:
        self.pool, self.seconds = pool, seconds

    async def parse(self, *args: Any, **kwargs: Any) -> ParseOutcome:
        out = await self.pool.parse(*args, **kwargs)
        out.seconds = self.seconds
        return out


async def test_a_feed_costly_to_parse_is_polled_no_sooner_than_a_hundred_parses_later(
    redis: Redis,
) -> None:
    """However hostile its markup, one feed takes at most a hundredth of a parse worker."""
    async with FeedServer() as server:
        server.dynamic["slow"] = rss_with([("s1", "Story one")])
        server.dynamic["quick"] = rss_with([("q1", "Quick one")])
        slow = feed_for("slow", server.url("/dyn/slow"))
        quick = feed_for("quick", server.url("/dyn/quick"))
        async with make_poller(redis, [slow, quick]) as poller:
            real = poller.parser
            poller.parser = _SlowReportingPool(real, 30.0)  # type: ignore[assignment]
            costly = await poller.poll(slow)
            poller.parser = _SlowReportingPool(real, 0.01)  # type: ignore[assignment]
            usual = await poller.poll(quick)
            after = poller.clock()
    assert costly.outcome == usual.outcome == "new"
    assert costly.next_poll - after >= 30.0 * PARSE_COST_FACTOR * 0.99
    assert usual.next_poll - after <= poller.bounds.default_s * 1.2  # the usual minute
    assert (await load_state(redis, "slow")).interval_s >= 30.0 * PARSE_COST_FACTOR
