"""Readers' votes on alerts (correct, false alarm, wrong region), and the precision they give.

One vote per chat and story (a group has one vote: its members' latest press), changeable.
The first vote keeps a snapshot of the story's lead report, so the votes outlive the story
and can be exported as labelled items. A tally per region, language and label is kept in
step with every change by one Lua script: a changed vote moves one count, a repeated one
changes nothing. Nothing here expires: the votes are labelled data.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, cast

from redis.asyncio import Redis

from core import keys
from core.records import record_from_json

VoteKind = Literal["correct", "false_alarm", "wrong_region"]
VOTES: tuple[VoteKind, ...] = ("correct", "false_alarm", "wrong_region")
TEXT_MAX = 2000
DIMENSIONS = ("region", "lang", "label")

# KEYS: votes hash, item key, index zset, tally hash.
# ARGV: chat id, vote, vote record JSON, item JSON, now, story id.
# Returns the previous vote ('' for a first vote); an identical vote returns it and writes
# nothing. The tally's dimensions come from the STORED item, so every change of one story's
# votes moves the same counters even if a later snapshot differed.
_VOTE_LUA = """
local old = redis.call('HGET', KEYS[1], ARGV[1])
local before = ''
if old then
  before = cjson.decode(old)['vote'] or ''
  if before == ARGV[2] then return before end
end
redis.call('SET', KEYS[2], ARGV[4], 'NX')
local item = cjson.decode(redis.call('GET', KEYS[2]))
local dims = {'all:all', 'label:' .. tostring(item['label'] or '')}
local lang = item['lang']
if type(lang) ~= 'string' or lang == '' then lang = '?' end
dims[#dims + 1] = 'lang:' .. lang
if type(item['regions']) == 'table' then
  for _, r in ipairs(item['regions']) do dims[#dims + 1] = 'region:' .. r end
end
for _, d in ipairs(dims) do
  if before ~= '' then redis.call('HINCRBY', KEYS[4], d .. '|' .. before, -1) end
  redis.call('HINCRBY', KEYS[4], d .. '|' .. ARGV[2], 1)
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[6])
return before
"""


@dataclass(frozen=True)
class FeedbackItem:
    """The voted story's lead report, as the export and the tally need it."""

    story_id: str
    alert_id: str
    article_id: str
    lang: str
    title: str
    text: str
    label: str
    score: float
    regions: tuple[str, ...]
    seen: float

    def to_json(self) -> str:
        """Serialised form kept in Redis (the text bounded)."""
        data = asdict(self)
        data["text"] = self.text[:TEXT_MAX]
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str) -> FeedbackItem:
        """Parse the serialised form (fields this version does not know are ignored)."""
        return record_from_json(cls, raw)


@dataclass(frozen=True)
class Vote:
    """One chat's vote on a story: what, who pressed it last, when (epoch s)."""

    chat_id: int
    vote: VoteKind
    user: int | None
    at: float


@dataclass
class Precision:
    """Votes of one slice (a region, a language, a label) and the precision they give."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(VOTES, 0))

    @property
    def votes(self) -> int:
        """Chats that voted on alerts of this slice."""
        return sum(self.counts.values())

    @property
    def label_precision(self) -> float | None:
        """Share of votes saying the label was right (correct or only the region wrong)."""
        total = self.votes
        return (self.counts["correct"] + self.counts["wrong_region"]) / total if total else None

    @property
    def region_precision(self) -> float | None:
        """Share of votes saying the whole alert, regions included, was right."""
        total = self.votes
        return self.counts["correct"] / total if total else None


@dataclass
class PrecisionReport:
    """Precision overall and per region, language and label, from the tally."""

    overall: Precision = field(default_factory=Precision)
    by: dict[str, dict[str, Precision]] = field(default_factory=dict)

    def slices(self, dim: str) -> list[tuple[str, Precision]]:
        """The voted slices of one dimension ('region', 'lang', 'label'), most votes first."""
        found = [(name, p) for name, p in self.by.get(dim, {}).items() if p.votes]
        return sorted(found, key=lambda kv: (-kv[1].votes, kv[0]))

    def rows(self, per_dim: int = 20) -> list[tuple[str, str, Precision]]:
        """(dimension, slice, precision): every alert first, then regions, languages, labels."""
        out = [("all", "all alerts", self.overall)] if self.overall.votes else []
        for dim in DIMENSIONS:
            out += [(dim, name, p) for name, p in self.slices(dim)[:per_dim]]
        return out


def format_share(value: float | None) -> str:
    """A precision as a percentage, or a dash when there are no votes."""
    return "-" if value is None else f"{value * 100:.0f}%"


class FeedbackStore:
    """Votes per (story, chat), the voted stories' snapshots, an index by time and the tally."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._vote = redis.register_script(_VOTE_LUA)

    async def item(self, story_id: str) -> FeedbackItem | None:
        """The snapshot taken at a story's first vote, if any."""
        raw = await self.redis.get(keys.feedback_item(story_id))
        return FeedbackItem.from_json(str(raw)) if raw else None

    async def vote(
        self, item: FeedbackItem, chat_id: int, vote: VoteKind, user: int | None,
        at: float | None = None,
    ) -> VoteKind | None:
        """Record ``chat_id``'s vote on ``item``'s story; return the vote it replaced.

        A repeated identical vote returns that vote and changes nothing.
        """
        if vote not in VOTES:
            raise ValueError(f"unknown vote {vote!r}")
        now = time.time() if at is None else at
        record = json.dumps({"vote": vote, "user": user, "at": now})
        sid = item.story_id
        before = await self._vote(
            keys=[keys.feedback_votes(sid), keys.feedback_item(sid), keys.FEEDBACK_INDEX,
                  keys.FEEDBACK_TALLY],
            args=[str(chat_id), vote, record, item.to_json(), repr(now), sid],
        )
        text = before.decode() if isinstance(before, bytes) else str(before or "")
        return next((v for v in VOTES if v == text), None)

    async def votes(self, story_id: str) -> list[Vote]:
        """Every chat's vote on a story, oldest first."""
        raw = cast(dict[str, str], await self.redis.hgetall(keys.feedback_votes(story_id)))
        out = []
        for chat, value in raw.items():
            data: dict[str, Any] = json.loads(value)
            out.append(Vote(int(chat), data["vote"], data.get("user"), float(data["at"])))
        return sorted(out, key=lambda v: (v.at, v.chat_id))

    async def voted_stories(self, since: float = 0.0) -> list[str]:
        """Stories with a vote at or after ``since`` (epoch s), oldest last vote first."""
        found = await self.redis.zrangebyscore(keys.FEEDBACK_INDEX, since, "+inf")
        return [str(s) for s in found]

    async def precision(self) -> PrecisionReport:
        """Precision overall and per region, language and label, from the tally."""
        raw = cast(dict[str, str], await self.redis.hgetall(keys.FEEDBACK_TALLY))
        report = PrecisionReport()
        for name, count in raw.items():
            slice_, _, vote = str(name).rpartition("|")
            dim, _, value = slice_.partition(":")
            if vote not in VOTES or not dim:
                continue
            if dim == "all":
                target = report.overall
            else:
                target = report.by.setdefault(dim, {}).setdefault(value, Precision())
            target.counts[vote] += int(count)
        return report


def majority(votes: list[Vote]) -> tuple[list[VoteKind], Counter[str]]:
    """The most common vote(s) among chats (several on a tie) and the counts."""
    counts: Counter[str] = Counter(v.vote for v in votes)
    if not counts:
        return [], counts
    top = max(counts.values())
    return [k for k in VOTES if counts[k] == top], counts
