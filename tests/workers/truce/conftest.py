"""Fixtures for the truce extractor tests: one EventExtractor on the shipped configuration."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from core.config_files import default_config_dir
from core.models import Label, TruceEvent
from tests.workers.truce.helpers import PUBLISHED
from workers.truce.extract import EventExtractor

Extract = Callable[..., TruceEvent]


@pytest.fixture(scope="session")
def extractor() -> EventExtractor:
    """The extractor exactly as the classifier role loads it."""
    return EventExtractor.from_config(default_config_dir())


@pytest.fixture(scope="session")
def extract(extractor: EventExtractor) -> Extract:
    """Run the extractor on one item: title, then text, lang, label, regions, published."""

    def run(
        title: str,
        text: str = "",
        *,
        lang: str = "en",
        label: Label = "ceasefire",
        regions: tuple[str, ...] = (),
        published: datetime = PUBLISHED,
    ) -> TruceEvent:
        return extractor.extract(
            title=title, text=text, lang=lang, label=label, regions=regions, published=published
        )

    return run

