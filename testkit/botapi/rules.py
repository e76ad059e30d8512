"""Rules the Bot API emulator enforces: sliding-window flood limits and Telegram's HTML subset."""

from __future__ import annotations

import re
from collections import deque

ADMIN_FLAGS = (
    "can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages",
    "can_manage_video_chats", "can_restrict_members", "can_promote_members", "can_change_info",
    "can_invite_users", "can_post_stories", "can_edit_stories", "can_delete_stories",
)
_HTML_TAGS = frozenset({
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
    "tg-emoji", "code", "pre", "blockquote",
})
_TAG_RE = re.compile(r"<(/?)([a-z-]+)((?:\s+[a-z-]+(?:=\"[^\"<>]*\")?)*)\s*>")
_ENTITY_RE = re.compile(r"&(?:lt|gt|amp|quot|#\d{1,7}|#x[0-9a-fA-F]{1,6});")


def html_error(text: str) -> str | None:
    """Return why Telegram would refuse ``text`` as parse_mode=HTML, or None if it parses."""
    stack: list[str] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char == "<":
            tag = _TAG_RE.match(text, pos)
            if tag is None or tag.group(2) not in _HTML_TAGS:
                return f"unsupported start tag at byte offset {pos}"
            if tag.group(1):
                if not stack or stack.pop() != tag.group(2):
                    return f"unmatched end tag at byte offset {pos}"
            else:
                stack.append(tag.group(2))
            pos = tag.end()
        elif char == "&":
            entity = _ENTITY_RE.match(text, pos)
            if entity is None:
                return f"unsupported entity at byte offset {pos}"
            pos = entity.end()
        elif char == ">":
            return f"unexpected end tag at byte offset {pos}"
        else:
            pos += 1
    return f"can't find end tag corresponding to start tag {stack[-1]}" if stack else None



class Window:
    """Sliding-window counter: at most ``limit`` events in any ``period`` seconds."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self.times: deque[float] = deque()

    def retry_after(self, now: float) -> float:
        """Seconds until one more event fits (0: it fits now)."""
        while self.times and now - self.times[0] >= self.period:
            self.times.popleft()
        if len(self.times) < self.limit:
            return 0.0
        return self.times[0] + self.period - now

    def add(self, now: float) -> None:
        """Record an event at ``now``."""
        self.times.append(now)
