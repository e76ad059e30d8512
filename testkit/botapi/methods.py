"""The Bot API methods the emulator answers, over the state it records (chats, messages, updates).

Split from ``testkit.botapi.emulator`` (server, flood limits and injected faults live there).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from testkit.botapi.rules import ADMIN_FLAGS


@dataclass
class Sent:
    """One message the bot sent into a chat, with its later edits."""

    message_id: int
    chat_id: int
    text: str
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None
    photo_bytes: int = 0
    document: bytes = b""  # sendDocument: the file as uploaded, and its name
    document_name: str = ""
    edits: list[str] = field(default_factory=list)

    @property
    def current(self) -> str:
        """The text as the chat sees it now."""
        return self.edits[-1] if self.edits else self.text


@dataclass
class Fault:
    """An injected failure: answer ``count`` matching requests with ``kind``."""

    kind: str
    count: int = 1
    method: str | None = None
    chat_id: int | None = None
    retry_after: int = 1
    migrate_to: int | None = None


@dataclass(frozen=True)
class Call:
    """One request as the emulator saw it (monotonic arrival time, method, chat, status)."""

    at: float
    method: str
    chat_id: int | None
    status: int


@dataclass
class Counters:
    """What the emulator answered, for assertions."""

    requests: dict[str, int] = field(default_factory=dict)
    rate_limited: int = 0
    injected: int = 0


class BotAPIMethods:
    """A fake Bot API's recorded state and its method handlers (``_m_<method>``)."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.messages: dict[int, list[Sent]] = {}
        self.commands: list[dict[str, Any]] = []
        self.webhook: dict[str, str] = {}
        self.scoped_commands: dict[str, list[dict[str, Any]]] = {}
        # A scope's menu for users whose app is in a language: (scope JSON, language code).
        self.scoped_language_commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.language_commands: dict[str, list[dict[str, Any]]] = {}
        self.answered_callbacks: list[dict[str, Any]] = []
        # getChatMember: users listed here are administrators of that group; others members.
        self.chat_admins: dict[int, set[int]] = {}
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(1)
        self._updates: list[dict[str, Any]] = []
        self._new_update = asyncio.Event()
        # Set on every message the bot sends: waiting tests wake on it instead of polling.
        self._new_message = asyncio.Event()

    def find(self, chat_id: int, message_id: int) -> Sent | None:
        """The recorded message ``message_id`` of ``chat_id``, if any."""
        for sent in self.messages.get(chat_id, []):
            if sent.message_id == message_id:
                return sent
        return None

    def texts(self, chat_id: int) -> list[str]:
        """Current texts of every message sent to ``chat_id``, in order."""
        return [s.current for s in self.messages.get(chat_id, [])]

    @property
    def total_sent(self) -> int:
        """Messages sent (not counting edits) over all chats."""
        return sum(len(v) for v in self.messages.values())

    def _push(self, update: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, **update})
        self._new_update.set()
        return update_id

    def _record(self, sent: Sent) -> None:
        self.messages.setdefault(sent.chat_id, []).append(sent)
        self._new_message.set()

    def _me(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Emu", "username": "emu_bot"}

    @staticmethod
    def _chat(chat_id: int, chat_type: str | None = None) -> dict[str, Any]:
        kind = chat_type or ("private" if chat_id > 0 else "supergroup")
        chat: dict[str, Any] = {"id": chat_id, "type": kind}
        if kind != "private":
            chat["title"] = f"chat {chat_id}"
        return chat

    @staticmethod
    def _ok(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error(code: int, description: str, **parameters: Any) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if parameters:
            body["parameters"] = parameters
        return web.json_response(body, status=code)

    @staticmethod
    def _json(value: Any) -> Any:
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                return json.loads(value)
        return value

    async def _m_getMe(self, params: dict[str, Any], chat_id: int | None) -> web.Response:
        return self._ok({**self._me(), "can_join_groups": True, "supports_inline_queries": False})

    async def _m_deleteWebhook(self, params: dict[str, Any], chat_id: int | None) -> web.Response:
        self.webhook = {}
        return self._ok(True)

    async def _m_setWebhook(self, params: dict[str, Any], chat_id: int | None) -> web.Response:
        self.webhook = {k: str(v) for k, v in params.items()}
        return self._ok(True)

    async def _m_setMyCommands(self, params: dict[str, Any], chat_id: int | None) -> web.Response:
        commands = list(self._json(params.get("commands", "[]")))
        scope = self._json(params.get("scope"))
        scoped = bool(scope) and scope.get("type") != "default"
        if params.get("language_code") and scoped:
            key = (json.dumps(scope, sort_keys=True), str(params["language_code"]))
            self.scoped_language_commands[key] = commands
        elif params.get("language_code"):  # the menu of users whose app is in that language
            self.language_commands[str(params["language_code"])] = commands
        elif scoped:
            self.scoped_commands[json.dumps(scope, sort_keys=True)] = commands
        else:
            self.commands = commands
        return self._ok(True)

    async def _m_getMyCommands(self, params: dict[str, Any], chat_id: int | None) -> web.Response:
        return self._ok(self.commands)

    async def _m_getChatMember(self, params: dict[str, Any], chat_id: int | None) -> web.Response:
        user_id = int(params.get("user_id") or 0)
        user = {"id": user_id, "is_bot": False, "first_name": "user"}
        if chat_id is None:
            return self._error(400, "Bad Request: chat not found")
        if user_id in self.chat_admins.get(chat_id, set()):
            flags = ADMIN_FLAGS
            return self._ok({"status": "administrator", "user": user,
                             **dict.fromkeys(flags, False)})
        return self._ok({"status": "member", "user": user})

    async def _m_answerCallbackQuery(
        self, params: dict[str, Any], chat_id: int | None
    ) -> web.Response:
        self.answered_callbacks.append(params)
        return self._ok(True)

    async def _m_getUpdates(self, params: dict[str, Any], chat_id: int | None) -> web.Response:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        deadline = time.monotonic() + min(timeout, 30.0)
        while not self._updates and time.monotonic() < deadline:
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), deadline - time.monotonic())
        limit = int(params.get("limit") or 100)
        return self._ok(self._updates[:limit])

    def _message(self, chat_id: int, sent: Sent) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": sent.message_id,
            "date": int(time.time()),
            "chat": self._chat(chat_id),
            "from": self._me(),
        }
        if sent.photo_bytes:
            message["photo"] = [
                {"file_id": f"p{sent.message_id}", "file_unique_id": f"u{sent.message_id}",
                 "width": 800, "height": 400}
            ]
            if sent.text:
                message["caption"] = sent.current
        elif sent.document_name:
            message["document"] = {
                "file_id": f"d{sent.message_id}", "file_unique_id": f"v{sent.message_id}",
                "file_name": sent.document_name, "file_size": len(sent.document),
            }
            if sent.text:
                message["caption"] = sent.current
        else:
            message["text"] = sent.current
        return message

    async def _m_sendMessage(self, params: dict[str, Any], chat_id: int | None) -> web.Response:
        if chat_id is None or not params.get("text"):
            return self._error(400, "Bad Request: message text is empty")
        text = str(params["text"])
        if len(text) > 4096:
            return self._error(400, "Bad Request: message is too long")
        sent = Sent(
            message_id=next(self._ids), chat_id=chat_id, text=text,
            parse_mode=params.get("parse_mode"),
            reply_markup=self._json(params.get("reply_markup")),
        )
        self._record(sent)
        return self._ok(self._message(chat_id, sent))

    async def _m_sendPhoto(self, params: dict[str, Any], chat_id: int | None) -> web.Response:
        photo = params.get("photo")
        if chat_id is None or not photo:
            return self._error(400, "Bad Request: there is no photo in the request")
        size = len(photo) if isinstance(photo, bytes | str) else 1
        caption = str(params.get("caption") or "")
        if len(caption) > 1024:
            return self._error(400, "Bad Request: message caption is too long")
        sent = Sent(
            message_id=next(self._ids), chat_id=chat_id, text=caption,
            parse_mode=params.get("parse_mode"), photo_bytes=size,
        )
        self._record(sent)
        return self._ok(self._message(chat_id, sent))

    async def _m_sendDocument(self, params: dict[str, Any], chat_id: int | None) -> web.Response:
        document = params.get("document")
        if chat_id is None or not isinstance(document, bytes) or not document:
            # Only uploads: a file_id or URL names a file this emulator never saw.
            return self._error(400, "Bad Request: there is no document in the request")
        caption = str(params.get("caption") or "")
        if len(caption) > 1024:
            return self._error(400, "Bad Request: message caption is too long")
        sent = Sent(
            message_id=next(self._ids), chat_id=chat_id, text=caption,
            parse_mode=params.get("parse_mode"), document=document,
            document_name=str(params.get("document:filename") or "document"),
        )
        self._record(sent)
        return self._ok(self._message(chat_id, sent))

    async def _m_editMessageText(
        self, params: dict[str, Any], chat_id: int | None
    ) -> web.Response:
        if chat_id is None:
            return self._error(400, "Bad Request: chat_id is empty")
        sent = self.find(chat_id, int(params.get("message_id") or 0))
        if sent is None:
            return self._error(400, "Bad Request: message to edit not found")
        text = str(params.get("text") or "")
        if len(text) > 4096:
            return self._error(400, "Bad Request: message is too long")
        markup = self._json(params.get("reply_markup"))
        if text == sent.current and markup == sent.reply_markup:
            return self._error(
                400, "Bad Request: message is not modified: specified new message content and "
                "reply markup are exactly the same as a current content and reply markup "
                "of the message",
            )
        sent.edits.append(text)
        sent.reply_markup = markup
        return self._ok(self._message(chat_id, sent))
