"""Time words of one sentence, grouped into time expressions ("Friday at noon, Moscow time").

Words come from the events vocabulary (weekdays, months, "tomorrow", "noon", zones, hour
words) and from digits (clock times, day numbers, years). Adjacent words, with only
punctuation or joiner words ("at", "on", "o", "um") between them, make one expression; a
second word for a slot already filled (a second clock time) starts the next one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from workers.truce.doc import Ctx
from workers.truce.vocab import EventVocab

Role = Literal["start", "end"]

CLOCK = re.compile(r"(?<![\d.,:])([01]?\d|2[0-4]) ?[:.h\u0589] ?([0-5]\d)(?!\d|[.,:]\d)")
NUMBER = re.compile(r"(?<![\w.,:])(\d{1,2})(?!\d|[.,:]\d)")
YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
# What may stand between the parts of one time (punctuation of every script).
GLUE = re.compile(r"[\s,.()\-\u2013/\u00b7\u060c\u055d\u05be]*")
CASE_SUFFIX = re.compile(r"^[-'\u2019]\w{1,3}(?!\w)")  # "10-ի", "1-dən", "19-го", "00'da"
MAX_GAP = 20


@dataclass(slots=True)
class Tok:
    """One time word: its kind and value (a weekday, an hour, a zone ...)."""

    start: int
    end: int
    kind: str
    value: float = 0.0
    zone: str = ""
    minute: int = 0


@dataclass
class Cluster:
    """A run of time words read as one point in time."""

    toks: list[Tok] = field(default_factory=list)
    role: Role | None = None
    seg: int = 0

    @property
    def start(self) -> int:
        """Where it starts in the folded text."""
        return self.toks[0].start

    @property
    def end(self) -> int:
        """Where it ends."""
        return self.toks[-1].end

    def kinds(self) -> set[str]:
        """Kinds of its words."""
        return {t.kind for t in self.toks}


_SLOT = {"wd": "wd", "rel": "rel", "month": "month", "year": "year", "clock": "time",
         "hname": "time", "midnight": "time", "zone": "zone", "am": "ampm", "pm": "ampm",
         "num": "num", "hb": "hb", "ha": "ha"}


def _tokens(ctx: Ctx, seg: int) -> list[Tok]:
    doc, v = ctx.doc, ctx.vocab
    lo, hi = doc.bounds[seg]
    text = doc.low
    toks: list[Tok] = []
    tables = (("wd", "weekday", v.weekdays), ("rel", "relday", v.relative_days),
              ("month", "month", v.months), ("hname", "hour_name", v.hour_names))
    for kind, name, table in tables:
        for m in doc.in_seg(ctx.vx(name), seg):
            value = v.value(table, m.group(0))
            if value is not None:
                toks.append(Tok(m.start(), m.end(), kind, value))
                if kind == "wd":
                    toks += _hour_tail(v, m)
    for kind, name in (("midnight", "midnight"), ("am", "am"), ("pm", "pm"),
                       ("hb", "hour_before"), ("ha", "hour_after")):
        toks += [Tok(m.start(), m.end(), kind) for m in doc.in_seg(ctx.vx(name), seg)]
    for m in doc.in_seg(ctx.vx("zone"), seg):
        zone = next((z for rx, z in v.zones if rx.fullmatch(m.group(0))), "local")
        toks.append(Tok(m.start(), m.end(), "zone", zone=zone))
    for m in CLOCK.finditer(text, lo, hi):
        hour, end = float(m.group(1)), m.end()
        # "9.45pm": the suffix is written onto the minutes, where no word boundary finds it.
        for name in ("pm_suffix", "am_suffix"):
            rx = v.rx(name)
            suffix = rx.match(text, end) if rx is not None else None
            if suffix is not None and suffix.group(0)[:1] not in " \t":
                if name == "pm_suffix" and hour < 12:
                    hour += 12
                elif name == "am_suffix" and hour == 12:
                    hour = 0
                end = suffix.end()
                break
        toks.append(Tok(m.start(), end, "clock", hour, minute=int(m.group(2))))
    for m in YEAR.finditer(text, lo, hi):
        toks.append(Tok(m.start(), m.end(), "year", float(m.group(0))))
    for m in NUMBER.finditer(text, lo, hi):
        toks.append(_number(v, text, m))
    toks.sort(key=lambda t: (t.start, -(t.end - t.start)))
    out: list[Tok] = []
    for t in toks:  # drop words inside longer ones ("12" inside "12:00")
        if out and t.start < out[-1].end:
            continue
        out.append(t)
    for i, t in enumerate(out):
        # A number is an hour next to an hour word: "at 6 a.m.", "godz. 6", "7 Uhr", "7 rano".
        before = out[i - 1] if i > 0 else None
        after = out[i + 1] if i + 1 < len(out) else None
        if t.kind == "num" and t.value <= 24 and (
            (before is not None and before.kind == "hb" and _spaced(text, before.end, t.start))
            or (after is not None and after.kind in ("am", "pm", "ha")
                and _spaced(text, t.end, after.start))
        ):
            t.kind = "clock"
    return out


def _spaced(text: str, a: int, b: int) -> bool:
    return b - a <= 2 and not text[a:b].strip(" .-")


def _hour_tail(v: EventVocab, m: re.Match[str]) -> list[Tok]:
    """A time of day written onto the weekday ("Sonntagmittag"): its own word."""
    word = m.group(0)
    for rx, hour in v.hour_names:
        tail = rx.search(word)
        if tail and tail.start() > 0 and tail.end() == len(word):
            return [Tok(m.end(), m.end(), "hname", hour)]
    return []


def _number(v: EventVocab, text: str, m: re.Match[str]) -> Tok:
    """A number; an hour when a suffix makes it one ("6am", "17h", "7pm")."""
    value = float(m.group(1))
    for name in ("am_suffix", "pm_suffix", "hour_after_suffix"):
        rx = v.rx(name)
        suffix = rx.match(text, m.end()) if rx is not None and value <= 24 else None
        if suffix is not None and suffix.group(0)[:1] not in " \t":
            if name == "pm_suffix" and value < 12:
                value += 12
            elif name == "am_suffix" and value == 12:
                value = 0
            return Tok(m.start(), suffix.end(), "clock", value)
    return Tok(m.start(), m.end(), "num", value)


def glued(ctx: Ctx, a: int, b: int) -> bool:
    """True when the folded text between a and b holds only punctuation and joiner words."""
    if b - a > MAX_GAP:
        return False
    gap = ctx.doc.low[a:b]
    if a > 0 and ctx.doc.low[a - 1].isdigit():
        gap = CASE_SUFFIX.sub("", gap, count=1)
    joiners = ctx.vocab.rx("joiners")
    if joiners is not None:
        gap = joiners.sub(" ", gap)
    return GLUE.fullmatch(gap) is not None


def clusters(ctx: Ctx, seg: int) -> list[Cluster]:
    """The time expressions of segment ``seg`` (roles not yet given)."""
    found: list[Cluster] = []
    cur = Cluster(seg=seg)
    for tok in _tokens(ctx, seg):
        slots = {_SLOT[t.kind] for t in cur.toks}
        if cur.toks and (_SLOT[tok.kind] in slots or not glued(ctx, cur.end, tok.start)):
            found.append(cur)
            cur = Cluster(seg=seg)
        cur.toks.append(tok)
    if cur.toks:
        found.append(cur)
    return [c for c in found if _is_time(c)]


def _is_time(c: Cluster) -> bool:
    kinds = c.kinds()
    if kinds & {"wd", "rel", "clock", "hname", "midnight"}:
        return True
    return "num" in kinds and bool(kinds & {"month", "hb", "ha", "am", "pm"})
