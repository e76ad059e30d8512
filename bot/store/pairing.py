"""One-time codes that pair a channel with the bot admin who asked for one, in Redis.

A bot admin gets a code in a private chat (``/bindchannel REGION``); whoever posts it in a
channel proves they can post there, and the code proves a bot admin sent them. Each code is
stored under its SHA-256 (key listings and slow logs never show a live code), expires after
``ttl_s`` and is taken at most once.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from typing import cast

from redis.asyncio import Redis

from core import keys

# No 0/o, 1/l/i: a code is read off one screen and typed on another.
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
CODE_LENGTH = 12  # 31**12: about 59 bits, far beyond guessing within a TTL
PAIRING_TTL_S = 600.0
_CODE = re.compile(f"^[{ALPHABET}]{{{CODE_LENGTH}}}$")


@dataclass(frozen=True)
class Pairing:
    """What a code was issued for: the bot admin who asked, the region to bind, a language."""

    admin: int
    region: str
    lang: str | None = None  # the posts' language given with the code; None: keep the channel's
    admin_lang: str = ""  # the language of the admin's replies (the chat the code was asked in)


def looks_like_code(text: str) -> bool:
    """True when ``text`` has a pairing code's shape (checked before any Redis call)."""
    return bool(_CODE.match(text.strip().lower()))


def _key(code: str) -> str:
    return keys.channel_pairing(hashlib.sha256(code.encode()).hexdigest())


class PairingCodes:
    """Issue and take one-time channel pairing codes."""

    def __init__(self, redis: Redis, ttl_s: float = PAIRING_TTL_S) -> None:
        self.redis = redis
        self.ttl_s = ttl_s

    async def issue(
        self, admin: int, region: str, lang: str | None = None, *, admin_lang: str = ""
    ) -> str:
        """Store a fresh code for ``admin`` and ``region`` (and languages) and return it."""
        data: dict[str, object] = {"admin": admin, "region": region, "admin_lang": admin_lang}
        if lang is not None:
            data["lang"] = lang
        record = json.dumps(data, separators=(",", ":"))
        while True:
            code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
            # NX: a (vanishingly unlikely) live duplicate is never overwritten; draw again.
            if await self.redis.set(_key(code), record, px=max(1, int(self.ttl_s * 1000)),
                                    nx=True):
                return code

    async def take(self, code: str) -> Pairing | None:
        """Consume ``code``: its pairing the first time, None when unknown, used or expired."""
        code = code.strip().lower()
        if not looks_like_code(code):
            return None
        # GET and DEL in one transaction: of two posts racing with one code, one wins.
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.get(_key(code))
            pipe.delete(_key(code))
            raw = cast(str | bytes | None, (await pipe.execute())[0])
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            lang = data.get("lang")
            return Pairing(admin=int(data["admin"]), region=str(data["region"]),
                           lang=None if lang is None else str(lang),
                           admin_lang=str(data.get("admin_lang") or ""))
        except (ValueError, KeyError, TypeError):
            return None
