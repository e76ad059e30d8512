"""Fixtures for bot tests: a Bot API emulator on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from testkit.botapi.emulator import BotAPIEmulator
from tests.bot.helpers import TOKEN


@pytest.fixture
async def emulator() -> AsyncIterator[BotAPIEmulator]:
    """A strict emulator (Telegram's limits enforced) for the test's bot token."""
    async with BotAPIEmulator(TOKEN) as emu:
        yield emu
