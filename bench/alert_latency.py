"""Publication -> ALERT, in real time, with the service's DEFAULT settings, WebSub included.

The service runs as it is deployed (``ceasefire-watch run --roles poller,classifier`` in a
child process, the packaged config with only ``feeds.yaml`` replaced) against a private
redis-server. Local feeds (testkit) publish synthetic English violation reports at random
moments: news feeds, feeds empty at their first poll, ``priority: true`` feeds, and one
feed whose hub runs locally (testkit.websub_hub), so the poller subscribes and the hub
pushes. An item's latency runs from the moment it is published (added to its feed, or
handed to the hub) to its alert's entry on the ``alerts`` stream (the entry id is Redis's
time). Prints count, p50, p99 and max per kind and overall, items lost, peak RSS.

    .venv/bin/python -m bench.alert_latency                  # about 5 minutes
    .venv/bin/python -m bench.alert_latency --seconds 60 --items 40

Bounded: items are published for ``--seconds``, then the bench waits at most two of the
longest polling intervals for the last alerts; an item without an alert by then is lost.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import socket
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from bench.poll_latency import Published, print_latencies
from bench.procstat import descendants, peak_rss_mib, private_mib
from core.keys import ALERTS, HEARTBEATS
from core.models import Alert, decode
from core.redis_conn import RedisProcess, make_client
from core.tuning import PollerTuning, WebSubSettings
from testkit.feedgen import write_config
from testkit.feeds import FeedItem, FeedServer
from testkit.pipeline import DEPLOYED, REPO, stop_processes
from testkit.waiting import wait_until
from testkit.websub_hub import WebSubHub

KINDS = ("news", "empty at first poll", "priority", "websub")
WEBSUB_FEED = "hubbed"
_PLACES = ("Donetsk", "Kharkiv", "Zaporizhzhia", "Kherson", "Rafah", "Khan Younis", "Gaza City",
           "Stepanakert", "Idlib", "Aleppo", "Marib", "Hodeidah", "El Fasher", "Goma")
_SYLLABLES = ("ka", "lo", "mi", "ra", "tu", "ve", "zo", "ni", "sa", "do", "pe", "gu", "bi", "fo")




def report(n: int, link: str, rng: random.Random) -> FeedItem:
    """A violation report with its own wording (shared wording would make one story)."""
    words = " ".join("".join(rng.choice(_SYLLABLES) for _ in range(3)) for _ in range(30))
    place = rng.choice(_PLACES)
    return FeedItem(
        guid=link, title=f"Shelling hits {place} despite ceasefire, killing {n % 5 + 2}",
        text=f"Artillery struck residential areas of {place} overnight in violation of the "
             f"ceasefire, officials said. {words}.",
        link=link, published=datetime.now(UTC))


def free_port() -> int:
    """A port free now: the callback URL must name it before the service binds it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def alert_times(redis: Any) -> dict[str, float]:
    """Return link -> when its first alert reached ``alerts`` (the entry id is Redis's ms)."""
    rows = cast(list[tuple[str, dict[str, str]]], await redis.xrange(ALERTS))
    out: dict[str, float] = {}
    for entry_id, fields in rows:
        out.setdefault(decode(fields, Alert).article.url, int(entry_id.split("-")[0]) / 1000)
    return out


async def publisher(
    server: FeedServer, hub: WebSubHub, feeds: list[tuple[str, str]],
    args: argparse.Namespace, *, out: Published, rng: random.Random,
) -> None:
    """Publish ``args.items`` reports at uniformly random moments over ``args.seconds``.

    Each picks a kind first, then a feed of it: the one WebSub feed gets its quarter too.
    """
    by_kind: dict[str, list[str]] = {}
    for fid, kind in feeds:
        by_kind.setdefault(kind, []).append(fid)
    start = time.time()
    moments = sorted(rng.uniform(0, args.seconds) for _ in range(args.items))
    for n, at in enumerate(moments):
        await asyncio.sleep(max(0.0, start + at - time.time()))
        kind = rng.choice(KINDS)
        feed_id = rng.choice(by_kind[kind])
        link = f"https://bench.example/{feed_id}/{n}"
        item = report(n, link, rng)
        out.items[link] = (kind, time.time())
        if kind == "websub":
            await hub.publish(item)  # in the feed document and pushed to the subscriber
        else:
            server.add(feed_id, item)


def feed_list(server: FeedServer, hub: WebSubHub, args: argparse.Namespace
              ) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """The feeds.yaml entries and (feed id, kind) of every feed, older stories in place."""
    entries: list[dict[str, Any]] = []
    kinds: list[tuple[str, str]] = []
    for i in range(args.feeds):
        kind = "priority" if i < args.priority else KINDS[1] if i % 2 else "news"
        fid = f"f{i}"
        server.add_feed(fid)
        if kind != KINDS[1]:  # the others already list older stories
            for k in range(5):
                link = f"https://bench.example/{fid}/old{k}"
                server.add(fid, FeedItem(
                    guid=link, title=f"Council meets on budget {k}", text="x", link=link,
                    published=datetime.fromtimestamp(time.time() - 3600 + k * 600, UTC)))
        entries.append({"id": fid, "url": server.feed_url(fid), "name": fid, "language": "en",
                        "priority": kind == "priority"})
        kinds.append((fid, kind))
    entries.append({"id": WEBSUB_FEED, "url": hub.feed_url, "name": "Hub-backed",
                    "language": "en"})
    kinds.append((WEBSUB_FEED, "websub"))
    return entries, kinds


def service_memory(proc: subprocess.Popen[bytes]) -> tuple[float, float]:
    """Return the service's and its children's summed peak RSS and own memory now, in MiB.

    Their own: parse workers share most pages with their forkserver, which RSS counts again.
    """
    peak = private = 0.0
    for pid in descendants(proc.pid):
        with contextlib.suppress(OSError):  # a child may exit between listing and reading
            peak += peak_rss_mib(pid)
            private += private_mib(pid)
    return peak, private


async def run(args: argparse.Namespace, tmp: Path) -> int:
    """Run the service on default settings against the publishing feeds; print latencies."""
    tuning, websub = PollerTuning(), WebSubSettings()
    rng = random.Random(args.seed)
    redis_proc = RedisProcess(tmp / "redis", appendonly=False)
    redis_proc.start()
    redis = make_client(redis_proc.url)
    published = Published()
    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        async with FeedServer() as server, WebSubHub() as hub:
            entries, kinds = feed_list(server, hub, args)
            write_config(tmp / "config", entries)
            port = free_port()
            env = {**os.environ, "REDIS_URL": redis_proc.url, "CONFIG_DIR": str(tmp / "config"),
                   "DATA_DIR": str(tmp / "data"), "HEALTH_PORT": "0",
                   "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "WEBSUB__PORT": str(port)}
            with (tmp / "service.log").open("wb") as log:
                procs["service"] = subprocess.Popen([*DEPLOYED, "poller,classifier"], cwd=REPO,
                                                    env=env, stdout=log, stderr=subprocess.STDOUT)

            async def started() -> bool:
                # Both roles beat and every feed had its first poll: "empty" feeds were empty.
                polled = all(server.hits[f"/feeds/{fid}.xml"] for fid, _ in kinds[:-1])
                return len(await redis.hkeys(HEARTBEATS)) >= 2 and polled \
                    and hub.feed_fetches > 0

            if not await wait_until(started, timeout=60):
                tail = (tmp / "service.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"service did not start; its log ends:\n{tail}")
            began = time.time()
            await publisher(server, hub, kinds, args, out=published, rng=rng)
            deadline = time.time() + 2 * tuning.max_interval_s * 1.1
            while time.time() < deadline:
                if published.items.keys() <= (await alert_times(redis)).keys():
                    break
                await asyncio.sleep(1.0)
            elapsed = time.time() - began
            rss, private = service_memory(procs["service"])
            pushes = sum(1 for _, status in hub.deliveries if status == 204)
            polls, hub_fetches = server.requests, hub.feed_fetches
            codes = await stop_processes(procs)
        done = await alert_times(redis)
    finally:
        await stop_processes(procs)
        await redis.aclose()
        redis_proc.stop()
    print(f"{args.feeds + 1} feeds ({args.priority} priority, about half the other news feeds "
          f"empty at their first poll, 1 WebSub), {len(published.items)} violation reports "
          f"over {args.seconds:.0f} s; default settings (news {tuning.default_interval_s:g} s, "
          f"priority {tuning.priority_interval_s:g} s, WebSub check {websub.check_s:g} s, "
          f"fallback poll {websub.fallback_poll_s:g} s)")
    print(f"  {polls} polls of the feed server and {hub_fetches} of the hub's feed in "
          f"{elapsed:.0f} s; {pushes} pushes answered 204; service exit {codes['service']}")
    lost = print_latencies(published, done, KINDS, "alerts")
    print(f"  lost (no alert within two intervals of the last publication): {lost}")
    print(f"  peak RSS: service (poller + classifier, parse workers included) {rss:.0f} MiB "
          f"({private:.0f} MiB of its own at the end), bench process {peak_rss_mib():.0f} MiB")
    return 0 if lost == 0 else 1


def main() -> None:
    """Parse arguments, run the bench in a scratch directory, exit 1 if an item was lost."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--feeds", type=int, default=40, help="polled feeds (plus one WebSub)")
    parser.add_argument("--priority", type=int, default=8, help="of them, priority feeds")
    parser.add_argument("--items", type=int, default=160, help="reports published in all")
    parser.add_argument("--seconds", type=float, default=240.0, help="publishing window")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-alert-") as tmp:
        code = asyncio.run(run(args, Path(tmp)))
    raise SystemExit(code)


if __name__ == "__main__":
    main()
