"""Start and end times a truce report states, resolved to UTC.

A time expression (workers/truce/timetoken.py) is a start when a "from" word stands right
before it (or a "from" suffix right after it: "18:00-ից"), an end after "until", and otherwise
what the nearest begin / end verb makes it; an expression with none of these is not about the
truce. It is read in the zone it names, else in the region's zone. A weekday or a bare time of
an announcement is the next one on or after publication; of a report of what happened ("began
on Monday") the nearest one, before or after.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from workers.truce.doc import Ctx
from workers.truce.timetoken import Cluster, Role, clusters, glued

Mode = Literal["next", "nearest"]

DIGIT = re.compile(r"\d")
VERB_REACH = 45  # characters from a begin / end verb to the time after it that it governs
VERB_BEFORE = 20  # ... and to a time before it ("at midnight, the truce began")
NEIGHBOUR = 30  # characters between a time and the date that completes it
DAY_REACH = 45  # days around the publication searched for "Thursday 3"
TWIN_SPREAD = timedelta(hours=14)  # zone offsets: the twin in another zone is this near
MAX_OFFSET = timedelta(days=120)  # further from the publication is no truce start we believe


def _marker_role(ctx: Ctx, c: Cluster) -> Role | None:
    low = ctx.doc.low
    suffixes: tuple[tuple[str, Role], ...] = (("from_after_suffix", "start"),
                                               ("until_after_suffix", "end"))
    for name, role in suffixes:
        rx = ctx.vocab.rx(name)
        if rx is not None and rx.match(low, c.end):
            return role
    best: tuple[int, Role] | None = None
    markers: tuple[tuple[str, Role], ...] = (("from", "start"), ("until", "end"))
    # A marker may hold the hour word ("od godz. 11", "à partir de"): it ends at the time.
    core = next((t.start for t in c.toks if t.kind != "hb"), c.start)
    for name, role in markers:
        for m in ctx.vx(name):
            if m.start() < c.start and m.end() <= core and glued(ctx, m.end(), c.start):
                gap = max(c.start - m.end(), 0)
                if best is None or gap < best[0]:
                    best = (gap, role)
    return best[1] if best else None


def _verb_role(ctx: Ctx, c: Cluster) -> Role | None:
    """The role a begin / end verb gives the time it governs.

    The time right after it ("takes effect at midnight"), or right before it ("at midnight
    the truce began"; in verb-final languages anywhere before it in reach).
    """
    before_reach = VERB_REACH if ctx.vocab.order == "sov" else VERB_BEFORE
    best: tuple[int, Role] | None = None
    lists: tuple[tuple[str, Role], ...] = (
        ("begin", "start"), ("started", "start"), ("pending", "start"),
        ("end", "end"), ("expired", "end"), ("expiring", "end"),
    )
    for name, role in lists:
        for m in ctx.doc.in_seg(ctx.vx(name), c.seg):
            after = c.start - m.end()  # the time follows the verb
            before = m.start() - c.end  # the time precedes the verb
            if 0 <= after <= VERB_REACH:
                gap = after
            elif 0 <= before <= before_reach:
                gap = before
            elif m.start() < c.end and c.start < m.end():
                gap = 0  # the pattern holds the time ("from midnight")
            else:
                continue
            if best is None or gap < best[0]:
                best = (gap, role)
    return best[1] if best else None


def _roles(ctx: Ctx, found: list[Cluster]) -> None:
    prev: Cluster | None = None
    for c in found:
        c.role = _marker_role(ctx, c)
        if c.role is None and prev is not None and prev.role and c.start - prev.end <= 3:
            c.role = prev.role  # "6am local time (04:00 GMT)": the same moment twice
        if c.role is None:
            c.role = _verb_role(ctx, c)
        prev = c


def times(
    ctx: Ctx, *, tz: str, published: datetime, mode: Mode
) -> tuple[datetime | None, datetime | None, bool]:
    """The start and the end the item states (UTC), each None when it states none.

    The third value is True when the start names its day but no hour ("from Thursday"):
    its midnight is a placeholder, which a later report's hour ("at 9.45 pm") corrects.
    """
    if not DIGIT.search(ctx.doc.low) and not any(
        ctx.vx(name) for name in ("weekday", "relday", "hour_name", "midnight")
    ):
        return None, None, False  # no digit and no day or time word: no time to read
    # Sentences about the truce: with a truce word, a reference to it, or (when the item has
    # a truce word) a verb of its start or end ("Оно начало действовать в 18:00").
    segs = ctx.truce_segs() | {ctx.doc.seg_of(m.start()) for m in ctx.lx("truce_ref")}
    if segs:
        other = [*ctx.lx("hostile"), *ctx.vx("war")]
        for name in ("started", "pending", "expired", "expiring"):
            # Not "Hostilities began on Tuesday": the verb of the fighting, not of the truce.
            segs |= {ctx.doc.seg_of(m.start()) for m in ctx.vx(name)
                     if not any(0 <= m.start() - o.end() <= VERB_REACH for o in other)}
    # "No pause before Friday": a denied truce has no time (unless another truce word of the
    # sentence says when it will start).
    segs -= ctx.denied_segs
    found: dict[Role, list[Cluster]] = {"start": [], "end": []}
    for seg in sorted(segs):
        here = clusters(ctx, seg)
        _roles(ctx, here)
        for c in here:
            if c.role is not None:
                found[c.role].append(c)
    return (
        _pick(ctx, found["start"], tz, published, mode),
        _pick(ctx, found["end"], tz, published, mode),
        _day_only(found["start"]),
    )


def _day_only(found: list[Cluster]) -> bool:
    """True when the start read names a day and no hour, midnight or named-zone time."""
    if not found:
        return False
    first = _chosen(found)
    if any(t.kind == "zone" and t.zone != "local" for c in found[:2] for t in c.toks):
        return False
    _, hour, _, midnight = _parts(first)
    return hour is None and not midnight


def _pick(
    ctx: Ctx, found: list[Cluster], tz: str, published: datetime, mode: Mode
) -> datetime | None:
    if not found:
        return None
    first = _chosen(found)
    when = resolve(ctx, first, tz, published, mode)
    twin = found[1] if len(found) > 1 and found[1].start - first.end <= 3 else None
    if twin is None or not any(t.kind == "zone" and t.zone != "local" for t in twin.toks):
        return when
    # "6am local time (04:00 GMT)": the same moment in a named zone, which is read in no
    # doubt; its day is the one that puts it nearest the first reading.
    if when is None:
        return resolve(ctx, twin, tz, published, mode)
    options = [resolve(ctx, twin, tz, when + timedelta(days=d), "nearest") for d in (-1, 0, 1)]
    near = [o for o in options if o is not None and abs(o - when) <= TWIN_SPREAD]
    return min(near, key=lambda o: abs(o - when)) if near else when


def _chosen(found: list[Cluster]) -> Cluster:
    """The first time read, completed by its neighbour, or by a later hour of the text.

    "Due to come into effect on Monday evening ... it would come into force at 9.45pm": a day
    named without its hour takes the hour a later sentence gives for the same start.
    """
    first = _complete(found[0], found[1]) if len(found) > 1 else found[0]
    dates, times_ = {"wd", "rel", "month"}, {"clock", "midnight"}
    if first.kinds() & times_ or not first.kinds() & dates:
        return first
    for other in found[1:]:
        kinds = other.kinds()
        # Only a plain time of day ("at 9.45pm", "19:45 GMT"): a bare number could be a date.
        if "clock" in kinds and kinds <= {"clock", "am", "pm", "zone", "hb", "ha"}:
            return Cluster(toks=[*first.toks, *other.toks], role=first.role, seg=first.seg)
    return first


def _complete(first: Cluster, other: Cluster) -> Cluster:
    """``first`` completed by a near ``other``: its day, or its time of day.

    "at noon local time on this 10 October" is a time, then its date.
    """
    if other.seg != first.seg or other.start - first.end > NEIGHBOUR:
        return first
    dates, times_ = {"wd", "rel", "month"}, {"clock", "hname", "midnight"}
    a, b = first.kinds(), other.kinds()
    if (not a & dates and b & dates and not b & times_) or (
        not a & times_ and b & times_ and not b & dates
    ):
        return Cluster(toks=[*first.toks, *other.toks], role=first.role, seg=first.seg)
    return first


def resolve(ctx: Ctx, c: Cluster, tz: str, published: datetime, mode: Mode) -> datetime | None:
    """The UTC time of cluster ``c``; None when it names no day and no time of day."""
    zone = next((t.zone for t in c.toks if t.kind == "zone" and t.zone != "local"), tz)
    local = published.astimezone(ZoneInfo(zone))
    explicit, hour, minute, midnight = _parts(c)
    hour, minute = _ampm(c, hour, minute)
    day = _explicit(explicit, local.date()) if explicit else _day(c, local.date(), mode)
    if day is None and hour is None and not midnight:
        return None
    if midnight:
        hour, minute = 0, 0
        if day is not None and ctx.vocab.midnight_ends_day:
            day += timedelta(days=1)
    elif hour is None and day is not None and c.role == "end":
        day += timedelta(days=1)  # "until Monday", "due to expire Thursday": that day's end
    if hour is not None and hour >= 24:
        hour, day = 0, (day + timedelta(days=1) if day is not None else None)
    clock = time(int(hour or 0), minute)
    if day is not None:
        when = datetime.combine(day, clock, ZoneInfo(zone))
    else:
        when = _bare_time(local, clock, mode)
    when = when.astimezone(UTC)
    return when if abs(when - published) <= MAX_OFFSET else None


def _parts(c: Cluster) -> tuple[tuple[int, int, int | None] | None, float | None, int, bool]:
    """The explicit date (day + month [+ year]), hour, minute and "midnight" of ``c``."""
    day_n = month = year = None
    hour: float | None = None
    minute = 0
    toks = c.toks
    for i, t in enumerate(toks):
        if t.kind == "month":
            month = int(t.value)
        elif t.kind == "year":
            year = int(t.value)
        elif t.kind in ("clock", "hname"):
            hour, minute = t.value, t.minute
        elif t.kind == "num":
            by_month = any(o.kind == "month" for o in toks[max(0, i - 1) : i + 2])
            marked = (i > 0 and toks[i - 1].kind == "hb") or (
                i + 1 < len(toks) and toks[i + 1].kind in ("ha", "am", "pm")
            )
            if by_month and day_n is None and 1 <= t.value <= 31:
                day_n = int(t.value)
            elif marked and hour is None and t.value <= 24:
                hour = t.value
    midnight = any(t.kind == "midnight" for t in toks)
    explicit = (day_n, month, year) if day_n is not None and month is not None else None
    return explicit, hour, minute, midnight


def _explicit(parts: tuple[int, int, int | None], today: date) -> date | None:
    """The date of day + month (+ year); without a year, the one nearest ``today``."""
    day_n, month, year = parts
    best: date | None = None
    for y in [year] if year else [today.year - 1, today.year, today.year + 1]:
        try:
            cand = date(y, month, day_n)
        except ValueError:
            continue
        if best is None or abs(cand - today) < abs(best - today):
            best = cand
    return best


def _ampm(c: Cluster, hour: float | None, minute: int) -> tuple[float | None, int]:
    kinds = c.kinds()
    if hour is None:
        return hour, minute
    if "pm" in kinds and hour < 12:
        return hour + 12, minute
    if "am" in kinds and hour == 12:
        return 0, minute
    return hour, minute


def _day(c: Cluster, today: date, mode: Mode) -> date | None:
    for t in c.toks:
        if t.kind == "rel":
            return today + timedelta(days=int(t.value))
    numbers = [int(t.value) for t in c.toks if t.kind == "num" and 1 <= t.value <= 31]
    for t in c.toks:
        if t.kind == "wd" and numbers:
            # "jueves 3", "Friday 10th": the day of the month nearest the publication.
            days = [today + timedelta(days=d) for d in range(-DAY_REACH, DAY_REACH + 1)]
            fits = [d for d in days if d.day == numbers[0]]
            best = [d for d in fits if d.weekday() == int(t.value)] or fits
            if best:
                return min(best, key=lambda d: abs(d - today))
        if t.kind == "wd":
            ahead = (int(t.value) - today.weekday()) % 7
            if mode == "nearest" and ahead > 3:
                ahead -= 7
            return today + timedelta(days=ahead)
    return None


def _bare_time(local: datetime, clock: time, mode: Mode) -> datetime:
    same_day = datetime.combine(local.date(), clock, local.tzinfo)
    if mode == "next":
        return same_day if same_day >= local else same_day + timedelta(days=1)
    options = [same_day + timedelta(days=d) for d in (-1, 0, 1)]
    return min(options, key=lambda t: abs(t - local))
