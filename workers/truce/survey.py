"""What the extractor finds in labelled data: ``python -m workers.truce.survey FILE...``.

Reads JSON-lines files of labelled items (fields lang, date, title, text, label), extracts the
event of every ceasefire and violation item (regions from the classifier's gazetteer, as the
classifier role gives them) and prints counts of kinds, how many items got each field, and
20 sample extractions spread evenly over the files. Items without a usable date are read as
published on SURVEY_DEFAULT_DATE (the figures of times then say little about them).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.config_files import default_config_dir
from core.models import TruceEvent
from workers.classifier.gazetteer import Gazetteer
from workers.truce.extract import EventExtractor

SURVEY_DEFAULT_DATE = datetime(2024, 1, 1, 12, tzinfo=UTC)
FIELDS = ("starts", "ends", "duration_h", "accuser", "accused", "place", "attack", "killed",
          "wounded")
SAMPLES = 20


def published(date: str) -> datetime:
    """Noon UTC of a dataset date ("2023-04-25", "2023-04", "2004/2005"), else the default."""
    for fmt, text in (("%Y-%m-%d", date), ("%Y-%m", date), ("%Y", date[:4])):
        try:
            when = datetime.strptime(text, fmt)
        except ValueError:
            continue
        day = when.day if fmt == "%Y-%m-%d" else 15
        return when.replace(day=day, hour=12, tzinfo=UTC)
    return SURVEY_DEFAULT_DATE


def items(paths: list[Path]) -> Iterator[dict[str, Any]]:
    """The ceasefire and violation items of ``paths``."""
    for path in paths:
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    item = json.loads(line)
                    if item.get("label") in ("ceasefire", "violation"):
                        yield item


def _shown(event: TruceEvent) -> str:
    parts = [f"{k}={v}" for k, v in event.model_dump().items() if v not in (None, "")]
    return ", ".join(parts) or "(nothing)"


def survey(paths: list[Path], config_dir: Path, out: Any = sys.stdout) -> None:
    """Print the survey of ``paths`` to ``out``."""
    extractor = EventExtractor.from_config(config_dir)
    gazetteer = Gazetteer.from_file(config_dir / "regions.yaml")
    kinds: Counter[str] = Counter()
    fields: Counter[str] = Counter()
    rows: list[tuple[dict[str, Any], TruceEvent]] = []
    calls = []
    for item in items(paths):
        title, text = item.get("title") or "", item.get("text") or ""
        calls.append({
            "title": title, "text": text, "lang": item.get("lang") or "en",
            "label": item["label"], "regions": gazetteer.tag(f"{title}\n{text}").regions,
            "published": published(str(item.get("date") or "")),
        })
        event = extractor.extract(**calls[-1])
        kinds[f"{item['label']}:{event.kind}"] += 1
        for name in FIELDS:
            if getattr(event, name) not in (None, ""):
                fields[f"{item['label']}:{name}"] += 1
        rows.append((item, event))
    # Timed on a second pass: the first one also builds the per-region party scanners.
    start = time.perf_counter()
    for call in calls:
        extractor.extract(**call)
    spent = time.perf_counter() - start
    by_label = Counter(item["label"] for item, _ in rows)
    print(f"items: {len(rows)} ({dict(by_label)}); "
          f"{spent / max(len(rows), 1) * 1000:.3f} ms per item", file=out)
    print("kinds:", file=out)
    for key, n in sorted(kinds.items()):
        print(f"  {key:24} {n}", file=out)
    print("fields set:", file=out)
    for label in sorted(by_label):
        shown = "  ".join(f"{name}={fields[f'{label}:{name}']}" for name in FIELDS)
        print(f"  {label}: {shown}", file=out)
    print(f"{SAMPLES} samples:", file=out)
    step = max(len(rows) // SAMPLES, 1)
    for item, event in rows[::step][:SAMPLES]:
        head = (item.get("title") or item.get("text") or "")[:90]
        print(f"- [{item.get('lang')} {item['label']} {item.get('date') or '-'}] {head}", file=out)
        print(f"    {_shown(event)}", file=out)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: survey the given files with the shipped configuration."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--config-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    survey(args.files, args.config_dir or default_config_dir())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
