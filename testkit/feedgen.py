"""What the local feeds carry: dev.jsonl rows as feed items, synthetic reports, the config.

``dev_items``/``item_from_row`` turn the shared evaluation set into feed items (the end-to-end
tests), ``Generator`` makes endless synthetic ones (the benches and the failover scenario),
and ``write_config`` points a copy of the packaged config at the local feeds.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from core.config_files import default_config_dir
from testkit.feeds import FeedItem

_SYLLABLES = ("ka", "lo", "mi", "ra", "tu", "ve", "zo", "ni", "sa", "do", "pe", "gu", "bi", "fo")


def dev_items(path: Path, *, every: int = 1, offset: int = 0) -> list[dict[str, Any]]:
    """Rows of ``dev.jsonl`` (id, lang, source, title, text, label), every ``every``-th one."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return rows[offset::every]


def outlet_of(source: str) -> str:
    """A short feed id for a dev item's ``source`` URL."""
    host = source.split("//", 1)[-1].split("/", 1)[0].removeprefix("www.")
    slug = "".join(c if c.isalnum() else "-" for c in host.lower()).strip("-")[:40] or "feed"
    return f"{slug}-{hashlib.blake2b(source.encode(), digest_size=3).hexdigest()}"


def item_from_row(row: Mapping[str, Any], outlet: str, *, copy: int = 0) -> FeedItem:
    """A feed item for a dev row; ``copy`` > 0 makes another outlet's copy of the same report."""
    suffix = f"-c{copy}" if copy else ""
    published = datetime.now(UTC).replace(microsecond=0)
    return FeedItem(
        guid=f"{row['id']}{suffix}",
        title=str(row["title"]),
        text=str(row.get("text") or ""),
        link=f"https://{outlet}.example/news/{row['id']}{suffix}",
        published=published,
        lang=str(row.get("lang") or ""),
    )


def write_config(
    config_dir: Path, feeds: list[dict[str, Any]], settings: Mapping[str, Any] | None = None
) -> None:
    """Copy the packaged config to ``config_dir``, write ``feeds.yaml``, merge ``settings``."""
    shutil.copytree(default_config_dir(), config_dir, ignore=shutil.ignore_patterns("__*"))
    (config_dir / "feeds.yaml").write_text(yaml.safe_dump({"feeds": feeds}, sort_keys=False))
    path = config_dir / "settings.yaml"
    current: dict[str, Any] = yaml.safe_load(path.read_text()) or {}
    for key, value in (settings or {}).items():
        if isinstance(value, Mapping) and isinstance(current.get(key), dict):
            current[key] = {**current[key], **value}
        else:
            current[key] = value
    path.write_text(yaml.safe_dump(current, sort_keys=False))


@dataclass
class Generator:
    """Synthetic reports: unique wording (so each is its own story), 10% violations."""

    feeds: int
    zones: int
    rng: random.Random
    made: int = 0
    violations: int = 0

    def _word(self) -> str:
        return "".join(self.rng.choice(_SYLLABLES) for _ in range(self.rng.randint(3, 4)))

    def _words(self, n: int) -> str:
        return " ".join(self._word() for _ in range(n))

    def next(self) -> tuple[str, FeedItem, bool]:
        """Return (feed id, item, is_violation) of the next report."""
        n, self.made = self.made, self.made + 1
        kind = n % 10
        place, other = self._word().title(), self._word().title()
        # Only the headline carries the signal; the lede is unique wording, as real reports
        # of different events are (shared boilerplate would merge them into one story).
        text = f"{self._words(40)}."
        if kind == 0:
            # Violations walk the feeds in order, so each zone's chat gets one every
            # ``zones`` violations (feed f carries zone f % zones).
            feed = self.violations % self.feeds
            self.violations += 1
            title = f"Shelling hits {place} despite ceasefire"
        elif kind in (1, 2, 3):
            feed = n % self.feeds
            title = f"Ceasefire talks on {place} resume in {other}"
        else:
            feed = n % self.feeds
            title = f"Council of {place} approves {other} budget"
        item = FeedItem(
            guid=f"b{n}", title=title, text=text,
            link=f"https://bench-{feed}.example/news/{n}",
            published=datetime.now(UTC).replace(microsecond=0),
        )
        return f"bench-{feed}", item, kind == 0
