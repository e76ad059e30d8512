"""Who accuses whom of a breach, where, with what, and the toll, as a violation item states it.

Parties are the ``parties:`` of regions.yaml (with the extra names of the events files), only
those of the item's regions. The accuser and the accused are read from their positions around
an accusation word, in the word order of the language ("Armenia accuses Azerbaijan of ...";
Turkish "Azerbaycan Ermenistan'ı suçladı"; Arabic "اتهم الجيش حماس"), from "X said Y shelled
...", or, for the accused only, from the party standing right before a breach or an attack
("Russian strikes", "Hamas broke the truce"): the text must attribute the attack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from workers.truce.doc import Ctx

SUBJECT_REACH = {"svo": 32, "vso": 32, "sov": 90}  # characters from a subject to its verb
ACCUSE_REACH = 90  # characters from an accusation word to the parties around it
SAY_REACH = 40
CLAUSE_BREAK = re.compile(r"[.;:!?\u061f\n|]| - | \u2013 ")
GAP_WORDS = 2  # words besides army words between a subject and its verb ("Hamas has broken")


@dataclass(frozen=True, slots=True)
class Party:
    """One mention of a party in the folded text."""

    start: int
    end: int
    name: str


def _clause(ctx: Ctx, a: int, b: int) -> bool:
    """True when [a, b) of the folded text does not cross a sentence or clause break."""
    return CLAUSE_BREAK.search(ctx.doc.low, a, b) is None if a < b else True


def accusation(ctx: Ctx, parties: list[Party]) -> tuple[str, str]:
    """(accuser, accused): party names, or "" where the text does not say."""
    if not parties:
        return "", ""
    for seg in range(len(ctx.doc)):
        accuse = ctx.doc.in_seg(ctx.lx("accuse"), seg)
        other = ctx.doc.in_seg([*ctx.vx("deny"), *ctx.vx("blamed")], seg)
        words = [a for a in accuse if not any(d.start() <= a.start() < d.end() for d in other)]
        blamed = _blamed(ctx, ctx.doc.in_seg(ctx.vx("blamed"), seg), parties)
        if blamed != ("", ""):
            return blamed
        if not words:
            continue
        if ctx.doc.in_seg(ctx.vx("mutual"), seg):
            return "", ""  # both sides accuse each other: no one direction
        found = _around(ctx, words[0], [p for p in parties if ctx.doc.seg_of(p.start) == seg])
        if found != ("", ""):
            return found
    attacker = _attacker(ctx, parties) or _denier(ctx, parties)
    if not attacker:
        return "", ""  # a source with no one accused is no accusation
    sayer = _sayer(ctx, parties)
    return (sayer if sayer != attacker else ""), attacker


def _blamed(ctx: Ctx, words: list[re.Match[str]], parties: list[Party]) -> tuple[str, str]:
    """The accused is the party before "to blame for" / "accused of" ("Hamas to blame")."""
    for m in words:
        before = [p for p in parties if p.end <= m.start() and m.start() - p.end <= SAY_REACH
                  and _clause(ctx, p.end, m.start())]
        if not before:
            continue
        accused = before[-1].name
        by = ctx.vocab.rx("by")
        after = [p for p in parties if 0 <= p.start - m.end() <= ACCUSE_REACH
                 and _clause(ctx, m.end(), p.start)]
        accuser = ""
        if by is not None and after and by.search(ctx.doc.low, m.end(), after[0].start):
            accuser = after[0].name
        accuser = accuser or _sayer(ctx, [p for p in parties if p.name != accused])
        return accuser, accused
    return "", ""

def _around(ctx: Ctx, verb: re.Match[str], parties: list[Party]) -> tuple[str, str]:
    """Accuser and accused around one accusation word, by the language's word order."""
    before = [p for p in parties if p.end <= verb.start() and verb.start() - p.end <= ACCUSE_REACH
              and _clause(ctx, p.end, verb.start())]
    after = [p for p in parties if p.start >= verb.end() and p.start - verb.end() <= ACCUSE_REACH
             and _clause(ctx, verb.end(), p.start)]
    by = ctx.vocab.rx("by")
    passive = by is not None and by.match(ctx.doc.low, verb.end() + 1) is not None
    accuser = accused = ""
    if passive:  # "Azerbaijan was accused by Armenia of ..."
        accuser = after[0].name if after else ""
        accused = before[-1].name if before else ""
    elif before and after:
        accuser, accused = before[-1].name, after[0].name
    elif ctx.vocab.order == "sov" and len(before) >= 2:
        accuser, accused = before[-2].name, before[-1].name
    elif ctx.vocab.order == "vso" and len(after) >= 2:
        accuser, accused = after[0].name, after[1].name
    elif before:
        accuser = before[-1].name
    elif after and ctx.vocab.order == "svo":
        accused = after[0].name  # "accuses Armenia of shelling": the accuser is unnamed
    if accused == accuser:
        accused = ""
    return accuser, accused


def _agent_words(ctx: Ctx) -> list[re.Match[str]]:
    """Words of a breach or an attack someone carries out (not its victims: "wounded")."""
    attack = [m for _, rx in ctx.vocab.attacks for m in ctx.doc.matches(rx)]
    found = [*ctx.lx("violate"), *ctx.lx("resume"), *ctx.vx("agent"), *attack]
    return sorted(found, key=lambda m: m.start())


def _subject_of(ctx: Ctx, p: Party, verb: re.Match[str], parties: list[Party]) -> bool:
    """True when party mention ``p`` can be the subject (or the adjective) of ``verb``."""
    a, b = p.end, verb.start()
    if (
        a > b
        or b - a > SUBJECT_REACH[ctx.vocab.order]
        or ctx.doc.seg_of(p.start) != ctx.doc.seg_of(b)
        or not _clause(ctx, a, b)
        # "Georgian soldiers wounded as ... violated": a victim in between
        or any(a <= h.start() and h.end() <= b for h in ctx.lx("hostile"))
        or any(a <= q.start < b for q in parties)
    ):
        return False
    if ctx.vocab.order == "sov":
        return True  # the subject opens the clause, the verb closes it
    gap = ctx.doc.low[a:b]
    # "provoked the army into firing": the party is an object; "... the truce with Hamas,
    # killing hundreds": no subject across a comma.
    if "," in gap or any(a <= w.start() and w.end() <= b for w in ctx.vx("prep")):
        return False
    armed = ctx.lex.patterns.get("armed")
    if armed is not None:
        gap = armed.sub(" ", gap)
    return len(gap.split()) <= GAP_WORDS


def _after_verb(ctx: Ctx, verb: re.Match[str], parties: list[Party]) -> str:
    """Verb-first languages: the subject (or adjective) right after the verb.

    "شنت قوات الاحتلال" (the occupation forces launched), "غارات إسرائيلية" (Israeli raids).
    """
    armed = ctx.lex.patterns.get("armed")
    for p in parties:
        if p.start < verb.end() or p.start - verb.end() > SUBJECT_REACH["vso"]:
            continue
        gap = ctx.doc.low[verb.end() : p.start]
        if armed is not None:
            gap = armed.sub(" ", gap)
        if len(gap.split()) <= GAP_WORDS and _clause(ctx, verb.end(), p.start):
            return p.name
        return ""
    return ""


def _attacker(ctx: Ctx, parties: list[Party]) -> str:
    """The party the text makes the author of a breach or an attack."""
    by = ctx.vx("by")
    for verb in _agent_words(ctx):
        if ctx.vocab.order == "vso":
            after = _after_verb(ctx, verb, parties)
            if after:
                return after
        subject = [p for p in parties if _subject_of(ctx, p, verb, parties)]
        if subject:
            return subject[-1].name
        # "shelling by Armenian forces", "обстрел со стороны ВСУ"
        for marker in by:
            if 0 <= marker.start() - verb.end() <= 12:
                agent = [p for p in parties if 0 <= p.start - marker.end() <= 12]
                if agent:
                    return agent[0].name
    return ""


def _sayer(ctx: Ctx, parties: list[Party]) -> str:
    """Who says it: the party before "said" / "claims", or the headline's "X: ..." source."""
    for m in ctx.vx("say"):
        seg = ctx.doc.seg_of(m.start())
        before = [p for p in parties if p.end <= m.start() and m.start() - p.end <= SAY_REACH
                  and ctx.doc.seg_of(p.start) == seg and _clause(ctx, p.end, m.start())]
        if before:
            return before[-1].name
    if len(ctx.doc) and ctx.doc.has_title:
        colon = ctx.doc.low.find(":", 0, ctx.doc.bounds[0][1])
        heads = [p for p in parties if 0 <= colon - p.end <= 2]  # "Kyiv: Russia broke ..."
        if heads:
            return heads[-1].name
    return ""


def _denier(ctx: Ctx, parties: list[Party]) -> str:
    """The party that denies a breach is the one accused of it."""
    for m in ctx.vx("deny"):
        before = [p for p in parties if p.end <= m.start() and m.start() - p.end <= SAY_REACH
                  and _clause(ctx, p.end, m.start())]
        if before:
            return before[-1].name
    return ""


def attack_kind(ctx: Ctx) -> str:
    """The canonical kind of the first attack named (headline first)."""
    best: tuple[int, str] | None = None
    for kind, rx in ctx.vocab.attacks:
        # Not inside the truce words: "وقف إطلاق النار" is "stop the firing".
        found = [m for m in ctx.doc.matches(rx)
                 if not any(t.start <= m.start() < t.end for t in ctx.mentions)]
        if found and (best is None or found[0].start() < best[0]):
            best = (found[0].start(), kind)
    return best[1] if best else ""


def casualties(ctx: Ctx) -> tuple[int | None, int | None]:
    """(killed, wounded) when stated with a number, headline first."""
    out: list[int | None] = []
    for rx in (ctx.vocab.killed, ctx.vocab.wounded):
        value = None
        for m in ctx.doc.matches(rx):
            value = ctx.vocab.count(m)
            if value is not None:
                break
        out.append(value)
    return out[0], out[1]
