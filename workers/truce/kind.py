"""The kind of truce event an item reports, decided from the headline first, then the lede.

A kind word counts only near a truce word of its segment (``WINDOW`` characters), so "extends
the war" beside "rejects a ceasefire" is no extension. A word with a call, talk, hypothetical
or negation just before it ("close to agreeing", "pressure to extend", "did not agree") makes
the item a call at most: unknown stays unknown, a prospect is no event. So do a prospect word
next to the deal or its truce word ("tentative deal", "deal near", "pending approval"), a
yes/no question ("Can the UN stop the war?") and a denied truce ("no ceasefire agreed").
An end after "before"/"ahead of" is still to come; a deal after "as part of" is carried out.
"""

from __future__ import annotations

import re
from typing import Literal

from core.models import TruceEventKind
from workers.truce.doc import Ctx, Mention

WINDOW = 70  # characters between a kind word and the truce word it is about
LOOKBACK = 32  # characters before a kind word searched for what makes it a prospect only
PENDING_BEFORE = 25  # "is due to take effect": characters from the pending words to the verb
NEGATION_SPAN = 12  # "did not collapse"; but "no respite as the truce falls apart" collapsed
PROSPECT_SPAN = 24  # "tentative deal", "deal near", "close to a truce", "gotowy do rozejmu"
# Modal words reach further than the lexicon's: "realna szansa, że rozejm w Gazie zostanie
# przedłużony" is a prospect, the chance word 35 characters before the verb.
MODAL_LOOKBACK = 48
MODAL_REACH = 10  # "could mean a truce": a modal word this close makes a truce word a prospect
FRAME_SPAN = 40  # "as part of a temporary cease-fire agreement"

# "expiring" is an intermediate verdict: due to end, still in force. The extractor makes it
# "expired" (with the announced end) when the text gives the end, else "holding".
Verdict = TruceEventKind | Literal["expiring"]


def event_kind(verdict: Verdict | None, *, has_end: bool) -> TruceEventKind | None:
    """The event kind of a verdict: "expiring" is "expired" with its end, else "holding"."""
    if verdict == "expiring":
        return "expired" if has_end else "holding"
    return verdict


def _near(ctx: Ctx, found: list[re.Match[str]], seg: int, *, talks: bool) -> list[re.Match[str]]:
    return [m for m in ctx.doc.in_seg(found, seg) if ctx.distance(m, talks=talks) <= WINDOW]


def _preceded(
    ctx: Ctx, m: re.Match[str], *classes: list[re.Match[str]], span: int = LOOKBACK
) -> bool:
    """True when a match of ``classes`` ends within ``span`` characters before ``m``."""
    seg_start = ctx.doc.bounds[ctx.doc.seg_of(m.start())][0]
    lo = max(seg_start, m.start() - span)
    return any(lo <= x.start() and x.end() <= m.start() for found in classes for x in found)


def _unreal(ctx: Ctx, m: re.Match[str], *, modal_span: int = LOOKBACK) -> bool:
    return _preceded(ctx, m, ctx.lx("hypo"), ctx.lx("negation")) or _preceded(
        ctx, m, ctx.vx("modal"), span=modal_span
    )


def _callish(ctx: Ctx, m: re.Match[str]) -> bool:
    # Not the lexicon's hypo class: "will be extended", "sera prolongée" announce, they do
    # not speculate; the events files' modal words ("could", "if", "willing to") do.
    return (
        _preceded(ctx, m, ctx.lx("call"), ctx.lx("talks"), ctx.lx("negation"), ctx.vx("deny"))
        or _preceded(ctx, m, ctx.vx("modal"), span=MODAL_LOOKBACK)
        or _prospect(ctx, m)
    )


def _nearest(ctx: Ctx, m: re.Match[str]) -> Mention | None:
    """The truce word of ``m``'s segment closest to it."""
    seg = ctx.doc.seg_of(m.start())
    here = [t for t in ctx.mentions if t.seg == seg]
    return min(here, key=lambda t: max(t.start - m.end(), m.start() - t.end, 0), default=None)


def _beside(
    found: list[re.Match[str]], start: int, end: int, *, after: bool = True,
    span: int = PROSPECT_SPAN,
) -> bool:
    """True when a match of ``found`` ends within ``span`` before ``start`` or starts as near after.

    The caller keeps to one segment: no match crosses the blank line between two.
    """
    return any(
        0 <= start - x.end() <= span or (after and 0 <= x.start() - end <= span) for x in found
    )


def _prospect(ctx: Ctx, m: re.Match[str]) -> bool:
    """A deal or an extension in prospect only, by the words around it or its truce word.

    "tentative deal", "deal near", "close to a truce", "rozejm coraz bliżej"; a modal word just
    before the truce word ("ready for a truce", "szansa, że rozejm ... przedłużony") or between
    the deal and its truce word ("a deal could mean a truce").
    """
    seg = ctx.doc.seg_of(m.start())
    prospect = ctx.doc.in_seg(ctx.vx("prospect"), seg)
    modal = ctx.doc.in_seg(ctx.vx("modal"), seg)
    if _beside(prospect, m.start(), m.end()):
        return True
    t = _nearest(ctx, m)
    if t is None:
        return False
    return (
        _beside(prospect, t.start, t.end)
        or _beside(modal, t.start, t.end, after=False)
        or any(m.end() <= x.start() and x.end() <= t.start for x in modal)
    )


def _overlaps(m: re.Match[str], others: list[re.Match[str]]) -> bool:
    return any(o.start() < m.end() and m.start() < o.end() for o in others)


def _expired(ctx: Ctx, seg: int) -> tuple[list[re.Match[str]], list[re.Match[str]]]:
    """Words of a truce that ended, and of one due to end, near a truce word of ``seg``."""
    expiring = _near(ctx, ctx.both("expiring", "expiring"), seg, talks=False)
    expired = [
        m
        for m in _near(ctx, ctx.vx("expired"), seg, talks=False)
        # "flights could continue after the ceasefire ends": the modal reaches far here.
        if not _overlaps(m, expiring) and not _unreal(ctx, m, modal_span=MODAL_LOOKBACK)
    ]
    # "hours left before the ceasefire ends", "once the truce expires": still to come.
    ahead = [m for m in expired if _preceded(ctx, m, ctx.vx("anticipate"))]
    return [m for m in expired if m not in ahead], [*expiring, *ahead]


def _segments(ctx: Ctx) -> list[int]:
    """The segments to decide from, in order: the headline, then the lede's sentences."""
    with_truce = ctx.truce_segs()
    return [i for i in range(len(ctx.doc)) if i in with_truce]


def violation_kind(ctx: Ctx) -> TruceEventKind:
    """``collapsed`` when the truce is reported broken down or over (fighting being the news)."""
    for seg in _segments(ctx):
        if all(t.talks for t in ctx.mentions if t.seg == seg):
            continue  # "breakdown in ceasefire talks" is about the talks
        # The lexicon's collapse class also holds strain ("falters", "struggles"): only the
        # events files' words say the truce is over.
        collapse = [
            m
            for m in _near(ctx, ctx.vx("collapse"), seg, talks=False)
            if not _preceded(ctx, m, ctx.lx("hypo"), ctx.vx("modal"))
            and not _preceded(ctx, m, ctx.lx("negation"), span=NEGATION_SPAN)
        ]
        expired, _ = _expired(ctx, seg)
        if collapse or expired:
            return "collapsed"
    return "violated"


def ceasefire_kind(ctx: Ctx) -> Verdict | None:
    """The kind of event of a ceasefire item (or "expiring"), or None when nothing fits."""
    for seg in _segments(ctx):
        verdict = _segment_kind(ctx, seg)
        if verdict is not None:
            return verdict
    return None


def extension_below(ctx: Ctx) -> bool:
    """True when a sentence below a headline silent on extending reports an extension.

    A headline that speaks of extending ("Israel may extend the truce") frames what follows
    as that prospect, whatever a later sentence seems to say.
    """
    segs = _segments(ctx)
    if not segs or ctx.doc.in_seg(ctx.both("extend", "extend"), segs[0]):
        return False
    return any(_extension(ctx, seg) for seg in segs[1:])


def _ended(ctx: Ctx, seg: int) -> Verdict | None:
    expired, _ = _expired(ctx, seg)
    return "expired" if expired else None


def _extension(ctx: Ctx, seg: int) -> Verdict | None:
    extend = _near(ctx, ctx.both("extend", "extend"), seg, talks=False)
    return "extended" if extend and not _callish(ctx, extend[0]) else None


def _expiring(ctx: Ctx, seg: int) -> Verdict | None:
    _, expiring = _expired(ctx, seg)
    return "expiring" if expiring else None


def _extension_talk(ctx: Ctx, seg: int) -> Verdict | None:
    return "call" if _near(ctx, ctx.both("extend", "extend"), seg, talks=False) else None


def _pending(ctx: Ctx, seg: int) -> list[re.Match[str]]:
    return _near(ctx, ctx.both("pending", "pending"), seg, talks=True)


def _start(ctx: Ctx, seg: int) -> Verdict | None:
    started = [
        m for m in _near(ctx, ctx.vx("started"), seg, talks=False) if not _unreal(ctx, m)
    ]
    if not started:
        return None
    # "will take effect", "is due to begin": yet to come (but "begins ahead of the summit"
    # has begun: the pending words must stand on the verb or just before it).
    pending = [p for p in _pending(ctx, seg) for s in started
               if p.start() <= s.start() < p.end() + PENDING_BEFORE]
    return "agreed" if pending else "starts"


def _agreement(ctx: Ctx, seg: int) -> Verdict | None:
    for found in (_near(ctx, ctx.lx("agree"), seg, talks=False), _pending(ctx, seg)):
        real = [m for m in found if not _callish(ctx, m)]
        if real:
            # "releases a hostage as part of the truce deal", "evacuating after ceasefire
            # agreed": the deal is the frame of what is carried out, the truce is in force.
            # Not when the start is still ahead ("set to begin as part of the deal").
            frame = ctx.vx("framework")
            carried = not _pending(ctx, seg) and all(
                _preceded(ctx, m, frame, span=FRAME_SPAN) for m in real
            )
            return "holding" if carried else "agreed"
        if found:
            return "call"
    return None


def _holding(ctx: Ctx, seg: int) -> Verdict | None:
    hold = _near(ctx, ctx.both("hold", "in_force"), seg, talks=False)
    return "holding" if any(not _callish(ctx, m) for m in hold) else None


def _talk(ctx: Ctx, seg: int) -> Verdict | None:
    talk = _near(ctx, [*ctx.lx("call"), *ctx.lx("talks")], seg, talks=True)
    if talk or any(t.talks for t in ctx.mentions if t.seg == seg):
        return "call"
    # "could mean a truce", "ready for a ceasefire": a truce in prospect is talk of one (but
    # "could continue after the ceasefire ends" is about the flights).
    modal = ctx.doc.in_seg(ctx.vx("modal"), seg)
    here = [t for t in ctx.mentions if t.seg == seg]
    if any(_beside(modal, t.start, t.end, after=False, span=MODAL_REACH) for t in here):
        return "call"
    return None


# In this order: an end or an extension is news even beside an agreement word ("agreed to
# extend") or a due end ("was to end Tuesday, has been extended"); a start beside an
# agreement word ("the agreed truce began"); a call is what is left.
RULES = (_ended, _extension, _expiring, _extension_talk, _start, _agreement, _holding, _talk)


def _segment_kind(ctx: Ctx, seg: int) -> Verdict | None:
    # "No ceasefire agreed before Eid", "Can the UN deliver a ceasefire?": talk of a truce
    # that is not there.
    if seg in ctx.denied_segs or ctx.asks(seg):
        return "call"
    for rule in RULES:
        verdict = rule(ctx, seg)
        if verdict is not None:
            return verdict
    return None
