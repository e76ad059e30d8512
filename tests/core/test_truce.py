"""The truce state machine: phases, scheduled start and end, counts, and order-independence."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from core.models import TruceEvent, TruceEventKind
from core.truce import advance, apply, fold, in_force_at
from core.truce_model import Report, TruceState

T0 = datetime(2023, 4, 20, 12, 0, tzinfo=UTC)


def report(
    n: int,
    kind: TruceEventKind,
    hours: float,
    *,
    story: str | None = None,
    label: str = "ceasefire",
    **event: object,
) -> Report:
    return Report.model_validate(
        {
            "alert_id": f"a{n:03d}",
            "story_id": story or f"s{n:03d}",
            "at": T0 + timedelta(hours=hours),
            "kind": kind,
            "label": "violation" if kind in ("violated", "collapsed") else label,
            "title": f"item {n}",
            "event": TruceEvent.model_validate({"kind": kind, **event}),
        }
    )


def phases(state: TruceState) -> list[str]:
    return [t.phase if t.phase != t.previous else f"{t.phase}:{t.cause}" for t in state.transitions]


def sudan_like() -> list[Report]:
    start = T0 + timedelta(hours=12)
    return [
        report(1, "call", 0),
        report(2, "agreed", 2, starts=start, duration_h=72),
        report(8, "agreed", 3),  # a second outlet confirms the agreement
        report(3, "violated", 20, story="s-strike"),
        report(4, "violated", 21, story="s-strike"),  # a second outlet, same story
        report(5, "violated", 30),
        report(6, "extended", 70, duration_h=72),
        report(7, "violated", 160),  # after the extended end (12 + 72 + 72 = 156 h): breakdown
        report(9, "violated", 161),  # confirmed by a second report
    ]


def test_a_truce_lives_through_its_phases_with_the_story_that_moved_it() -> None:
    state = fold("sudan", sudan_like())
    assert phases(state) == [
        "talks",
        "agreed",
        "in_force",
        "violated",
        "violated:extended",
        "ended",
        "collapsed",
    ]
    by_phase = {t.phase: t for t in state.transitions}
    assert by_phase["talks"].alert_id == "a001"
    assert by_phase["in_force"].cause == "scheduled start"
    assert by_phase["in_force"].at == T0 + timedelta(hours=12)
    assert by_phase["ended"].cause == "scheduled end"
    assert by_phase["ended"].at == T0 + timedelta(hours=12 + 72 + 72)
    assert by_phase["agreed"].alert_id == "a008"  # the report that confirmed it
    assert by_phase["collapsed"].alert_id == "a009"
    assert state.since == T0 + timedelta(hours=12)
    # Distinct stories, not reports: the second outlet of s-strike counts once.
    assert state.violated == 4
    assert state.first_violation == T0 + timedelta(hours=20)
    assert state.last_violation == T0 + timedelta(hours=161)
    assert [v.reports for v in state.violations] == [2, 1, 1, 1]


def test_the_state_depends_on_the_set_of_reports_not_their_arrival_order() -> None:
    reports = sudan_like()
    expected = fold("sudan", reports)
    rng = random.Random(7)
    for _ in range(20):
        shuffled = reports[:]
        rng.shuffle(shuffled)
        assert fold("sudan", shuffled) == expected
    step = TruceState(region="sudan")
    for r in reports:
        step = apply(step, r)
    assert step == expected


def test_time_passing_applies_the_scheduled_start_and_end_without_a_report() -> None:
    state = fold("sudan", sudan_like()[:3])
    assert state.phase == "agreed"
    assert not in_force_at(state, T0 + timedelta(hours=11))
    assert in_force_at(state, T0 + timedelta(hours=13))
    later = advance(state, T0 + timedelta(hours=100))
    assert later.phase == "ended" and state.phase == "agreed"  # advance copies


def test_one_report_does_not_move_a_truce_but_a_second_one_does() -> None:
    for kind in ("agreed", "violated"):
        lone = fold("gaza-israel", [report(1, kind, 0)])
        assert lone.phase == "none", kind  # one misread headline moves nothing
        late = fold("gaza-israel", [report(1, kind, 0), report(2, kind, 30)])
        assert late.phase == "none", kind  # a day apart is not a confirmation
    collapse = fold("sudan", [report(1, "starts", 0, starts=T0), report(2, "collapsed", 5)])
    assert collapse.phase == "in_force" and collapse.violated == 1


def test_a_breach_with_no_truce_seen_implies_one_in_force_since_unknown() -> None:
    state = fold("gaza-israel", [report(1, "violated", 0), report(2, "violated", 1)])
    assert state.phase == "violated" and state.since is None and state.violated == 2
    # No stated end: in force while news keeps coming, not forever.
    assert in_force_at(state, T0 + timedelta(days=6))
    assert not in_force_at(state, T0 + timedelta(days=8))
    after_talks = fold(
        "sudan", [report(3, "call", -5), report(1, "violated", 0), report(2, "violated", 1)]
    )
    assert after_talks.phase == "talks"  # breaches of a truce we only heard called for


def test_an_announced_end_still_ahead_only_sets_the_end() -> None:
    end = T0 + timedelta(hours=30)
    state = fold(
        "sudan",
        [
            report(1, "starts", 0, starts=T0),
            report(2, "expired", 10, ends=end),
        ],
    )
    assert state.phase == "in_force" and state.until == end
    assert advance(state, end).phase == "ended"


def test_an_extension_after_the_end_brings_the_truce_back_into_force() -> None:
    state = fold(
        "sudan",
        [
            report(1, "starts", 0, duration_h=24, starts=T0),
            report(2, "extended", 30, duration_h=24),
        ],
    )
    assert phases(state) == ["in_force", "ended", "in_force"]
    assert state.until == T0 + timedelta(hours=48)


def test_a_new_truce_counts_its_violations_afresh() -> None:
    state = fold(
        "sudan",
        [
            report(1, "starts", 0, duration_h=24, starts=T0),
            report(2, "violated", 1),
            report(3, "collapsed", 2),
            report(6, "collapsed", 3),
            report(4, "agreed", 100, starts=T0 + timedelta(hours=101)),
            report(7, "agreed", 100.5),
            report(5, "violated", 110),
        ],
    )
    assert state.phase == "violated" and state.violated == 1
    assert len(state.violations) == 4  # the history keeps every story


def test_outlets_repeating_one_extension_extend_it_once() -> None:
    state = fold(
        "sudan",
        [
            report(1, "starts", 0, duration_h=72, starts=T0),
            report(2, "extended", 70, duration_h=72),  # to 144 h
            report(3, "extended", 80, duration_h=72),  # the same extension, another outlet
            report(4, "extended", 100, duration_h=72),  # and again the next day
        ],
    )
    assert state.until == T0 + timedelta(hours=144)
    assert phases(state) == ["in_force", "in_force:extended"]
    later = fold(
        "sudan",
        [
            *[report(n, "extended", h, duration_h=72) for n, h in ((5, 140),)],
            report(1, "starts", 0, duration_h=72, starts=T0),
            report(2, "extended", 70, duration_h=72),
        ],
    )
    assert later.until == T0 + timedelta(hours=216)  # a second extension, days later


def test_a_truce_agreed_while_one_runs_takes_over_at_its_end() -> None:
    end = T0 + timedelta(hours=72)
    state = fold(
        "sudan",
        [
            report(1, "starts", 0, duration_h=72, starts=T0),
            report(2, "agreed", 40, starts=end, duration_h=7 * 24),
            report(3, "violated", 80),
        ],
    )
    assert phases(state) == ["in_force", "ended", "in_force", "violated"]
    assert state.since == end and state.until == end + timedelta(days=7)
    assert state.violated == 1


def test_the_running_truce_told_again_is_not_a_new_one() -> None:
    start = T0 + timedelta(hours=10)
    state = fold("gaza-israel", [
        report(1, "agreed", 0, starts=start, duration_h=96),
        report(2, "agreed", 1),
        report(3, "violated", 12),
        report(4, "agreed", 14, starts=start + timedelta(hours=20)),  # "from tomorrow", late
    ])
    assert phases(state) == ["agreed", "in_force", "violated"]
    assert state.until == start + timedelta(hours=96) and state.violated == 1


def test_a_start_named_by_its_day_gives_way_to_the_hour_a_later_report_gives() -> None:
    monday = T0 + timedelta(hours=10)  # the day's midnight stands in for its hour
    evening = monday + timedelta(hours=19, minutes=45)
    agreed = [
        report(1, "agreed", 0, starts=monday, starts_day_only=True, duration_h=168),
        report(2, "agreed", 1, starts=monday, starts_day_only=True),
    ]
    # The hour comes before the day: it is kept, the midnight does not replace it.
    early = fold("sudan", [*agreed, report(3, "agreed", 5, starts=evening)])
    assert early.starts == evening and not early.starts_day_only
    # The hour comes once the day began: the truce we started at midnight is not in force
    # yet after all; it starts at that hour and runs its week from there.
    late = advance(fold("sudan", [*agreed, report(3, "agreed", 15, starts=evening)]),
                   evening + timedelta(hours=1))
    assert phases(late) == ["agreed", "in_force", "agreed", "in_force"]
    assert late.since == evening and late.until == evening + timedelta(days=7)
    assert [t.cause for t in late.transitions][2] == "start corrected"


def test_an_extension_within_a_day_of_a_reported_collapse_undoes_it() -> None:
    """'The ceasefire breaks down' in the morning, 'extended' that afternoon: it ran on."""
    reports = [
        report(1, "starts", 0, duration_h=72, starts=T0),
        report(2, "violated", 10),
        report(3, "collapsed", 40),
        report(4, "collapsed", 41),  # confirmed: collapsed
        report(5, "extended", 50),  # no new end stated: the known end stands
        report(6, "extended", 60, duration_h=72),  # measured from that end, not from now
    ]
    state = fold("sudan", reports)
    assert phases(state)[:4] == ["in_force", "violated", "collapsed", "violated"]
    assert state.transitions[3].cause == "extended after a reported collapse"
    assert state.phase == "violated" and state.since == T0
    assert state.until == T0 + timedelta(hours=144)
    assert state.violated == 3  # the breaches before the collapse still count


def test_an_extension_days_after_a_collapse_is_a_truce_back_in_force() -> None:
    state = fold(
        "sudan",
        [
            report(1, "starts", 0, duration_h=72, starts=T0),
            report(3, "collapsed", 20),
            report(4, "collapsed", 21),
            report(5, "extended", 60, duration_h=24),
        ],
    )
    assert phases(state) == ["in_force", "collapsed", "in_force"]
    assert state.until == T0 + timedelta(hours=84)  # from the report: the old end is gone
    assert state.violated == 0
