"""Per-language event vocabularies (config/events/<lang>.yaml): the strict model of one file.

The extractor's code is the same for every language; the words it looks for are here: number
words, duration units and templates, weekdays, months, clock words, time-zone phrases, the
markers of a start ("from") and an end ("until"), the word classes of the event kinds that
the classifier's lexicons do not have, accusation direction, attack kinds and casualty
templates. Every pattern is a regular-expression fragment matched against folded text
(workers/classifier/text.fold) at word boundaries; the clitic shorthands of regions.yaml
({ar}, {al}, {he}) may be used.
"""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.regexutil import check_patterns
from core.regions import expand_alias

# Word classes of the events files. The classifier's lexicons give truce, hostile, accuse,
# call, agree, hold ...; these are the ones the event kinds and the times need on top.
WORD_CLASSES: tuple[str, ...] = (
    "started",  # the truce took effect / began / begins (reported as happening)
    "pending",  # it is yet to start: will take effect, due to begin, is to start
    "in_force",  # it is in force / in effect (holding)
    "begin",  # any form of begin / take effect: a time next to it is a start
    "end",  # any form of end / expire / last until: a time next to it is an end
    "extend",  # extend / prolong / renew
    "expired",  # the truce ended / expired / lapsed / ran out
    "expiring",  # due to expire / set to end / final hours of (still in force)
    "collapse",  # collapse words the lexicon lacks (shattered, in tatters ...)
    "extra",  # another / further / additional: the duration of an extension
    "mutual",  # each other / one another: accusations with no single direction
    "by",  # by / from / on the part of: the agent of a breach after the noun
    "say",  # said / says / claims / according to: the accuser before it
    "deny",  # denies / denied: the party before it is the accused
    "war",  # war / conflict / offensive / visit ...: what a duration may measure instead
    "blamed",  # to blame / accused of / blamed for: the party before it is the accused
    "agent",  # attack verbs with no attack kind (attacked, opened fire, struck, targeted)
    "prep",  # in / on / at / на / в ...: a party after one is no subject ("fire on Israel")
    "modal",  # willing to / open to / ready for: what makes an agreement only a prospect
    "prospect",  # tentative / near / close to / pending approval: before or after the deal
    "anticipate",  # before / ahead of / until: an end after one is still to come
    "framework",  # as part of / under / after: a deal carried out, no new agreement
    "question",  # can / will / czy / ли at the start of a clause that ends with "?"
)

# Canonical attack kinds: the same names in every language, for alerts and the truce page.
ATTACK_KINDS: tuple[str, ...] = (
    "shelling", "artillery", "mortar", "drone", "air strike", "rockets", "missile",
    "small arms", "sniper", "ground assault", "raid", "grenade", "tank fire", "explosive",
    "naval fire", "heavy weapons",
)

def _check(patterns: list[str] | tuple[str, ...], where: str) -> None:
    check_patterns([expand_alias(p) for p in patterns], where)


class EventVocabSpec(BaseModel):
    """Validated contents of one events file."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    lang: str = Field(min_length=2, max_length=8)
    # Where accuser and accused stand around "accuse": subject-verb-object (en, ru ...),
    # subject-object-verb (tr, az, hy), verb-subject-object (ar).
    order: Literal["svo", "sov", "vso"] = "svo"
    # "midnight on Thursday" is the end of Thursday in English; "с полуночи 29 декабря" the start.
    midnight_ends_day: bool = False
    numbers: dict[str, int] = {}
    units: dict[str, float] = {}
    durations: tuple[str, ...] = ()
    fixed_durations: dict[str, float] = {}  # words that are a duration alone: "weeklong"
    weekdays: dict[str, int]
    months: dict[str, int] = {}
    relative_days: dict[str, int] = {}
    hour_names: dict[str, int] = {}
    midnight: tuple[str, ...] = ()
    am: tuple[str, ...] = ()
    pm: tuple[str, ...] = ()
    hour_before: tuple[str, ...] = ()
    hour_after: tuple[str, ...] = ()
    zones: dict[str, str] = {}
    joiners: tuple[str, ...] = ()
    from_: tuple[str, ...] = Field(default=(), alias="from")
    from_after: tuple[str, ...] = ()
    until: tuple[str, ...] = ()
    until_after: tuple[str, ...] = ()
    words: dict[str, tuple[str, ...]] = {}
    party_aliases: dict[str, tuple[str, ...]] = {}
    not_places: tuple[str, ...] = ()
    place_drop: tuple[str, ...] = ()
    attacks: dict[str, tuple[str, ...]] = {}
    killed: tuple[str, ...] = ()
    wounded: tuple[str, ...] = ()

    @field_validator("weekdays")
    @classmethod
    def _seven_days(cls, value: dict[str, int]) -> dict[str, int]:
        if sorted(set(value.values())) != list(range(7)):
            raise ValueError("weekdays must give each day 0 (Monday) .. 6 (Sunday)")
        _check(list(value), "weekday ")
        return value

    @field_validator("months")
    @classmethod
    def _months(cls, value: dict[str, int]) -> dict[str, int]:
        if value and sorted(set(value.values())) != list(range(1, 13)):
            raise ValueError("months must give each month 1 .. 12")
        _check(list(value), "month ")
        return value

    @field_validator("zones")
    @classmethod
    def _zones(cls, value: dict[str, str]) -> dict[str, str]:
        for pattern, zone in value.items():
            if zone == "local":
                continue
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError, OSError):
                raise ValueError(f"zone {pattern!r}: unknown IANA time zone {zone!r}") from None
        _check(list(value), "zone ")
        return value

    @field_validator("words")
    @classmethod
    def _known_words(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        unknown = sorted(set(value) - set(WORD_CLASSES))
        if unknown:
            raise ValueError(f"unknown word classes {unknown}; known: {list(WORD_CLASSES)}")
        for name, patterns in value.items():
            _check(patterns, f"class {name!r}: ")
        return value

    @field_validator("attacks")
    @classmethod
    def _known_attacks(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        unknown = sorted(set(value) - set(ATTACK_KINDS))
        if unknown:
            raise ValueError(f"unknown attack kinds {unknown}; known: {list(ATTACK_KINDS)}")
        for name, patterns in value.items():
            _check(patterns, f"attack {name!r}: ")
        return value

    @field_validator("durations")
    @classmethod
    def _duration_templates(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for template in value:
            if "{u}" not in template:
                raise ValueError(f"duration template {template!r} has no {{u}} (the unit)")
        _check([fill(t, "1", "h") for t in value], "duration ")
        return value

    @field_validator("killed", "wounded")
    @classmethod
    def _count_templates(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for template in value:
            if "{n}" not in template:
                raise ValueError(f"casualty template {template!r} has no {{n}} (the number)")
        _check([fill(t, "1", "") for t in value], "casualty ")
        return value

    @model_validator(mode="after")
    def _patterns_compile(self) -> EventVocabSpec:
        plain: list[str] = [
            *self.numbers, *self.units, *self.fixed_durations, *self.relative_days,
            *self.hour_names, *self.midnight,
            *self.am, *self.pm, *self.hour_before, *self.hour_after, *self.joiners,
            *self.from_, *self.from_after, *self.until, *self.until_after, *self.not_places,
            *self.place_drop, *(p for ps in self.party_aliases.values() for p in ps),
        ]
        _check(plain, "")
        return self


def fill(template: str, number: str, unit: str) -> str:
    """``template`` with its {n} (number) and {u} (unit) placeholders replaced."""
    return template.replace("{n}", number).replace("{u}", unit)
