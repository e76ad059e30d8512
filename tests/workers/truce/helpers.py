"""Shared constants of the truce extractor tests."""

from __future__ import annotations

from datetime import UTC, datetime

# Wednesday 6 March 2024, 09:00 UTC: every test reads its times against this publication.
# (Israel, Lebanon and Ukraine are on UTC+2 that week, Moscow UTC+3, Baku UTC+4.)
PUBLISHED = datetime(2024, 3, 6, 9, 0, tzinfo=UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware UTC datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)
