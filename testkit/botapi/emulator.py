"""A local Telegram Bot API emulator (aiohttp.web on 127.0.0.1) for tests and benchmarks.

python-telegram-bot talks to it through ``base_url=f"{emulator.url}/bot"``. It enforces Telegram's
flood limits (30 messages/s overall, 1 message/s per chat, 20 messages/min per group; edits count),
answers 429 with ``retry_after`` when they are exceeded, records every message per chat, and can
inject 429, 403, 400 "chat not found", ChatMigrated and 5xx answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from types import TracebackType
from typing import Any

from aiohttp import web

from core.listen import listen
from testkit.botapi.methods import BotAPIMethods, Call, Counters, Fault, Sent
from testkit.botapi.rules import Window, html_error

SEND_METHODS = frozenset({"sendMessage", "sendPhoto", "editMessageText", "editMessageCaption"})
FAULT_KINDS = frozenset({"429", "403", "chat_not_found", "migrate", "5xx"})


class BotAPIEmulator(BotAPIMethods):
    """Async context manager serving a fake Bot API; see the module docstring."""

    def __init__(
        self,
        token: str = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz0123",
        *,
        overall_per_s: int = 30,
        chat_per_s: int = 1,
        group_per_min: int = 20,
        group_period_s: float = 60.0,
        chat_burst: int = 1,
        enforce_limits: bool = True,
        latency_s: float = 0.0,
    ) -> None:
        super().__init__(token)
        self.enforce_limits = enforce_limits
        self.latency_s = latency_s
        self._overall = Window(overall_per_s, 1.0)
        self._chat_limit = (chat_per_s * chat_burst, float(chat_burst))
        self._group_per_min = group_per_min
        self._group_period_s = group_period_s
        self._chat_windows: dict[int, Window] = {}
        self._group_windows: dict[int, Window] = {}
        self.counters = Counters()
        self.log: list[Call] = []
        self.faults: list[Fault] = []
        self.blocked: set[int] = set()
        self.missing: set[int] = set()
        self.migrated: dict[int, int] = {}
        # Requests about these chats are answered only after this many seconds (a slow call).
        self.delays: dict[int, float] = {}
        self._runner: web.AppRunner | None = None
        self.url = ""

    # ----------------------------------------------------------------- lifecycle
    async def __aenter__(self) -> BotAPIEmulator:
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        # No access log: request paths carry the bot token.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        self.url = f"http://127.0.0.1:{await listen(self._runner, '127.0.0.1')}"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._new_update.set()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        """The value to give PTB's ``base_url``."""
        return f"{self.url}/bot"

    # ------------------------------------------------------------ test helpers
    def inject_fault(self, kind: str, **kwargs: Any) -> None:
        """Answer the next matching request(s) with a failure (see ``Fault``)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        self.faults.append(Fault(kind=kind, **kwargs))

    def inject_message(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        chat_type: str = "private",
        sender_chat: dict[str, Any] | None = None,
        username: str = "user",
        language_code: str | None = None,
    ) -> int:
        """Queue an incoming message (a user typing ``text``); return its update id."""
        message: dict[str, Any] = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": self._chat(chat_id, chat_type),
            "text": text,
        }
        if user_id is not None:
            message["from"] = {"id": user_id, "is_bot": False, "first_name": username}
            if language_code is not None:  # the user's app language (bot/i18n.py)
                message["from"]["language_code"] = language_code
        if sender_chat is not None:
            message["sender_chat"] = sender_chat
        if text.startswith("/"):
            length = len(text.split(maxsplit=1)[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self._push({"message": message})

    def inject_channel_post(
        self, chat_id: int, text: str, *, title: str = "", author_signature: str = ""
    ) -> int:
        """Queue a post in channel ``chat_id`` (no ``from``: a channel post names no one)."""
        chat = {**self._chat(chat_id, "channel"), **({"title": title} if title else {})}
        post: dict[str, Any] = {
            "message_id": next(self._ids), "date": int(time.time()), "chat": chat,
            "sender_chat": chat, "text": text,
        }
        if author_signature:
            post["author_signature"] = author_signature
        if text.startswith("/"):
            length = len(text.split(maxsplit=1)[0])
            post["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self._push({"channel_post": post})

    def inject_callback(
        self, chat_id: int, user_id: int, message_id: int, data: str, *, chat_type: str = "private"
    ) -> int:
        """Queue a press on an inline button of message ``message_id``; return its update id."""
        sent = self.find(chat_id, message_id)
        query = {
            "id": str(next(self._ids)),
            "from": {"id": user_id, "is_bot": False, "first_name": "user"},
            "chat_instance": str(chat_id),
            "data": data,
            "message": {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": self._chat(chat_id, chat_type),
                "text": sent.current if sent else "",
                "from": self._me(),
            },
        }
        return self._push({"callback_query": query})

    async def wait_for_messages(
        self, chat_id: int, count: int, timeout: float = 10.0
    ) -> list[Sent]:
        """Wait until ``chat_id`` holds at least ``count`` messages; return them."""
        deadline = time.monotonic() + timeout
        while len(self.messages.get(chat_id, [])) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(
                    f"chat {chat_id}: {len(self.messages.get(chat_id, []))} of {count} messages"
                )
            self._new_message.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_message.wait(), left)
        return self.messages[chat_id]

    # ---------------------------------------------------------------- internals
    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            with contextlib.suppress(ValueError):
                params.update(await request.json())
            return params
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                params[key] = value.file.read()
                params[f"{key}:filename"] = value.filename  # a document keeps its name
            else:
                params[key] = value
        return params

    def _take_fault(self, method: str, chat_id: int | None) -> Fault | None:
        for fault in self.faults:
            if fault.method is not None and fault.method != method:
                continue
            if fault.method is None and method not in SEND_METHODS:
                continue
            if fault.chat_id is not None and fault.chat_id != chat_id:
                continue
            fault.count -= 1
            if fault.count <= 0:
                self.faults.remove(fault)
            return fault
        return None

    def _fault_response(self, fault: Fault) -> web.Response:
        self.counters.injected += 1
        if fault.kind == "429":
            return self._error(
                429, f"Too Many Requests: retry after {fault.retry_after}",
                retry_after=fault.retry_after,
            )
        if fault.kind == "403":
            return self._error(403, "Forbidden: bot was blocked by the user")
        if fault.kind == "chat_not_found":
            return self._error(400, "Bad Request: chat not found")
        if fault.kind == "migrate":
            return self._error(
                400, "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=fault.migrate_to,
            )
        return self._error(502, "Bad Gateway")

    def _rate_check(self, chat_id: int) -> float:
        now = time.monotonic()
        limit, period = self._chat_limit
        chat_w = self._chat_windows.setdefault(chat_id, Window(limit, period))
        waits = [self._overall.retry_after(now), chat_w.retry_after(now)]
        group_w = None
        if chat_id < 0:
            group_w = self._group_windows.setdefault(
                chat_id, Window(self._group_per_min, self._group_period_s)
            )
            waits.append(group_w.retry_after(now))
        wait = max(waits)
        if wait > 0:
            return wait
        self._overall.add(now)
        chat_w.add(now)
        if group_w is not None:
            group_w.add(now)
        return 0.0

    async def _handle(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        seen: list[int | None] = [None]
        response = await self._dispatch(request, seen)
        self.log.append(Call(arrived, request.match_info["method"], seen[0], response.status))
        return response

    async def _dispatch(  # noqa: PLR0911 -- one early answer per Bot API failure mode
        self, request: web.Request, seen: list[int | None]
    ) -> web.Response:
        method = request.match_info["method"]
        self.counters.requests[method] = self.counters.requests.get(method, 0) + 1
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        params = await self._params(request)
        if self.latency_s and method != "getUpdates":
            await asyncio.sleep(self.latency_s)  # the emulated network: deliberate latency
        chat_id = int(params["chat_id"]) if "chat_id" in params else None
        seen[0] = chat_id
        if chat_id in self.delays:
            await asyncio.sleep(self.delays[chat_id])  # a deliberately slow call (``delays``)
        fault = self._take_fault(method, chat_id)
        if fault is not None:
            return self._fault_response(fault)
        if method in SEND_METHODS and chat_id is not None:
            if chat_id in self.migrated:
                return self._error(
                    400, "Bad Request: group chat was upgraded to a supergroup chat",
                    migrate_to_chat_id=self.migrated[chat_id],
                )
            if chat_id in self.blocked:
                return self._error(403, "Forbidden: bot was blocked by the user")
            if chat_id in self.missing:
                return self._error(400, "Bad Request: chat not found")
            if self.enforce_limits:
                wait = self._rate_check(chat_id)
                if wait > 0:
                    self.counters.rate_limited += 1
                    retry = max(1, math.ceil(wait))
                    return self._error(
                        429, f"Too Many Requests: retry after {retry}", retry_after=retry
                    )
        if params.get("parse_mode") == "HTML":
            problem = html_error(str(params.get("text") or params.get("caption") or ""))
            if problem is not None:
                return self._error(400, f"Bad Request: can't parse entities: {problem}")
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return self._error(404, "Not Found: method not found")
        result: web.Response = await handler(params, chat_id)
        return result
