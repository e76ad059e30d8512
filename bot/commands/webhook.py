"""Optional webhook mode: an aiohttp endpoint feeding the Application (secret checked safely)."""

from __future__ import annotations

import hmac
import json
import logging
import re
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from aiohttp import web
from telegram import Bot, Update
from telegram.ext import Application

from core.listen import listen

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{16,256}$")
MAX_BODY = 1024 * 1024
# Real updates nest about ten levels (a reply's quoted message, its entities...).
MAX_DEPTH = 32


@dataclass(frozen=True)
class WebhookConfig:
    """Where Telegram posts updates (public URL) and where we listen for them."""

    url: str
    secret: str
    host: str = "127.0.0.1"
    port: int = 8443
    path: str = "/telegram/webhook"

    def __post_init__(self) -> None:
        """Refuse a secret Telegram would not accept, or too weak to mean anything."""
        if not _SECRET_RE.match(self.secret):
            raise ValueError("webhook secret must be 16-256 characters of A-Z a-z 0-9 _ -")


class WebhookServer:
    """Receives updates; anything without the right secret header gets 403 and is dropped."""

    def __init__(self, app: Application[Any, Any, Any, Any, Any, Any], cfg: WebhookConfig) -> None:
        self.app = app
        self.cfg = cfg
        self._secret = cfg.secret.encode()
        self._runner: web.AppRunner | None = None
        self.port = cfg.port

    async def __aenter__(self) -> WebhookServer:
        web_app = web.Application(client_max_size=MAX_BODY)
        web_app.router.add_post(self.cfg.path, self._receive)
        self._runner = web.AppRunner(web_app, access_log=None)
        await self._runner.setup()
        self.port = await listen(self._runner, self.cfg.host, self.cfg.port)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        # Constant-time comparison: response timing must not reveal the secret byte by byte.
        if not hmac.compare_digest(given, self._secret):
            log.warning("webhook call without the right secret token refused")
            return web.Response(status=403)
        update, why = parse_update(await request.read(), self.app.bot)
        if update is None:
            log.warning("webhook update refused: %s", why)
            return web.json_response({"ok": False, "error": why}, status=400)
        await self.app.update_queue.put(update)
        return web.Response(status=200)


def parse_update(body: bytes, bot: Bot) -> tuple[Update | None, str]:
    """Return the Update in a webhook body, or None and a short reason it is not one."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None, "body is not JSON"
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        return None, "not a Telegram update object"
    if _deeper_than(data, MAX_DEPTH):
        return None, "update nested too deeply"
    try:
        update = Update.de_json(data, bot)
    except Exception as exc:
        # Whatever a malformed update makes PTB raise, it is the sender's fault: 400, not 500.
        return None, f"malformed update ({type(exc).__name__})"
    return update, ""


def _deeper_than(value: object, limit: int) -> bool:
    """True when ``value`` nests lists and objects more than ``limit`` deep (no recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False
