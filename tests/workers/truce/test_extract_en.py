"""English extraction: kinds, times, durations, accusations; unknown stays unknown.

Every sentence here is written for the test (modelled on how wire reports phrase truces).
Published: Wednesday 6 March 2024, 09:00 UTC (tests/workers/truce/helpers.py).
"""

from __future__ import annotations

import pytest

from core.models import TruceEvent
from tests.workers.truce.conftest import Extract
from tests.workers.truce.helpers import utc

GAZA = ("gaza-israel",)
SUDAN = ("sudan",)
UKRAINE = ("ukraine",)
KARABAKH = ("nagorno-karabakh",)


@pytest.mark.parametrize(
    ("title", "text", "kind"),
    [
        ("UN chief calls for an immediate ceasefire in Sudan", "", "call"),
        ("Mediators say the sides are close to agreeing a truce", "", "call"),
        ("Talks to extend the Gaza truce stall in Doha", "", "call"),
        ("Ukraine rejects Russia's proposal of an Easter ceasefire", "", "call"),
        ("Israel and Hamas agree to a four-day truce", "", "agreed"),
        ("Putin orders a 30-hour Easter ceasefire", "", "agreed"),
        ("The truce will take effect on Sunday, officials said", "", "agreed"),
        ("Sudan's weeklong ceasefire begins amid scepticism", "", "starts"),
        ("A humanitarian pause came into force overnight", "", "starts"),
        ("Gaza ceasefire holds for a second day", "", "holding"),
        ("Sudan truce extended for another 72 hours", "", "extended"),
        ("Yemen truce expires with no sign of renewed fighting", "", "expired"),
        ("Kyiv dismisses the Kremlin's truce as a ploy", "", "call"),
    ],
)
def test_ceasefire_kinds(extract: Extract, title: str, text: str, kind: str) -> None:
    assert extract(title, text).kind == kind


def test_a_call_to_extend_is_no_extension(extract: Extract) -> None:
    assert extract("US urges warring sides to extend the Sudan ceasefire").kind == "call"
    assert extract("Hamas says it is willing to extend the truce").kind == "call"


def test_headline_first_then_lede(extract: Extract) -> None:
    event = extract(
        "Evacuations continue in Khartoum",
        "A three-day ceasefire took effect at midnight. Aid groups hope it will hold.",
        regions=SUDAN,
    )
    assert event.kind == "starts"
    assert event.duration_h == 72


def test_agreed_with_a_start_on_saturday_noon(extract: Extract) -> None:
    event = extract("Israel and Hamas agree to a four-day truce from Saturday noon", regions=GAZA)
    assert event.kind == "agreed"
    assert event.starts == utc(2024, 3, 9, 10)  # 12:00 in Jerusalem (UTC+2)
    assert event.duration_h == 96


def test_start_at_local_time_today(extract: Extract) -> None:
    event = extract("A humanitarian pause took effect at 7:00 local time", regions=GAZA)
    assert event.kind == "starts"
    assert event.starts == utc(2024, 3, 6, 5)


def test_named_zone_wins_over_local_time(extract: Extract) -> None:
    text = "The truce takes effect on Sunday at 6am local time (04:00 GMT)."
    # Khartoum is UTC+2, so both name the same moment.
    assert extract("Sudan truce agreed", text, regions=SUDAN).starts == utc(2024, 3, 10, 4)
    # With no region (UTC) the local reading would say 06:00: the GMT one is taken.
    assert extract("Truce agreed", text).starts == utc(2024, 3, 10, 4)


def test_a_twin_in_another_zone_keeps_its_own_day(extract: Extract) -> None:
    # 00:00 on Sunday in Tripoli is 17:00 on Saturday in New York: the same moment.
    event = extract("Libya truce agreed", "The ceasefire starts on Sunday at 00:00 (17:00 ET).",
                    regions=("libya",))
    assert event.starts == utc(2024, 3, 9, 22)


def test_weekday_with_day_of_month(extract: Extract) -> None:
    event = extract("The truce took effect on Monday 4th at noon", regions=GAZA)
    assert event.starts == utc(2024, 3, 4, 10)


def test_bare_midnight_is_the_next_midnight(extract: Extract) -> None:
    event = extract("Russia and Ukraine agree an energy truce starting at midnight",
                    regions=UKRAINE)
    assert event.kind == "agreed"
    assert event.starts == utc(2024, 3, 6, 22)  # 00:00 on Thursday in Kyiv


def test_midnight_on_a_weekday_is_the_end_of_that_day(extract: Extract) -> None:
    event = extract("Turkey and Russia agree a truce that will begin at midnight on Thursday",
                    regions=("syria",))
    assert event.starts == utc(2024, 3, 7, 21)  # 24:00 Thursday = Friday 00:00 in Damascus


@pytest.mark.parametrize(
    ("title", "starts"),
    [
        ("Armenia and Azerbaijan agreed a ceasefire from Thursday", utc(2024, 3, 6, 20)),
        ("The two sides agree a humanitarian truce starting Monday", utc(2024, 3, 10, 20)),
        ("Truce agreed from today", utc(2024, 3, 5, 20)),
        ("Truce agreed from tomorrow at 10:00", utc(2024, 3, 7, 6)),
    ],
)
def test_weekday_and_day_starts(extract: Extract, title: str, starts: object) -> None:
    assert extract(title, regions=KARABAKH).starts == starts  # Baku is UTC+4


def test_a_named_zone(extract: Extract) -> None:
    event = extract("Putin orders a 30-hour truce starting at 18:00 Moscow time on Saturday",
                    regions=UKRAINE)
    assert event.kind == "agreed"
    assert event.starts == utc(2024, 3, 9, 15)
    assert event.duration_h == 30


def test_a_start_already_reported_is_the_nearest_day(extract: Extract) -> None:
    # "began on Tuesday", published on Wednesday: yesterday, not next week.
    event = extract("Weeklong ceasefire began on Tuesday, residents report calm",
                    regions=SUDAN)
    assert event.kind == "starts"
    assert event.starts == utc(2024, 3, 4, 22)


def test_date_with_month(extract: Extract) -> None:
    event = extract("The warring parties agreed a truce that will begin on March 15 at 6 a.m.",
                    regions=SUDAN)
    assert event.starts == utc(2024, 3, 15, 4)


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("The sides agreed a 72-hour ceasefire", 72),
        ("The sides agreed a three-day ceasefire", 72),
        ("The sides agreed a weeklong truce", 168),
        ("The sides agreed to a ceasefire lasting 48 hours", 48),
        ("A seven-day truce was agreed", 168),
    ],
)
def test_durations(extract: Extract, text: str, hours: float) -> None:
    assert extract(text).duration_h == hours


def test_a_war_is_not_the_truce_duration(extract: Extract) -> None:
    event = extract("Israel and Hamas agree a ceasefire, ending 11 days of fighting")
    assert event.kind == "agreed"
    assert event.duration_h is None


def test_extension_gives_its_own_length(extract: Extract) -> None:
    event = extract("Israel and Hamas agree to extend the truce by two more days",
                    "The four-day pause was due to end on Tuesday morning.")
    assert event.kind == "extended"
    assert event.duration_h == 48
    extended = extract("Warring sides agree to extend a weeklong ceasefire by a further five days")
    assert extended.duration_h == 120


def test_an_extension_beside_a_due_end_is_an_extension(extract: Extract) -> None:
    event = extract("The truce, which was due to end on Tuesday, has been extended by a day")
    assert event.kind == "extended"
    assert event.duration_h == 24
    assert extract("The truce will be extended by 48 hours, Qatar says").kind == "extended"
    assert extract("The truce could be extended by 48 hours, Qatar says").kind == "call"


def test_extension_with_a_new_end(extract: Extract) -> None:
    event = extract("Gaza truce extended until 07:00 on Friday", regions=GAZA)
    assert event.kind == "extended"
    assert event.ends == utc(2024, 3, 8, 5)


def test_expiring_truce_with_an_announced_end(extract: Extract) -> None:
    event = extract("The ceasefire is due to expire on Friday at 07:00", regions=GAZA)
    assert event.kind == "expired"
    assert event.ends == utc(2024, 3, 8, 5)


def test_expiring_truce_without_an_end_is_holding(extract: Extract) -> None:
    assert extract("Diplomats scramble as the truce nears its end").kind == "holding"


def test_expired_at_midnight_is_the_last_midnight(extract: Extract) -> None:
    event = extract("The truce expired at midnight with no fighting reported", regions=GAZA)
    assert event.kind == "expired"
    assert event.ends == utc(2024, 3, 5, 22)


def test_accuser_and_accused(extract: Extract) -> None:
    event = extract(
        "Azerbaijan accuses Armenia of shelling positions in Tartar district",
        label="violation",
        regions=KARABAKH,
    )
    assert event.kind == "violated"
    assert (event.accuser, event.accused) == ("Azerbaijan", "Armenia")
    assert event.place == "Tartar"
    assert event.attack == "shelling"


def test_accuser_says_who_fired(extract: Extract) -> None:
    event = extract(
        "Karabakh truce under strain",
        "Azerbaijan said Armenian forces fired mortars at villages near Tovuz overnight.",
        label="violation",
        regions=KARABAKH,
    )
    assert (event.accuser, event.accused) == ("Azerbaijan", "Armenia")
    assert event.place == "Tovuz"
    assert event.attack == "mortar"


def test_passive_accusation(extract: Extract) -> None:
    event = extract("Hamas accused by Israel of breaking the Gaza truce", label="violation",
                    regions=GAZA)
    assert (event.accuser, event.accused) == ("Israel", "Hamas")


def test_mutual_accusations_have_no_direction(extract: Extract) -> None:
    event = extract("Israel and Hezbollah accuse each other of violating the ceasefire",
                    label="violation", regions=("lebanon",))
    assert (event.accuser, event.accused) == ("", "")


def test_attack_attribution_and_toll(extract: Extract) -> None:
    event = extract(
        "Russian drone strikes on Kherson kill three despite Easter truce",
        "Three civilians were killed and 12 wounded, regional officials said.",
        label="violation",
        regions=UKRAINE,
    )
    assert event.accused == "Russia"
    assert event.attack == "drone"
    assert event.place == "Kherson"
    assert (event.killed, event.wounded) == (3, 12)


def test_place_is_title_cased_and_not_a_party_or_country(extract: Extract) -> None:
    event = extract("Israeli air strikes hit khan younis despite the truce", label="violation",
                    regions=GAZA)
    assert event.place == "Khan Younis"
    assert event.accused == "Israel"
    assert event.attack == "air strike"
    # "Kyiv" names a party (Ukraine) and "Ukraine" the country: neither is a place.
    assert extract("Russian missiles hit Kyiv despite the truce in Ukraine", label="violation",
                   regions=UKRAINE).place == ""


def test_collapse(extract: Extract) -> None:
    assert extract("Fighting resumes in Sudan as the truce collapses",
                   label="violation", regions=SUDAN).kind == "collapsed"
    event = extract("Israeli jets strike Gaza minutes after the truce expired",
                    label="violation", regions=GAZA)
    assert event.kind == "collapsed"
    assert event.accused == "Israel"
    assert event.attack == "air strike"


def test_strain_is_no_collapse(extract: Extract) -> None:
    for title in ("Clashes rock fragile Sudan ceasefire", "Gaza truce falters as rockets fly",
                  "Heavy fighting in Khartoum as the truce is set to expire"):
        assert extract(title, label="violation", regions=SUDAN).kind == "violated", title


class TestUnknownStaysUnknown:
    """What the text does not say is not made up."""

    def test_no_time_no_duration(self, extract: Extract) -> None:
        event = extract("Israel and Hamas agree to a ceasefire", regions=GAZA)
        assert event.kind == "agreed"
        assert (event.starts, event.ends, event.duration_h) == (None, None, None)

    def test_a_threat_is_not_an_accusation(self, extract: Extract) -> None:
        event = extract("Israel warns it will respond to any violation of the truce by Hamas",
                        label="violation", regions=GAZA)
        assert (event.accuser, event.accused) == ("", "")
        assert (event.killed, event.wounded, event.place) == (None, None, "")

    def test_a_victim_is_not_the_attacker(self, extract: Extract) -> None:
        event = extract("Two Israeli soldiers wounded as Gaza ceasefire violated",
                        label="violation", regions=GAZA)
        assert event.accused == ""
        assert event.wounded == 2

    def test_nothing_fits(self, extract: Extract) -> None:
        assert extract("What a ceasefire would mean for the region").kind is None

    def test_none_label(self, extract: Extract) -> None:
        assert extract("Israel and Hamas agree a truce", label="none") == TruceEvent()

    def test_unknown_language_falls_back_to_english(self, extract: Extract) -> None:
        assert extract("Israel and Hamas agree a truce", lang="xx").kind == "agreed"


def test_a_stated_extension_below_a_headline_of_talks_is_the_event(extract: Extract) -> None:
    event = extract(
        "Army suspends its part in the Jeddah ceasefire talks",
        "The two sides had agreed to extend the weeklong ceasefire by a further five days.",
        regions=SUDAN,
    )
    assert event.kind == "extended"
    assert event.duration_h == 120


def test_a_headline_of_extending_in_prospect_frames_the_lede(extract: Extract) -> None:
    event = extract(
        "Israel may extend the truce with Hamas, Netanyahu says",
        "He said the current four-day truce could be extended by a day for every ten hostages.",
        regions=GAZA,
    )
    assert event.kind == "call"


def test_an_extension_the_lede_only_mentions_without_a_length_stays_talk(
    extract: Extract,
) -> None:
    event = extract(
        "UN envoy calls for new ceasefire talks on Sudan",
        "The truce, extended once already, is fraying.",
        regions=SUDAN,
    )
    assert event.kind == "call"
