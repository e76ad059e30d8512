"""The feedback buttons under a story message, with callback data signed per chat and story.

``fb:<c|f|r>:<story>:<sig>`` where ``sig`` is a truncated HMAC-SHA256 over (chat, story,
vote) keyed by a secret derived from the bot token: a press is honoured only in the chat the
button was sent to, for the story and the vote it names. A forged button, or a genuine one
copied into another chat (a forwarded message keeps its buttons), fails the check. A story
id too long for Telegram's 64 bytes of callback data travels as ``~<digest>``, resolved
through a key written when the button is made.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import N_, translator
from core.feedback import VoteKind

CALLBACK_VOTE = "fb:"
CODES: dict[str, VoteKind] = {"c": "correct", "f": "false_alarm", "r": "wrong_region"}
LETTERS: dict[VoteKind, str] = {v: k for k, v in CODES.items()}
BUTTONS: tuple[tuple[VoteKind, str], ...] = (
    ("correct", N_("✅ Correct")),
    ("false_alarm", N_("❌ False alarm")),
    ("wrong_region", N_("🗺 Wrong region")),
)
SAYS: dict[VoteKind, str] = {
    "correct": N_("correct"), "false_alarm": N_("false alarm"), "wrong_region": N_("wrong region"),
}
MAX_DATA = 64  # bytes of callback_data Telegram accepts
SIG_BYTES = 12  # 16 base64url characters: forging one by guessing is out of reach
REF_MARK = "~"
# "fb:" + letter + ":" + story + ":" + 16-character signature
MAX_STORY = MAX_DATA - len(CALLBACK_VOTE) - 2 - 1 - 16


@dataclass(frozen=True)
class Press:
    """What a pressed button claims: the vote and the story (or its reference)."""

    vote: VoteKind
    story_ref: str
    sig: str


def story_ref(story_id: str) -> str:
    """The story as a button carries it: itself, or ``~digest`` when it is too long."""
    if len(story_id.encode()) <= MAX_STORY and not story_id.startswith(REF_MARK):
        return story_id
    return REF_MARK + hashlib.blake2b(story_id.encode(), digest_size=12).hexdigest()


class VoteSigner:
    """Signs and checks the feedback buttons' callback data with a secret from the token."""

    def __init__(self, token: str) -> None:
        # Derived, not the token itself: a leaked signature tells nothing about the token.
        self._key = hmac.new(token.encode(), b"ceasefire-watch feedback v1", "sha256").digest()

    def sign(self, chat_id: int, story_id: str, vote: VoteKind) -> str:
        """The signature of (chat, story, vote)."""
        msg = f"{chat_id}\n{story_id}\n{vote}".encode()
        digest = hmac.new(self._key, msg, "sha256").digest()[:SIG_BYTES]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def data(self, chat_id: int, story_id: str, vote: VoteKind) -> str:
        """The callback data of one button (at most 64 bytes)."""
        ref = story_ref(story_id)
        return f"{CALLBACK_VOTE}{LETTERS[vote]}:{ref}:{self.sign(chat_id, story_id, vote)}"

    def keyboard(
        self, chat_id: int, story_id: str, lang: str | None = None
    ) -> InlineKeyboardMarkup:
        """The three feedback buttons for ``chat_id``'s message about ``story_id``."""
        t = translator(lang)
        return InlineKeyboardMarkup([[
            InlineKeyboardButton(t.gettext(text), callback_data=self.data(chat_id, story_id, vote))
            for vote, text in BUTTONS
        ]])

    def verify(self, chat_id: int, story_id: str, press: Press) -> bool:
        """True when ``press`` was signed for this chat, this story and its vote."""
        expected = self.sign(chat_id, story_id, press.vote)
        return hmac.compare_digest(expected.encode(), press.sig.encode())


def parse(data: str) -> Press | None:
    """Split callback data into a Press, or None when it is not a well-formed vote button."""
    if not data.startswith(CALLBACK_VOTE) or len(data.encode()) > MAX_DATA:
        return None
    letter, _, rest = data[len(CALLBACK_VOTE):].partition(":")
    ref, _, sig = rest.rpartition(":")
    vote = CODES.get(letter)
    if vote is None or not ref or not sig:
        return None
    return Press(vote, ref, sig)
