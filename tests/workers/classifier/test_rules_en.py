"""English rule families: each catches its breach pattern and leaves look-alikes alone.

All headlines here are written for these tests (real-style, not copied from any feed).
"""

from __future__ import annotations

import pytest

from workers.classifier.engine import Classifier

VIOLATIONS = [
    # (title, lede, expected rule family)
    (
        "Armenia accuses Azerbaijan of breaking Karabakh ceasefire",
        "Yerevan said Azerbaijani troops opened fire on border positions overnight.",
        "accusation",
    ),
    (
        "Israel and Hamas trade accusations of violating the truce",
        "Each side says the other broke the terms of the pause in Gaza.",
        "accusation",
    ),
    (
        "RSF denies breaching Sudan truce after shelling of Omdurman",
        "The paramilitary group said it was committed to the ceasefire.",
        None,
    ),
    (
        "Airstrikes pound Khartoum despite the ceasefire",
        "Residents reported heavy explosions across the capital.",
        "despite_truce",
    ),
    (
        "Shelling hits Donetsk minutes after truce takes effect",
        "Officials said two civilians were wounded.",
        None,
    ),
    (
        "Gaza truce collapses as Israel resumes strikes",
        "Rockets were fired from Gaza hours before the collapse.",
        None,
    ),
    (
        "Fighting resumes in Gaza after week-long truce expires",
        "Israeli jets struck targets in the south of the strip.",
        None,
    ),
    (
        "OSCE monitors recorded 1,200 ceasefire violations in Donbas over the weekend",
        "The mission said most were artillery strikes.",
        "monitor_count",
    ),
    (
        "Clashes shake fragile ceasefire in Tigray",
        "Fighting broke out near the regional capital, witnesses said.",
        None,
    ),
    ("Rockets fired during humanitarian pause in Gaza", "Sirens sounded in southern Israel.", None),
]

NOT_VIOLATIONS = [
    # (title, lede, expected label)
    (
        "Hamas warns it will respond to any violation of the truce",
        "The group said its fighters would retaliate if Israel broke the agreement.",
        "ceasefire",
    ),
    (
        "EU threatens sanctions if the Libya ceasefire is broken",
        "Ministers meet in Brussels to discuss the Berlin process.",
        "ceasefire",
    ),
    (
        "UN Security Council votes on Gaza ceasefire resolution",
        "Diplomats said the United States may use its veto.",
        "ceasefire",
    ),
    (
        "Thousands march in London demanding a ceasefire in Gaza",
        "Protesters gathered in Hyde Park on Saturday.",
        "ceasefire",
    ),
    (
        "Sudan's warring generals agree to a seven-day ceasefire",
        "The truce is due to take effect on Monday, mediators said.",
        "ceasefire",
    ),
    (
        "Yemen truce holds for a second month",
        "No major incidents have been reported since April.",
        "ceasefire",
    ),
    (
        "Israel and Hamas extend truce by two days",
        "More hostages are expected to be released.",
        "ceasefire",
    ),
    (
        "King leads Armistice Day commemorations at the Cenotaph",
        "Two minutes of silence were observed across the country.",
        "none",
    ),
    (
        "Microsoft and Sony strike a truce over game licensing",
        "The companies ended a long dispute over console exclusives.",
        "none",
    ),
    ("Russian drones hit Kyiv power station", "Air defences shot down most of the drones.", "none"),
    ("Bank of England holds interest rates", "Inflation remained above target in October.", "none"),
]


@pytest.mark.parametrize(("title", "lede", "family"), VIOLATIONS)
def test_breach_patterns_are_violations(
    clf: Classifier, title: str, lede: str, family: str | None
) -> None:
    result = clf.classify(title, lede, "en")
    assert result.label == "violation", (title, result)
    assert result.p_violation > 0.5
    assert result.evidence in (title, lede)
    if family is not None:
        assert result.rule == family


@pytest.mark.parametrize(("title", "lede", "expected"), NOT_VIOLATIONS)
def test_lookalikes_are_not_violations(
    clf: Classifier, title: str, lede: str, expected: str
) -> None:
    result = clf.classify(title, lede, "en")
    assert result.label == expected, (title, result)
    assert result.p_violation < 0.5


def test_hypothetical_versus_report_of_the_same_breach(clf: Classifier) -> None:
    hypothetical = clf.classify(
        "Kyiv says it would respond if Russia violated the ceasefire", "", "en"
    )
    report = clf.classify("Kyiv says Russia violated the ceasefire", "", "en")
    assert hypothetical.label != "violation"
    assert report.label == "violation"
    assert report.p_violation > hypothetical.p_violation


def test_fighting_before_a_truce_starts_is_not_a_breach(clf: Classifier) -> None:
    result = clf.classify(
        "Strikes continue in Gaza before the truce starts on Friday",
        "The ceasefire is due to take effect at 7am.",
        "en",
    )
    assert result.label == "ceasefire"


def test_scores_are_probabilities_of_the_chosen_label(clf: Classifier) -> None:
    result = clf.classify("Sudan army and RSF accuse each other of breaking truce", "", "en")
    assert 0.0 <= result.score <= 1.0
    assert result.label == "violation"
    assert result.score == pytest.approx(result.p_violation)
    calm = clf.classify("Weather: sunny spells and light winds", "", "en")
    assert calm.label == "none"
    assert calm.rule == "no_truce_term"
    assert calm.p_violation < 0.05


def test_regions_and_parties_are_tagged(clf: Classifier) -> None:
    result = clf.classify(
        "Azerbaijan accuses Armenia of violating ceasefire in Nagorno-Karabakh", "", "en"
    )
    assert result.regions == ("nagorno-karabakh",)
    assert set(result.parties) >= {"Armenia", "Azerbaijan"}
