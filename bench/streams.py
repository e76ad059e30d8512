"""Throughput and handoff latency of produce -> consume -> ack through a real redis-server.

Usage: python -m bench.streams [--entries N]
Prints entries/s and p50/p99 handoff latency (publish to handler start) per batch size.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import tempfile
import time
from pathlib import Path

from core.keys import ARTICLES
from core.models import Article
from core.redis_conn import RedisProcess, make_client
from core.streams import Delivery, StreamConsumer, publish, publish_many
from core.tuning import StreamSettings
from testkit.messages import article

PACED_RATE = 1_000.0


async def run_one(
    url: str, batch_size: int, entries: int, rate: float | None
) -> tuple[float, float, float]:
    """Push ``entries`` (paced at ``rate``/s, or flat out) through one consumer.

    Returns (entries/s, p50 ms, p99 ms of the handoff from publish to handler start).
    """
    redis = make_client(url)
    await redis.flushdb()
    sent: dict[str, float] = {}
    latencies: list[float] = []
    done = asyncio.Event()

    async def handler(a: Article, _: Delivery) -> None:
        latencies.append(time.perf_counter() - sent[a.id])
        if len(latencies) == entries:
            done.set()

    stop = asyncio.Event()
    consumer = StreamConsumer(
        redis, stream=ARTICLES, group="bench", consumer="c", model=Article, handler=handler,
        settings=StreamSettings(batch_size=batch_size, block_ms=100),
    )
    task = asyncio.create_task(consumer.run(stop))
    messages = [article(i) for i in range(entries)]
    start = time.perf_counter()
    if rate is None:
        # Flat out: the producer pipelines 100 XADDs per round trip, so the figure is the
        # consumer's (decode, handle, ack), not the producer's round trips.
        for first in range(0, entries, 100):
            chunk = messages[first : first + 100]
            now = time.perf_counter()
            for message in chunk:
                sent[message.id] = now
            await publish_many(redis, ARTICLES, list(chunk))
            await asyncio.sleep(0)
    for n, message in enumerate(messages if rate is not None else []):
        # Pace against the schedule, not per item, so latency is measured under a fixed load.
        ahead = start + n / rate - time.perf_counter() if rate else 0.0
        if ahead > 0:
            await asyncio.sleep(ahead)
        sent[message.id] = time.perf_counter()
        await publish(redis, ARTICLES, message)
    await asyncio.wait_for(done.wait(), timeout=120)
    # Wait for the final acks so the figure covers the whole round trip.
    while (await redis.xpending(ARTICLES, "bench"))["pending"]:
        await asyncio.sleep(0.001)
    elapsed = time.perf_counter() - start
    stop.set()
    await task
    await redis.aclose()
    q = statistics.quantiles(latencies, n=100)
    return entries / elapsed, q[49] * 1000, q[98] * 1000


async def main(entries: int) -> None:
    """Start a private redis-server (AOF everysec, as in production) and measure each batch size."""
    with tempfile.TemporaryDirectory() as tmp, RedisProcess(Path(tmp)) as server:
        print("flat out (pipelined producer and the consumer in one process):")
        print(f"{'batch':>6} {'entries':>8} {'entries/s':>10} {'p50 ms':>8} {'p99 ms':>8}")
        for batch in (1, 10, 100):
            got, p50, p99 = await run_one(server.url, batch, entries, None)
            print(f"{batch:>6} {entries:>8} {got:>10.0f} {p50:>8.2f} {p99:>8.2f}")
        paced = min(entries, 4_000)
        print(f"paced at {PACED_RATE}/s (handoff latency under a steady load):")
        for batch in (1, 10, 100):
            got, p50, p99 = await run_one(server.url, batch, paced, PACED_RATE)
            print(f"{batch:>6} {paced:>8} {got:>10.0f} {p50:>8.2f} {p99:>8.2f}")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the benchmark process: {rss_mb:.0f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=20_000)
    asyncio.run(main(parser.parse_args().entries))
