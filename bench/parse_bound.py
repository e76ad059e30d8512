"""Parse cost of a feed with far more entries than the cap, unbounded vs bounded before parsing.

Builds an RSS body of 132,000 short entries (just under the 8 MiB body cap) and parses it in a
fresh process each way, printing CPU seconds and peak RSS:

* ``unbounded``: feedparser on the whole body, then the first 500 entries normalised (what
  parse_feed did before the cut);
* ``bounded``: parse_feed as it is now (the body is cut to 500 entries before feedparser).

    .venv/bin/python -m bench.parse_bound
    .venv/bin/python -m bench.parse_bound --entries 132000 --runs 3
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import resource
from datetime import UTC, datetime
from multiprocessing.connection import Connection

BODY_CAP = 8 * 1024 * 1024


def hostile_body(entries: int) -> bytes:
    """Return an RSS document of ``entries`` short items."""
    items = b"".join(b"<item><title>T%d</title><guid>g%d</guid></item>" % (i, i)
                     for i in range(entries))
    return (b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            b"<title>Many</title><link>https://many.example/</link>" + items +
            b"</channel></rss>")


def _measure(mode: str, entries: int, conn: Connection) -> None:
    """Child process: parse once in ``mode``; send (cpu s, peak RSS growth MiB, articles)."""
    import feedparser

    from workers.poller.parse import MAX_ENTRIES, FeedInfo, parse_feed, skip_libxml2_probe

    skip_libxml2_probe()
    body = hostile_body(entries)
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    before = resource.getrusage(resource.RUSAGE_SELF)
    info = FeedInfo("bench", "Bench")
    now = datetime.now(UTC)
    if mode == "unbounded":
        parsed = feedparser.parse(io.BytesIO(body), sanitize_html=False,
                                  resolve_relative_uris=False)
        kept = parsed.entries[:MAX_ENTRIES]
        # Normalise the kept entries as parse_feed would (a cut body of just those entries).
        head = body[: body.index(b"<item>")]
        small = head + b"".join(
            b"<item><title>%s</title><guid>%s</guid></item>"
            % (e.title.encode(), e.id.encode()) for e in kept) + b"</channel></rss>"
        articles = len(parse_feed(small, {}, info, "https://many.example/", now).articles)
    else:
        articles = len(parse_feed(body, {}, info, "https://many.example/", now).articles)
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    conn.send((cpu, (after.ru_maxrss - base_rss) / 1024, articles))


def main() -> None:
    """Run each mode ``--runs`` times in fresh processes and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=132_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    size = len(hostile_body(args.entries))
    print(f"{args.entries:,} entries, {size / 1024 / 1024:.2f} MiB body "
          f"({'within' if size <= BODY_CAP else 'OVER'} the 8 MiB cap)")
    ctx = multiprocessing.get_context("spawn")
    for mode in ("unbounded", "bounded"):
        rows = []
        for _ in range(args.runs):
            here, there = ctx.Pipe()
            proc = ctx.Process(target=_measure, args=(mode, args.entries, there))
            proc.start()
            rows.append(here.recv())
            proc.join()
        cpu = sorted(r[0] for r in rows)[len(rows) // 2]
        rss = sorted(r[1] for r in rows)[len(rows) // 2]
        print(f"  {mode:<10} median of {args.runs}: {cpu:6.2f} s CPU, "
              f"peak RSS +{rss:6.1f} MiB, {rows[0][2]} articles")


if __name__ == "__main__":
    main()
