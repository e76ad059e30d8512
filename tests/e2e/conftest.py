"""End-to-end tests: each under a time limit (the chaos run takes minutes on a busy machine)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.core.timeout_guard import time_limit


@pytest.fixture(autouse=True)
def _time_limit() -> Iterator[None]:
    yield from time_limit(900)
