"""Hashed character n-grams of an item: the learned half of the classifier.

The rule features know the grammar of a report (who breached what, when); the n-grams learn
the wording the lexicons do not list ("guns blaze again", "fitful start", a language's
inflections). Each word is padded with spaces and cut into 3- to 5-character pieces, the
pieces are hashed into ``BUCKETS`` slots (CRC-32: stable across processes and machines,
unlike ``hash()``) and the vector is L2-normalised, so a long lede does not outweigh a
headline. The fitting script and the service use this one function, so they always agree.
"""

from __future__ import annotations

import math
import struct
import sys
import zlib
from array import array
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

BITS = 17
BUCKETS = 1 << BITS
MASK = BUCKETS - 1
N_MIN, N_MAX = 3, 5
# Only the headline and the start of the lede: that is where a report says what happened,
# and it bounds the work per item (the classifier must never be the pipeline's bottleneck).
MAX_CHARS = 700
_MAGIC = b"CWNG1"
# The vector is divided by sqrt(max(sum of squared counts, NORM_FLOOR)): a headline alone has
# few n-grams and is little evidence, so it must not weigh as much as a whole lede (the rule
# features decide short items). A typical headline + lede sums to 300-3,000.
NORM_FLOOR = 600


@lru_cache(maxsize=1 << 16)
def word_buckets(word: str) -> tuple[int, ...]:
    """Buckets of one word's padded 3- to 5-grams (cached: news vocabulary repeats a lot)."""
    padded = f" {word} "
    size = len(padded)
    crc = zlib.crc32
    return tuple(
        crc(padded[i : i + n].encode()) & MASK
        for n in range(N_MIN, min(N_MAX, size) + 1)
        for i in range(size - n + 1)
    )


def ngram_vector(folded: str) -> dict[int, float]:
    """Bucket -> weight of the L2-normalised char n-grams of already folded text."""
    counts: dict[int, int] = {}
    get = counts.get
    for word in folded[:MAX_CHARS].split():
        for b in word_buckets(word):
            counts[b] = get(b, 0) + 1
    if not counts:
        return {}
    norm = math.sqrt(max(sum(c * c for c in counts.values()), NORM_FLOOR))
    return {b: c / norm for b, c in counts.items()}


@dataclass(frozen=True, slots=True)
class NgramWeights:
    """Per-label weights of every bucket (three float32 arrays of BUCKETS values)."""

    rows: tuple[array[float], array[float], array[float]]

    def logits(self, vec: dict[int, float]) -> tuple[float, float, float]:
        """The n-gram part of each label's logit."""
        a, b, c = self.rows
        za = zb = zc = 0.0
        for i, v in vec.items():  # one pass over the item's buckets for all three labels
            za += a[i] * v
            zb += b[i] * v
            zc += c[i] * v
        return za, zb, zc

    @classmethod
    def load(cls, path: Path) -> NgramWeights:
        """Read the binary weights file written by ``save`` (ValueError when malformed)."""
        data = path.read_bytes()
        head = len(_MAGIC) + 4
        if data[: len(_MAGIC)] != _MAGIC:
            raise ValueError(f"{path}: not an n-gram weights file")
        (bits,) = struct.unpack("<I", data[len(_MAGIC) : head])
        if bits != BITS or len(data) != head + 3 * BUCKETS * 4:
            raise ValueError(f"{path}: expected {BUCKETS} buckets per label, file differs")
        rows = []
        for k in range(3):
            row = array("f")
            row.frombytes(data[head + k * BUCKETS * 4 : head + (k + 1) * BUCKETS * 4])
            if sys.byteorder == "big":
                row.byteswap()  # the file is little-endian whatever the machine
            rows.append(row)
        return cls((rows[0], rows[1], rows[2]))

    def save(self, path: Path) -> None:
        """Write the weights as a small binary file (little-endian float32)."""
        out = bytearray(_MAGIC + struct.pack("<I", BITS))
        for row in self.rows:
            copy = array("f", row)
            if sys.byteorder == "big":
                copy.byteswap()
            out += copy.tobytes()
        path.write_bytes(bytes(out))
