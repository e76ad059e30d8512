"""Detection that knows the state: hostilities without a truce word where a truce is in force."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from workers.classifier.engine import Classifier
from workers.classifier.in_truce import TruceWindow

SINCE = datetime(2023, 5, 22, 19, 45, tzinfo=UTC)
SUDAN = {"sudan": TruceWindow("sudan", SINCE, None)}
ENDED = {"sudan": TruceWindow("sudan", SINCE, None, ended=True)}


@pytest.mark.parametrize(
    ("title", "text", "lang"),
    [
        ("Shelling kills three in Khartoum", "Residents said shells hit homes in the south.", "en"),
        ("Air strikes pound Omdurman as army battles RSF",
         "Witnesses reported heavy gunfire overnight.", "en"),
        ("Ostrzał Chartumu. Nie żyje pięć osób", "Mieszkańcy mówią o nalotach.", "pl"),
    ],
)
def test_hostilities_in_a_region_in_truce_are_a_candidate(
    clf: Classifier, title: str, text: str, lang: str
) -> None:
    assert clf.classify(title, text, lang).label == "none"  # no truce word, no state
    result = clf.classify(title, text, lang, truces=SUDAN)
    assert result.label == "violation"
    assert result.rule == "truce_in_force"
    assert result.truce_region == "sudan"
    assert result.regions[0] == "sudan"
    assert result.evidence == title
    assert result.score >= result.alert_threshold


@pytest.mark.parametrize(
    ("title", "text"),
    [
        # The truce is elsewhere.
        ("Shelling kills three in Kharkiv", "Russian shells hit homes overnight."),
        # A threat, not an event.
        ("Army warns it will strike Khartoum", "The army said it could attack RSF positions."),
        # No hostility at all.
        ("Aid convoy reaches Khartoum", "Trucks carried food and medicine."),
        # History.
        ("Anniversary of the battle for Khartoum", "Twenty years ago fighters attacked the city."),
    ],
)
def test_what_is_not_a_report_of_hostilities_there_stays_none(
    clf: Classifier, title: str, text: str
) -> None:
    assert clf.classify(title, text, "en", truces=SUDAN).label == "none"


def test_after_the_end_only_the_fighting_coming_back_counts(clf: Classifier) -> None:
    assert clf.classify("Shelling kills three in Khartoum", "", "en", truces=ENDED).label == "none"
    result = clf.classify("Fighting resumes in Khartoum", "Clashes erupted again.", "en",
                          truces=ENDED)
    assert result.label == "violation" and result.truce_region == "sudan"
