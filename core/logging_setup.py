"""Logging: JSON or console lines via structlog, with Telegram bot tokens masked everywhere."""

from __future__ import annotations

import logging
import re
import sys
from typing import Literal

import structlog

# Telegram bot tokens, "<bot id>:<35 url-safe chars>", also inside Bot API URLs.
TOKEN_RE = re.compile(r"\d+:[A-Za-z0-9_-]{30,}")
MASK = "<bot-token>"


def mask_secrets(text: str) -> str:
    """Replace every Telegram bot token in ``text`` by a placeholder."""
    return TOKEN_RE.sub(MASK, text)


class MaskingFormatter(structlog.stdlib.ProcessorFormatter):
    """Formats a record, then masks tokens in the whole line (message, args and traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        """Format then mask, so no code path can leak a token into the output."""
        return mask_secrets(super().format(record))


def configure_logging(level: str, fmt: Literal["json", "console"], stream: object = None) -> None:
    """Route stdlib and structlog records through one masking handler on the root logger."""
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.typing.Processor
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer()
        shared.append(structlog.processors.format_exc_info)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=False)
    formatter = MaskingFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs full request URLs, which carry the bot token: keep it quiet (masked anyway).
    for noisy in ("httpx", "httpcore", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
