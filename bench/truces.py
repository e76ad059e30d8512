"""The corpus through the classifier and the truce state, in publication order, in one process.

Usage: python -m bench.truces [--corpus ../shared/corpus/items-100k.jsonl.gz] [--limit N]
       [--candidates FILE] [--since 2023-01-01]

Every item is classified with the truce windows in force at its publication time (the state
folded from the alerts so far, as the truce role keeps it), so an item with no truce word can
become a violation candidate. Prints items/s, p50/p99 per item, peak RSS, the labels, each
region's phase transitions, and every candidate found without a truce word (written to
``--candidates`` as JSON lines, to be judged by hand against the guideline).
"""

from __future__ import annotations

import json
import resource
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from bench.classifier import DEFAULT_CORPUS, _load, _pct
from core.config_files import default_config_dir
from core.models import Alert, Article, TruceContext
from core.truce import apply_in_place
from core.truce_model import Report, TruceState
from workers.classifier.engine import Classifier
from workers.classifier.role import alert_regions
from workers.truce.context import tells_an_incident, windows_at
from workers.truce.extract import EventExtractor


def _published(item: dict[str, Any]) -> datetime:
    raw = str(item.get("published") or "1970-01-01 00:00:00+00:00")
    when = datetime.fromisoformat(raw)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@click.command()
@click.option("--corpus", type=click.Path(path_type=Path, exists=True), default=DEFAULT_CORPUS)
@click.option("--limit", type=int, default=0, help="Only the first N items (0 = all).")
@click.option("--since", default="", help="Only items published on or after this date.")
@click.option("--candidates", type=click.Path(path_type=Path, dir_okay=False), default=None)
@click.option("--timeline", default="", help="Print this region's transitions too.")
def main(corpus: Path, limit: int, since: str, candidates: Path | None, timeline: str) -> None:
    """Run the replay and print its figures."""
    config = default_config_dir()
    clf = Classifier.from_config(config)
    events = EventExtractor.from_config(config)
    items = sorted(_load(corpus, limit), key=_published)
    if since:
        start = datetime.fromisoformat(since).replace(tzinfo=UTC)
        items = [it for it in items if _published(it) >= start]
    states: dict[str, TruceState] = {}
    labels: Counter[str] = Counter()
    found: list[dict[str, Any]] = []
    times: list[int] = []
    t0 = time.perf_counter()
    for it in items:
        at = _published(it)
        t1 = time.perf_counter_ns()
        windows = windows_at(states, at)
        result = clf.classify(it.get("title") or "", it.get("text") or "", it.get("lang"),
                              truces=windows)
        times.append(time.perf_counter_ns() - t1)
        labels[result.label] += 1
        if result.label == "none":
            continue
        article = Article(id=str(it["id"]), feed_id="corpus", source=str(it.get("source", "")),
                          url=str(it.get("url", "")), title=it.get("title") or "",
                          summary=it.get("text") or "", published=at, fetched=at)
        regions = alert_regions(result.regions, ())
        event = events.extract(title=article.title, text=article.summary, lang=result.lang,
                               label=result.label, regions=regions, published=at)
        window = windows.get(result.truce_region)
        if window is not None and not tells_an_incident(event):
            labels["violation"] -= 1
            labels["none"] += 1
            continue
        alert = Alert(
            id=article.id, article=article, label=result.label, score=round(result.score, 4),
            evidence=result.evidence, regions=regions, story_id=article.id, event=event,
            truce=TruceContext(region=window.region, since=window.since, until=window.until)
            if window else None,
        )
        report = Report.from_alert(alert)
        for region in regions:
            if report is not None:
                apply_in_place(states.setdefault(region, TruceState(region=region)), report)
        if window is not None:
            found.append({"id": article.id, "published": at.isoformat(), "region": window.region,
                          "ended": window.ended, "score": alert.score, "title": article.title,
                          "evidence": alert.evidence, "reason": result.reason})
    elapsed = time.perf_counter() - t0
    times.sort()
    click.echo(f"{len(items)} items in {elapsed:.1f} s: {len(items) / elapsed:,.0f} items/s "
               f"(classify + state); per item p50 {_pct(times, 0.5):.0f} us, "
               f"p99 {_pct(times, 0.99):.0f} us; peak RSS "
               f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    click.echo(f"labels: {dict(labels)}")
    for region, state in sorted(states.items()):
        phases = Counter(t.phase for t in state.transitions)
        click.echo(f"  {region}: now {state.phase}, {len(state.violations)} violation stories, "
                   f"transitions {dict(phases)}")
    for t in states[timeline].transitions if timeline in states else []:
        click.echo(f"    {t.at:%Y-%m-%d %H:%M} {t.previous} -> {t.phase} ({t.cause}) "
                   f"{t.title[:70]}")
    click.echo(f"violation candidates without a truce word: {len(found)}")
    for row in found:
        click.echo(f"  {row['published'][:16]} {row['region']}{' (ended)' if row['ended'] else ''}"
                   f" {row['score']:.2f} | {row['title'][:110]}")
    if candidates is not None:
        candidates.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in found))


if __name__ == "__main__":
    main()
