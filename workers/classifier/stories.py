"""Story grouping: near-duplicate articles from different outlets share one story id.

MinHash signatures over the words of title + summary, indexed by LSH bands in Redis. Every
key expires after the grouping window, so a story only gathers articles seen within it.
An article's story is written once (HSETNX), so a redelivered article gets the same id.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any, cast

from redis.asyncio import Redis

from core.models import Article
from workers.classifier.text import fold

PREFIX = "cw:story:"
NUM_HASHES = 32
BANDS = 16  # 16 bands x 2 rows: pairs with Jaccard 0.4 meet in a band with p ~ 0.94
ROWS = NUM_HASHES // BANDS
THRESHOLD = 0.45  # estimated Jaccard needed to join a story (checked on the full signature)
_MERSENNE = (1 << 61) - 1
_WORD = re.compile(r"\w{3,}")
_SUMMARY_CHARS = 400  # the lede's start: later text is where outlets differ most


def _coefficients() -> list[tuple[int, int]]:
    # Fixed, process-independent permutations (never Python's salted hash()).
    out = []
    for i in range(NUM_HASHES):
        d = hashlib.blake2b(f"minhash-{i}".encode(), digest_size=16).digest()
        a = int.from_bytes(d[:8], "big") % _MERSENNE or 1
        b = int.from_bytes(d[8:], "big") % _MERSENNE
        out.append((a, b))
    return out


_COEF = _coefficients()


def shingles(title: str, summary: str) -> set[int]:
    """64-bit hashes of the distinct words (3+ letters) of the headline and lede start."""
    words = _WORD.findall(fold(f"{title} {summary[:_SUMMARY_CHARS]}"))
    return {
        int.from_bytes(hashlib.blake2b(w.encode(), digest_size=8).digest(), "big") for w in words
    }


def signature(title: str, summary: str) -> tuple[int, ...]:
    """MinHash signature (NUM_HASHES values); all-max for an empty text."""
    sh = shingles(title, summary)
    if not sh:
        return (_MERSENNE,) * NUM_HASHES
    return tuple(min((a * x + b) % _MERSENNE for x in sh) for a, b in _COEF)


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


def _decode(raw: str) -> tuple[int, ...] | None:
    try:
        values = tuple(int(v, 16) for v in raw.split(","))
    except ValueError:
        return None
    return values if len(values) == NUM_HASHES else None


async def assign_story(redis: Redis, article: Article, *, window_s: int) -> str:
    """Story id of ``article``: a near-duplicate's story within ``window_s``, else its own id."""
    art_key = f"{PREFIX}art:{article.id}"
    known = cast(Any, await redis.hget(art_key, "story"))
    if known:
        return str(known)  # redelivery: same answer as the first time
    sig = signature(article.title, article.summary)
    band_keys = bands(sig)
    pipe = redis.pipeline(transaction=False)
    for key in band_keys:
        pipe.smembers(key)
    members: set[str] = set()
    for found in await pipe.execute():
        members.update(str(m) for m in found)
    members.discard(article.id)
    story = article.id
    if members:
        candidates = sorted(members)  # sorted: ties resolve the same way on every replica
        pipe = redis.pipeline(transaction=False)
        for cand in candidates:
            pipe.hmget(f"{PREFIX}art:{cand}", ["sig", "story"])
        best = 0.0
        for _cand, (raw, cand_story) in zip(candidates, await pipe.execute(), strict=True):
            if not raw or not cand_story:
                continue  # expired: outside the window
            other = _decode(str(raw))
            if other is None:
                continue
            score = similarity(sig, other)
            if score >= THRESHOLD and score > best:
                best, story = score, str(cand_story)
    pipe = redis.pipeline(transaction=True)
    pipe.hsetnx(art_key, "story", story)
    pipe.hset(art_key, "sig", _encode(sig))
    pipe.expire(art_key, window_s)
    for key in band_keys:
        pipe.sadd(key, article.id)
        pipe.expire(key, window_s)
    pipe.hget(art_key, "story")
    results = await pipe.execute()
    # Whoever wrote the story field first wins, so concurrent replicas agree.
    return str(results[-1] or story)
