"""Violation alerts for the story archive and export tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from core.models import Alert, Article, Label, TruceEvent

T0 = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)


def violation(
    n: int, *, story: str = "", hours: float = 0.0, source: str = "Outlet",
    regions: tuple[str, ...] = ("gaza-israel",), label: Label = "violation", score: float = 0.9,
    title: str | None = None, evidence: str = "Shelling continued despite the truce.",
    fetched_late_h: float = 0.0, **event: Any,
) -> Alert:
    """Alert ``al<n>`` published ``hours`` after T0 (fetched ``fetched_late_h`` later)."""
    published = T0 + timedelta(hours=hours)
    article = Article(
        id=f"a{n}", feed_id="f", source=source, url=f"https://example.org/{source}/{n}",
        title=title if title is not None else f"Truce broken in report {n}",
        published=published, fetched=published + timedelta(hours=fetched_late_h),
    )
    return Alert(
        id=f"al{n}", article=article, label=label, score=score, evidence=evidence,
        regions=regions, story_id=story, event=TruceEvent.model_validate(event),
    )
