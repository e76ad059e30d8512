"""Logging masks Telegram bot tokens in message, arguments and tracebacks, JSON or console."""

from __future__ import annotations

import io
import json
import logging

import pytest

from core.logging_setup import configure_logging, mask_secrets

TOKEN = "7012345678:AAF3kx-9_Qz8vLmN0pRsTuVwXyZaBcDeFgH"


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_token_masked_in_every_part_of_a_record(fmt: str) -> None:
    out = io.StringIO()
    configure_logging("DEBUG", fmt, stream=out)  # type: ignore[arg-type]
    log = logging.getLogger("test.masking")
    log.info("calling https://api.telegram.org/bot%s/getMe", TOKEN)
    log.debug(f"inline {TOKEN}")  # noqa: G004 - proves even eager formatting is masked
    try:
        raise RuntimeError(f"request to /bot{TOKEN}/sendMessage failed")
    except RuntimeError:
        log.exception("send failed for chat %d", 42)
    text = out.getvalue()
    assert TOKEN not in text
    assert "7012345678:" not in text
    assert text.count("<bot-token>") >= 3
    assert "RuntimeError" in text
    if fmt == "json":
        records = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
        assert [r["level"] for r in records] == ["info", "debug", "error"]
        assert records[0]["logger"] == "test.masking"


def test_mask_leaves_ordinary_text_alone() -> None:
    assert mask_secrets("chat 12345: 3 alerts at 10:30") == "chat 12345: 3 alerts at 10:30"
