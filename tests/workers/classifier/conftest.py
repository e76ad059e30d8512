"""Fixtures for the classifier tests: one Classifier on the shipped configuration."""

from __future__ import annotations

import pytest

from core.config_files import default_config_dir
from workers.classifier.engine import Classifier


@pytest.fixture(scope="session")
def clf() -> Classifier:
    """The classifier exactly as the service loads it (lexicons, regions, fitted params)."""
    return Classifier.from_config(default_config_dir())
