"""Rules read within one sentence: breaches, hostilities beside a truce, and the truce's state.

Each rule is a conjunction of word classes close together in one sentence (title = sentence
0); it fires a feature of FEATURES with the index of the sentence where it held.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from workers.classifier.sentence import Sentence
from workers.classifier.spans import (
    Span,
    between,
    left_within,
    near,
    right_within,
    span_between,
    talks_subject,
)

# Sets a feature to 1 and remembers the first sentence (by index) where it fired.
Fire = Callable[[str, int], None]

# A comma, semicolon or dash between two words puts them in different clauses.
_CLAUSE = re.compile(r"[,;:]| - ")
NEAR_VIOLATE = 60
NEAR_DESPITE = 60
NEAR = 40
NEAR_TIGHT = 30


def qualified(s: Sentence, t: Span, classes: tuple[str, ...], window: int) -> bool:
    """True when a word of one of ``classes`` stands within ``window`` chars of truce word ``t``.

    "Called for / pending / conditional / negated" truces are not in force: the rules that read
    hostilities beside a truce as a breach skip them.
    """
    return any(near(s.get(c), [t], window) for c in classes)


def _called(call: list[Span], t: Span, setting: list[Span]) -> bool:
    """True when a call word sits just before the truce word ("demanded a ceasefire").

    Not across a setting word: in "talks amid a shaky truce" the truce is not called for.
    """
    return any(z[1] <= t[0] and t[0] - z[1] <= 25 and not between(setting, z, t) for z in call)


def sentence_rules(i: int, s: Sentence, fire: Fire, *, head_final: bool) -> None:
    """Fire the rules that hold in sentence ``i`` (``head_final``: "after" follows its object)."""
    # Word classes are fetched lazily (s.get), in the order the rules need them.
    truce = s.get("truce")
    hostile = s.get("hostile")
    if hostile:
        fire("hostile", i)
        # Renewed hostilities need no truce word in the same sentence ("fighting resumed").
        for r, h in near(s.get("resume"), hostile, NEAR_TIGHT):
            if not left_within(s.get("hypo"), min(r, h), 25):
                fire("resume", i)
                break
        for c, h in near(s.get("continuing"), hostile, 25):
            hypo = s.get("hypo")
            if not left_within(hypo, min(c, h), 15) and not between(hypo, c, h):
                fire("continuing", i)
                break
    violate = s.get("violate")
    ref: list[Span] = s.get("truce_ref") if violate or truce else []
    # A breach may refer to the truce anaphorically ("violating the terms of the agreement").
    for v, t in near(violate, truce + ref, NEAR_VIOLATE):
        if between(s.get("call"), v, t):
            continue
        hypo = s.get("hypo")
        if (
            left_within(hypo, v, 30)
            or (left_within(hypo, t, 12) and t[1] <= v[0])
            or right_within(s.get("hypo_after"), v, 25)
        ):
            fire("violate_hypo", i)
            continue
        fire("violate", i)
        if s.get("accuse"):
            fire("accused", i)
        break
    if violate and s.get("count") and (truce or ref or violate):
        fire("count", i)
    if not truce:
        return
    if hostile:
        fire("hostile_truce", i)
        _juxtaposed(i, s, fire)
        _sequence(i, s, fire, head_final=head_final)
        if near(s.get("expiring"), truce, NEAR_TIGHT):
            fire("in_force_hostile", i)
    hypo = s.get("hypo")
    call = s.get("call")
    talks = s.get("talks")
    pending = s.get("pending")
    # "talks amid / despite a shaky truce": the truce is the setting, not the talks' object.
    setting = s.get("during") + s.get("despite")
    for d, t in near(s.get("despite"), truce, NEAR_DESPITE):
        if not hostile:
            break
        if talks_subject(talks, t, s.low) or near(pending, [t], NEAR_VIOLATE):
            continue
        if d[1] <= t[0]:
            # "fighting despite the truce" (not "despite calls for a truce")
            if between(talks, d, t) or right_within(call, t, 12):
                continue
        elif not right_within(hostile, d, 40):
            # "complying with the truce, despite reports of fighting"
            continue
        fire("despite", i)
        break
    else:
        if hostile and _contrast(s):
            fire("despite", i)
    for a, t in near(s.get("accuse"), truce, NEAR_VIOLATE):
        # "accused Biden of genocide and demanded a ceasefire": the accusation is not
        # about a breach.
        if not between(call, a, t) and not left_within(call, t, 12):
            fire("blame_truce", i)
            break
    for c, t in near(s.get("collapse"), truce + ref, NEAR):
        if between(talks, c, t) or talks_subject(talks, t, s.low, setting):
            continue
        if any(0 <= z[0] - t[1] <= 3 and not (c[0] <= z[0] < c[1]) for z in talks):
            continue  # "ceasefire talks / bid failed" is about the talks
        if right_within(talks, c, 3):
            continue  # "after failed votes / talks"
        if left_within(hypo, c, 20) or right_within(s.get("hypo_after"), c, 25):
            fire("collapse_hypo", i)
            continue
        fire("collapse", i)
        break
    for e, t in near(s.get("ended"), truce, 25):
        # "a ceasefire before the end of Eid": the end is another thing's.
        if not between(pending, e, t):
            fire("ended", i)
            break
    if near(pending, truce, NEAR_VIOLATE):
        fire("pending", i)
    if hostile:
        # "rockets fired minutes after the truce began": the hostility sits right before the
        # time phrase, or after the truce word ("... took effect, sirens sounded").
        for a in s.get("soon_after"):
            t_after = [t for t in truce if a[1] <= t[0] and t[0] - a[1] <= 60]
            if t_after and (
                left_within(hostile, a, 30)
                or any(right_within(hostile, t, 60) for t in t_after)
            ):
                fire("soon_after", i)
                break
        agree = s.get("agree")
        for d, t in near(s.get("during"), truce, NEAR_VIOLATE):
            # "while talks went on over extending the truce" is about the talks, and so is
            # "amid ceasefire talks / calls"; "announces a truce amid fighting" is a truce
            # agreed during the war (the guideline's tie-break: a ceasefire item).
            if left_within(call, t, 25) or talks_subject(talks, t, s.low, setting):
                continue
            if right_within(talks + call, t, 4):
                continue
            if d[0] >= t[1] and near(agree, [t], 25):
                continue
            fire("during", i)
            break
    # Strain ("shaky", "tested") needs hostilities somewhere in the item (checked at the end).
    for st, t in near(s.get("strain"), truce, NEAR_VIOLATE):
        if left_within(hypo, st, 20) or _called(call, t, setting):
            continue  # "warns ... could threaten", "demanded a ceasefire as she threatened"
        if not talks_subject(talks, t, s.low, setting):
            fire("strain", i)
            break
    if near(call, truce, NEAR_TIGHT):
        fire("call", i)
    if near(s.get("agree"), truce, NEAR_TIGHT):
        fire("agree", i)
    if s.get("no_breach"):
        fire("hold", i)  # "no violations of the truce were recorded"
    # "would respect the truce", "vowed to observe it": a promise, not a truce holding.
    if any(not left_within(hypo, h, 12) for h, _ in near(s.get("hold"), truce, NEAR_TIGHT)):
        fire("hold", i)
    if near(hypo, truce, NEAR_TIGHT):
        fire("hypo", i)
    if any(left_within(s.get("negation"), t, 8) for t in truce):
        fire("negated", i)
    if near(s.get("background"), truce, NEAR):
        fire("background", i)


def _sequence(i: int, s: Sentence, fire: Fire, *, head_final: bool) -> None:
    """Which came first: "attacks since the TTP ended its ceasefire" vs "truce after clashes".

    Hostilities followed by "after / since + truce" happened once the truce had started or
    ended; a truce followed by "after + hostilities" came after the fighting (the
    guideline's tie-break makes that a ceasefire item). In head-final languages (Turkish
    "çatışmaların ardından ateşkes") "after" follows its object, so the sides swap.
    """
    after = s.get("after")
    if not after:
        return
    truce, hostile = s.get("truce"), s.get("hostile")
    call = s.get("call") + s.get("talks")
    # (what "after" governs, what happened then): the object sits right next to "after"
    # on its own side; the event that followed sits on the other side, close by (further
    # back it belongs to another clause: "seized in the raids, were released hours after").
    # side([a], x, w): x lies within w characters on that side of "after" (left_within:
    # "after" ends before x starts, i.e. x is to its right).
    obj_side, event_side = (right_within, left_within) if head_final else (
        left_within,
        right_within,
    )
    for a in after:
        objects = [t for t in truce if obj_side([a], t, 40)]
        # "strikes after a failed UN ceasefire bid": the truce word names a call, not a truce.
        called = any(right_within(call, t, 4) or between(call, a, t) for t in objects)
        # The event: a hostility close by, or further but in the same clause ("missiles and
        # destruction quickly returned after the ceasefire"; not "seized in the raids,
        # were released hours after the truce began").
        events = [
            h
            for h in hostile
            if event_side([a], h, 30)
            or (event_side([a], h, 60) and not _CLAUSE.search(s.low, *span_between(h, a)))
        ]
        if objects and not called and events:
            fire("after_truce", i)
            return
        # The fighting is what "after" governs: right next to it ("after two days of
        # fighting"), not a later clause ("a quarter hour after the deadline, sirens").
        if any(obj_side([a], h, 15) for h in hostile) and any(
            event_side([a], t, 60) for t in truce
        ):
            fire("truce_after_fighting", i)
            return


def _juxtaposed(i: int, s: Sentence, fire: Fire) -> None:
    """Hostilities beside a truce that is not merely called for, pending or conditional."""
    setting = s.get("during") + s.get("despite")
    for t in s.get("truce"):
        if qualified(s, t, ("call", "talks", "pending", "hypo", "negation"), 25):
            continue
        if talks_subject(s.get("talks"), t, s.low, setting):
            continue
        fire("juxtaposed", i)
        return


def _contrast(s: Sentence) -> bool:
    """A truce in force, then "but" / "yet", then hostilities: a concessive like "despite".

    "A 36-hour truce was supposed to start on Friday, but artillery pounded the east."
    """
    contrast = s.get("contrast")
    if not contrast:
        return False
    truce = s.get("truce")
    in_force = s.get("started") + s.get("agree") + s.get("hold")
    blockers = s.get("call") + s.get("hypo") + s.get("negation")
    for c in contrast:
        if not right_within(s.get("hostile"), c, 40):
            continue
        for t in truce:
            if not (t[1] <= c[0] and c[0] - t[1] <= 120):
                continue
            if left_within(blockers, t, 25) or talks_subject(s.get("talks"), t, s.low):
                continue
            if near(in_force, [t], NEAR) and not near(s.get("pending"), [t], NEAR):
                return True
    return False
