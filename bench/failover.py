"""Failover benchmark: lost and repeated alerts with WAIT on and off, and what WAIT costs.

Each run starts a primary, a replica and three sentinels on 127.0.0.1, runs the service as
four processes under load, SIGKILLs the primary and counts, once everything has drained,
what was lost or repeated and how long each role took to follow (testkit/failover.py).
``--runs`` runs are made with ``REDIS_WAIT_REPLICAS=1`` (the default) and as many with 0;
``--stall 1.5`` stops the replica for 1.5 s before the kill: a replica slower than
``REDIS_WAIT_TIMEOUT_MS``, so waiting pauses and the window's sent markers are not protected.
On one machine the window's writes wait in socket buffers and reach the replica when it
resumes, unless it answers the dead primary first (WAIT's GETACK makes it do so at once) and
the reset discards the rest: expect repeats with WAIT on, at most one per message.
Then the cost of WAIT: the poller's dedupe-and-publish block (``queue_new``, 10 articles) and
the notifier's sent marker (``mark_sent``), timed one at a time against primary + replica.

    .venv/bin/python -m bench.failover --runs 2
    .venv/bin/python -m bench.failover --runs 1 --stall 1.5
    .venv/bin/python -m bench.failover --runs 0      # only the cost of WAIT
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.store.messages import MessageLedger
from core.models import Article
from core.redis_conn import open_redis
from core.settings import Settings
from testkit.failover import Report, run_failover
from testkit.sentinels import SentinelCluster
from workers.poller.dedupe import queue_new


def pct(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def failover_runs(
    runs: int, wait_replicas: int, per_s: int, stall_s: float
) -> list[Report]:
    """``runs`` failover runs, each on fresh servers; print each one's figures."""
    reports = []
    for n in range(runs):
        root = Path(tempfile.mkdtemp(prefix="bench-failover-"))
        async with SentinelCluster(root / "redis") as cluster:
            report = await run_failover(cluster, root, wait_replicas=wait_replicas, seed=n,
                                        per_s=per_s, stall_s=stall_s)
        print(f"[WAIT {'on' if wait_replicas else 'off'}, run {n + 1}] (logs in {root})")
        for line in report.lines():
            print("  " + line)
        reports.append(report)
    return reports


def summary(label: str, reports: list[Report]) -> str:
    """Totals over runs."""
    if not reports:
        return f"{label}: no runs"
    fig = [r.figures for r in reports]
    follow = [max(r.follow.values(), default=float("nan")) for r in reports]
    return (f"{label}: {len(reports)} runs, {sum(r.published for r in reports)} reports; "
            f"articles lost {sum(f.articles_lost for f in fig)}, violation messages lost "
            f"{sum(f.messages_lost for f in fig)} of {sum(f.messages_expected for f in fig)}, "
            f"duplicated {sum(f.messages_repeated for f in fig)}; promotion "
            f"{max(r.promoted_s for r in reports):.1f}s max, last role seen on the new "
            f"primary {max(follow):.1f}s max after the kill")


def _articles(batch: int, size: int) -> list[Article]:
    now = datetime.now(UTC)
    return [Article(id=f"b{batch}-{i}", feed_id="f", source="S", url=f"https://x.org/{batch}/{i}",
                    title="t", published=now, fetched=now) for i in range(size)]


async def wait_cost(iterations: int) -> None:
    """Time queue_new and mark_sent with WAIT off and on, against a primary with a replica."""
    root = Path(tempfile.mkdtemp(prefix="bench-wait-"))
    async with SentinelCluster(root / "redis") as cluster:
        for replicas in (0, 1):
            settings = Settings(redis_sentinels=cluster.endpoints, data_dir=root,
                                redis_wait_replicas=replicas)
            async with open_redis(settings) as redis:
                publish: list[float] = []
                for n in range(iterations):
                    started = time.perf_counter()
                    await queue_new(redis, _articles(n + replicas * iterations, 10),
                                    stream=f"bench:articles:{replicas}")
                    publish.append(time.perf_counter() - started)
                ledger = MessageLedger(redis)
                marks: list[float] = []
                for n in range(iterations):
                    started = time.perf_counter()
                    await ledger.mark_sent(f"a{n}", f"s{n}", 1000 + replicas, n)
                    marks.append(time.perf_counter() - started)
            label = f"WAIT {'on ' if replicas else 'off'}"
            print(f"{label}: queue_new (10 articles) p50 {pct(publish, 0.5) * 1e3:.2f} ms, "
                  f"p99 {pct(publish, 0.99) * 1e3:.2f} ms, "
                  f"{10 * iterations / sum(publish):.0f} articles/s in one task; "
                  f"mark_sent p50 {pct(marks, 0.5) * 1e3:.2f} ms, "
                  f"p99 {pct(marks, 0.99) * 1e3:.2f} ms")


async def run(args: argparse.Namespace) -> int:
    """Failover runs with WAIT on and off, then the cost of WAIT."""
    with_wait = await failover_runs(args.runs, 1, args.rate, args.stall)
    without = await failover_runs(args.runs, 0, args.rate, args.stall)
    if args.runs:
        print(summary("WAIT on ", with_wait))
        print(summary("WAIT off", without))
    await wait_cost(args.iterations)
    return 0


def main() -> None:
    """Parse arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--runs", type=int, default=1, help="failover runs per WAIT setting")
    parser.add_argument("--rate", type=int, default=20, help="reports per second during a run")
    parser.add_argument("--stall", type=float, default=0.0,
                        help="seconds the replica is stopped (SIGSTOP) before the kill")
    parser.add_argument("--iterations", type=int, default=2000, help="timed calls for the cost")
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
