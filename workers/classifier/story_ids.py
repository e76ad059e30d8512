"""Story ids: near-duplicate articles from different outlets share one story id.

MinHash signatures over the words of title + summary, indexed by LSH bands in Redis. Every
key expires after the grouping window, so a story only gathers articles seen within it.
An article's story is looked up and written by one script, so a redelivered article gets the
same id and concurrent replicas agree.
"""

from __future__ import annotations

import hashlib
import math
import re
import struct
from collections.abc import Sequence
from typing import Any, cast

from redis.asyncio import Redis

from core import keys
from core.models import Article, TruceEvent
from workers.classifier.text import fold

PREFIX = keys.STORY_PREFIX
NUM_HASHES = 32
BANDS = 16  # 16 bands x 2 rows: pairs with Jaccard 0.4 meet in a band with p ~ 0.94
ROWS = NUM_HASHES // BANDS
THRESHOLD = 0.45  # estimated Jaccard needed to join a story (checked on the full signature)
_WORD = re.compile(r"\w{3,}")
_SUMMARY_CHARS = 400  # the lede's start: later text is where outlets differ most
_LANES = struct.Struct(f"<{NUM_HASHES}Q")
_EMPTY = (2**64 - 1,) * NUM_HASHES


def words(title: str, summary: str) -> set[str]:
    """The distinct words (3+ letters, folded) of the headline and the lede's start."""
    return set(_WORD.findall(fold(f"{title} {summary[:_SUMMARY_CHARS]}")))


def signature(title: str, summary: str) -> tuple[int, ...]:
    """MinHash signature (NUM_HASHES values); all-max for an empty text.

    Each word gets NUM_HASHES independent 64-bit hashes from one SHAKE-128 digest (never
    Python's salted hash(), so every process agrees); the signature is their minimum per
    lane. Unpacking and the minima run in C: 40 words cost ~30 us, not ~300 us.
    """
    rows = [_LANES.unpack(hashlib.shake_128(w.encode()).digest(_LANES.size))
            for w in words(title, summary)]
    return tuple(map(min, zip(*rows, strict=True))) if rows else _EMPTY


def similarity(sig_a: Sequence[int], sig_b: Sequence[int]) -> float:
    """Estimated Jaccard similarity of two signatures."""
    same = sum(1 for x, y in zip(sig_a, sig_b, strict=True) if x == y)
    return same / NUM_HASHES


def bands(sig: Sequence[int]) -> list[str]:
    """LSH band keys of a signature."""
    out = []
    for i in range(BANDS):
        chunk = ",".join(str(v) for v in sig[i * ROWS : (i + 1) * ROWS])
        digest = hashlib.blake2b(chunk.encode(), digest_size=8).hexdigest()
        out.append(f"{PREFIX}band:{i}:{digest}")
    return out


def _encode(sig: Sequence[int]) -> str:
    return ",".join(f"{v:x}" for v in sig)


# One round trip instead of ~50 commands: look the article up, read its bands' members,
# score them against its signature, record it and add it to its bands, atomically (so
# concurrent replicas agree without a HSETNX race). Signature values are compared as hex
# strings: Lua numbers are doubles and cannot hold 64-bit values.
# KEYS: article record, band sets. ARGV: article id, signature, window s, values that must
# agree to join, article record prefix, band size cap.
_ASSIGN_LUA = """
local known = redis.call('HGET', KEYS[1], 'story')
if known then return known end
local function split(raw)
  local out = {}
  for v in string.gmatch(raw, '[^,]+') do out[#out + 1] = v end
  return out
end
local sig = split(ARGV[2])
local window, need, cap = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[6])
local seen, candidates, usable = {}, {}, {}
for i = 2, #KEYS do
  if redis.call('SCARD', KEYS[i]) < cap then
    usable[#usable + 1] = KEYS[i]
    for _, m in ipairs(redis.call('SMEMBERS', KEYS[i])) do
      if m ~= ARGV[1] and not seen[m] then
        seen[m] = true
        candidates[#candidates + 1] = m
      end
    end
  end
end
table.sort(candidates)
local best, story = 0, ARGV[1]
for _, cand in ipairs(candidates) do
  local rec = redis.call('HMGET', ARGV[5] .. cand, 'sig', 'story')
  if rec[1] and rec[2] then
    local other = split(rec[1])
    if #other == #sig then
      local same = 0
      for j = 1, #sig do
        if sig[j] == other[j] then same = same + 1 end
      end
      if same >= need and same > best then best, story = same, rec[2] end
    end
  end
end
redis.call('HSET', KEYS[1], 'story', story, 'sig', ARGV[2])
redis.call('EXPIRE', KEYS[1], window)
for _, key in ipairs(usable) do
  redis.call('SADD', key, ARGV[1])
  redis.call('EXPIRE', key, window)
end
return story
"""
# A band shared by this many articles in the window is boilerplate (a wire service's
# standard sentence), not evidence of one story: it is neither read nor grown, which keeps
# the script's work bounded however long the window.
BAND_CAP = 200
_NEED = math.ceil(THRESHOLD * NUM_HASHES - 1e-9)


class StoryIds:
    """Gives each article its story id, through one Lua script registered once."""

    def __init__(self, redis: Redis, *, window_s: int) -> None:
        """Register the script on ``redis`` (EVALSHA from then on, reloaded after a restart)."""
        self.window_s = window_s
        self._redis = redis
        self._script = redis.register_script(_ASSIGN_LUA)

    async def assign(self, article: Article) -> str:
        """Story id of ``article``: a near-duplicate's story within the window, else its own id.

        Written once per article, so a redelivered article gets the same answer. The lookup and
        the write run in one Lua script: candidate records are read by name inside it, which a
        single Redis allows (a Redis Cluster would need every story key in one hash slot).
        """
        sig = signature(article.title, article.summary)
        script_keys = [f"{PREFIX}art:{article.id}", *bands(sig)]
        args: list[str | int] = [
            article.id, _encode(sig), self.window_s, _NEED, f"{PREFIX}art:", BAND_CAP,
        ]
        story = await cast(Any, self._script(keys=script_keys, args=args))
        return str(story)

    async def merge_accusation(self, story_id: str, region: str, event: TruceEvent) -> str:
        """The story of the other side's accusation over the same incident, else ``story_id``.

        "Armenia accuses Azerbaijan of shelling" and "Azerbaijan accuses Armenia of shelling"
        share few words, so MinHash keeps them apart; but when both sides trade accusations
        of one kind of attack in one region within the window, it is one incident and one
        story. The first accusation of a pair claims the key; the answer is the same when an
        article is redelivered.
        """
        pair = "|".join(sorted((event.accuser, event.accused)))
        key = f"{PREFIX}pair:{region}:{pair}:{event.attack or '-'}"
        mine = f"{story_id}\t{event.accuser}"
        if await self._redis.set(key, mine, nx=True, ex=self.window_s):
            return story_id
        stored = await self._redis.get(key)
        other_story, _, other_accuser = str(stored or mine).partition("\t")
        return other_story if other_accuser != event.accuser else story_id
