"""One item as the extractor reads it: headline and first lede sentences, folded, matched once.

Every word class is matched once over the joined folded text (a handful of regex passes per
item instead of one per sentence and class); rules then look at the matches of one segment
(the headline, or one lede sentence) and at their distances to the truce words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from workers.classifier.lexicon import Lexicon
from workers.classifier.text import fold, split_sentences
from workers.truce.vocab import EventVocab

# The lede beyond its first sentences is background more often than news, and reading it
# would cost time on every item: the headline and these many sentences decide.
MAX_SENTENCES = 3
MAX_CHARS = 900
# Joins the segments: no word pattern crosses a blank line.
SEP = "\n\n"
# "no ceasefire agreed", "no Gaza pause": a negation this close before the truce word denies it
# ("no respite as the truce collapses" does not).
DENIAL_REACH = 12
QUESTION_MARK = re.compile(r"[?\u061f]")  # "?" and the Arabic "؟"
# Where a clause starts: after a sentence stop, a colon or a dash ("Gaza: can the truce hold?").
CLAUSE_BREAK = re.compile(r"[.:;!?\u061f](?:\s|$)|[|\u2013\u2014]")
QUOTES = "\"' "


class Doc:
    """The segments of one item (headline first), folded and joined, with cached matches."""

    def __init__(self, title: str, text: str) -> None:
        """Split and fold ``title`` and the first sentences of ``text``."""
        parts = [title.strip()] if title.strip() else []
        self.has_title = bool(parts)
        budget = MAX_CHARS
        for sentence in split_sentences(text)[:MAX_SENTENCES]:
            if budget <= 0:
                break
            parts.append(sentence[:budget])
            budget -= len(sentence)
        self.orig = parts
        # fold() lower-cases after its character map, so Turkish "İ" leaves a combining dot
        # ("i̇srail"): dropped here, or no pattern would match the word.
        lows = [fold(p).replace("\u0307", "") for p in parts]
        self.low = SEP.join(lows)
        self.bounds: list[tuple[int, int]] = []
        pos = 0
        for low in lows:
            self.bounds.append((pos, pos + len(low)))
            pos += len(low) + len(SEP)
        self._same_length = [len(a) == len(b) for a, b in zip(parts, lows, strict=True)]
        self._cache: dict[int, list[re.Match[str]]] = {}

    def __len__(self) -> int:
        """Number of segments."""
        return len(self.bounds)

    def matches(self, rx: re.Pattern[str] | None) -> list[re.Match[str]]:
        """All matches of ``rx`` in the joined text (cached per pattern)."""
        if rx is None:
            return []
        found = self._cache.get(id(rx))
        if found is None:
            found = self._cache[id(rx)] = list(rx.finditer(self.low))
        return found

    def seg_of(self, pos: int) -> int:
        """The segment holding position ``pos`` of the joined text."""
        for i, (_, end) in enumerate(self.bounds):
            if pos <= end:
                return i
        return len(self.bounds) - 1

    def in_seg(self, found: list[re.Match[str]], i: int) -> list[re.Match[str]]:
        """The matches of ``found`` that start in segment ``i``."""
        start, end = self.bounds[i]
        return [m for m in found if start <= m.start() < end]

    def original(self, start: int, end: int) -> str:
        """The original text of the folded span [start, end) (as written, case kept)."""
        i = self.seg_of(start)
        seg_start = self.bounds[i][0]
        if self._same_length[i]:
            return self.orig[i][start - seg_start : end - seg_start]
        return self.low[start:end]  # folding changed the length: the folded words will do


@dataclass(frozen=True, slots=True)
class Mention:
    """A truce word in the text; ``talks`` when it heads talks ("ceasefire talks")."""

    start: int
    end: int
    seg: int
    talks: bool


@dataclass
class Ctx:
    """An item with its language's lexicon and event vocabulary."""

    doc: Doc
    lex: Lexicon
    vocab: EventVocab
    _extra: dict[str, list[re.Match[str]]] = field(default_factory=dict)

    def lx(self, cls: str) -> list[re.Match[str]]:
        """Matches of the lexicon class ``cls`` (none when the language lacks it)."""
        return self.doc.matches(self.lex.patterns.get(cls))

    def vx(self, name: str) -> list[re.Match[str]]:
        """Matches of the events word list ``name``."""
        return self.doc.matches(self.vocab.rx(name))

    def both(self, lexicon_class: str, vocab_class: str) -> list[re.Match[str]]:
        """Matches of a lexicon class and an events class together, in text order."""
        key = f"{lexicon_class}+{vocab_class}"
        found = self._extra.get(key)
        if found is None:
            found = self._extra[key] = sorted(
                [*self.lx(lexicon_class), *self.vx(vocab_class)], key=lambda m: m.start()
            )
        return found

    @cached_property
    def mentions(self) -> list[Mention]:
        """Truce words (not inside a phrase where the word is not about war)."""
        false = self.lx("false_friend")
        talks_after = self.lex.patterns.get("talks")
        out = []
        for m in self.lx("truce"):
            if any(f.start() <= m.start() < f.end() for f in false):
                continue
            head = bool(talks_after and talks_after.match(self.doc.low, m.end() + 1)
                        and self.doc.low[m.end():m.end() + 1] in " -")
            out.append(Mention(m.start(), m.end(), self.doc.seg_of(m.start()), head))
        return out

    @cached_property
    def denied_segs(self) -> frozenset[int]:
        """Segments whose every truce word is negated: "no ceasefire agreed before Eid"."""
        neg = self.lx("negation")
        flags: dict[int, list[bool]] = {}
        for t in self.mentions:
            lo = max(self.doc.bounds[t.seg][0], t.start - DENIAL_REACH)
            denied = any(lo <= n.start() and n.end() <= t.start for n in neg)
            flags.setdefault(t.seg, []).append(denied)
        return frozenset(seg for seg, found in flags.items() if all(found))

    def asks(self, seg: int) -> bool:
        """True when a clause of ``seg`` asks a yes/no question ("Can the UN stop the war?").

        Only a clause opened by a question word of the events file counts: "Gaza deal: what do
        we know?" asks about an agreement that was made.
        """
        rx = self.vocab.rx("question")
        start, end = self.doc.bounds[seg]
        text = self.doc.low[start:end]
        if rx is None or not QUESTION_MARK.search(text):
            return False
        for mark in QUESTION_MARK.finditer(text):
            clause = CLAUSE_BREAK.split(text[: mark.start()])[-1].lstrip(QUOTES)
            if rx.match(clause):
                return True
        return False

    def truce_segs(self) -> set[int]:
        """Segments with a truce word."""
        return {m.seg for m in self.mentions}

    def distance(self, m: re.Match[str], *, talks: bool = True) -> int:
        """Characters between ``m`` and the nearest truce word of its segment (big if none)."""
        seg = self.doc.seg_of(m.start())
        best = 10_000
        for t in self.mentions:
            if t.seg != seg or (t.talks and not talks):
                continue
            gap = max(t.start - m.end(), m.start() - t.end, 0)
            best = min(best, gap)
        return best
