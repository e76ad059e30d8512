"""Minimal valid stream messages, for tests and benches that need many of them quickly."""

from __future__ import annotations

from datetime import UTC, datetime

from core.models import Article


def article(n: int | str) -> Article:
    """Return a minimal valid article with id ``a<n>``."""
    now = datetime.now(UTC)
    return Article(
        id=f"a{n}", feed_id="test", source="Test", url=f"https://example.org/{n}",
        title=f"headline {n}", published=now, fetched=now,
    )
