"""Writing scripts: which one (Latin, Cyrillic, Arabic ...) a text is mostly written in."""

from __future__ import annotations

import re

SAMPLE = 600  # characters looked at: a headline and the start of the lede are plenty

# Letter ranges per script, counted with one C-speed regex scan each.
_SCRIPTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("cyrillic", re.compile(r"[\u0400-\u052f]")),
    ("armenian", re.compile(r"[\u0531-\u058f\ufb13-\ufb17]")),
    ("hebrew", re.compile(r"[\u05d0-\u05f4\ufb1d-\ufb4f]")),
    ("arabic", re.compile(r"[\u0620-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")),
    ("greek", re.compile(r"[\u0370-\u03ff]")),
)
_NON_LATIN_LETTER = re.compile(r"[^\W\d_\u0000-\u024f]")
_LATIN_LETTER = re.compile(r"[^\W\d_\u0250-\U0010ffff]")


def script_of(text: str) -> str | None:
    """Dominant script of ``text``: latin / cyrillic / arabic / greek / hebrew / armenian."""
    sample = text[:SAMPLE]
    if _NON_LATIN_LETTER.search(sample) is None:
        # Most news: no letter outside Latin at all, one scan decides.
        return "latin" if _LATIN_LETTER.search(sample) else None
    counts = {name: len(rx.findall(sample)) for name, rx in _SCRIPTS}
    counts["latin"] = len(_LATIN_LETTER.findall(sample))
    other = len(_NON_LATIN_LETTER.findall(sample)) - sum(
        n for name, n in counts.items() if name != "latin"
    )
    best = max(counts, key=lambda k: counts[k])
    if counts[best] == 0 or other > counts[best]:
        return None  # CJK, Devanagari ...: no profile of ours
    return best
