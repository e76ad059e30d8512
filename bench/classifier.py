"""Benchmark the classifier on the real news corpus: items/s on one core, and what it flags.

Usage: python -m bench.classifier [--corpus ../shared/corpus/items-100k.jsonl.gz] [--limit N]
       [--sample 15] [--config-dir config]

Prints throughput (headline + lede, one process, one core), p50/p99 latency per item, peak
RSS, how many items get ``violation`` and ``ceasefire``, and a random sample of each to read.
"""

from __future__ import annotations

import gzip
import json
import random
import resource
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import click

from core.config_files import default_config_dir
from workers.classifier.engine import Classifier, Result

DEFAULT_CORPUS = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "items-100k.jsonl.gz"
)


def _load(path: Path, limit: int) -> list[dict[str, Any]]:
    items = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            items.append(json.loads(line))
            if limit and len(items) >= limit:
                break
    return items


def _pct(sorted_ns: list[int], q: float) -> float:
    return sorted_ns[min(len(sorted_ns) - 1, int(q * len(sorted_ns)))] / 1000.0


@click.command()
@click.option("--corpus", type=click.Path(path_type=Path, exists=True), default=DEFAULT_CORPUS)
@click.option("--limit", type=int, default=0, help="Only the first N items (0 = all).")
@click.option("--sample", type=int, default=15, show_default=True, help="Items shown per label.")
@click.option("--config-dir", type=click.Path(path_type=Path, file_okay=False), default=None)
def main(corpus: Path, limit: int, sample: int, config_dir: Path | None) -> None:
    """Run the benchmark and print its figures."""
    clf = Classifier.from_config(config_dir or default_config_dir())
    items = _load(corpus, limit)
    click.echo(f"corpus {corpus.name}: {len(items)} items; languages {', '.join(clf.languages)}")
    rows = [(it.get("title") or "", it.get("text") or "", it.get("lang")) for it in items]

    # Warm-up, then one timed pass (wall clock of the whole loop: the throughput figure).
    for title, text, lang in rows[:200]:
        clf.classify(title, text, lang)
    results: list[Result] = []
    lat: list[int] = []
    clock = time.perf_counter_ns
    start = time.perf_counter()
    for title, text, lang in rows:
        t0 = clock()
        results.append(clf.classify(title, text, lang))
        lat.append(clock() - t0)
    elapsed = time.perf_counter() - start
    lat.sort()
    truce_lat = sorted(n for n, r in zip(lat, results, strict=True) if r.rule != "no_truce_term")

    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    click.echo(f"throughput: {len(rows) / elapsed:,.0f} items/s (one core, headline + lede)")
    click.echo(f"latency per item: p50 {_pct(lat, 0.5):.1f} us, p99 {_pct(lat, 0.99):.1f} us")
    if truce_lat:
        click.echo(
            f"items with truce vocabulary: {len(truce_lat)}; their latency p50 "
            f"{_pct(truce_lat, 0.5):.0f} us, p99 {_pct(truce_lat, 0.99):.0f} us"
        )
    click.echo(f"peak RSS: {rss_mb:.0f} MB")
    counts = Counter(r.label for r in results)
    reasons = Counter(r.reason for r in results if r.reason)
    click.echo(f"labels: {dict(counts)}")
    if reasons:
        click.echo(f"not classified: {dict(reasons)}")
    rng = random.Random(7)
    for label in ("violation", "ceasefire"):
        picked = [(it, r) for it, r in zip(items, results, strict=True) if r.label == label]
        click.echo(f"\n--- {label}: {len(picked)} items; sample of {min(sample, len(picked))} ---")
        for it, r in rng.sample(picked, min(sample, len(picked))):
            click.echo(
                f"[{r.score:.2f} {r.rule} {r.lang} {','.join(r.regions)}] "
                f"{it.get('title', '')[:110]}"
            )
            if r.evidence and r.evidence != it.get("title"):
                click.echo(f"    evidence: {r.evidence[:160]}")


if __name__ == "__main__":
    sys.exit(main())
