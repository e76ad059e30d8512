"""The truce phrases: English for the web page and the console, any reader's words for the bot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.truce_model import TruceState
from core.truce_text import (
    ENGLISH,
    accusation,
    cause_text,
    fmt_time,
    phase_text,
    phase_word,
    span_text,
)

T0 = datetime(2023, 9, 20, 11, 0, tzinfo=UTC)
DAY = timedelta(days=1)


class Marked:
    """Words that show which phrase each part came from: «msgid, filled» and ISO dates."""

    def gettext(self, message: str, **args: object) -> str:
        return "«" + message.format(**args) + "»"

    def ngettext(self, singular: str, plural: str, n: int, **args: object) -> str:
        return f"«{n}:" + (singular if n == 1 else plural).format(n=n, **args) + "»"

    def when(self, t: datetime, *, zone: bool = True) -> str:
        return t.date().isoformat() + ("Z" if zone else "")


def in_force(until: datetime | None = T0 + 3 * DAY) -> TruceState:
    return TruceState(region="r", phase="in_force", since=T0, until=until, alive_at=T0,
                      last_report=T0)


def test_english_is_what_the_web_page_and_the_console_always_showed() -> None:
    assert fmt_time(T0) == "20 Sep 2023 11:00 UTC" == ENGLISH.when(T0)
    assert fmt_time(T0, zone=False) == "20 Sep 2023 11:00" and fmt_time(None) == "?"
    assert fmt_time(T0.replace(tzinfo=None)) == "20 Sep 2023 11:00 UTC"  # naive is UTC
    state = in_force()
    assert phase_text(state, T0 + DAY) == "in force"
    assert span_text(state) == " since 20 Sep 2023 11:00 UTC until 23 Sep 2023 11:00 UTC"
    agreed = TruceState(region="r", phase="agreed", starts=T0 + DAY)
    assert span_text(agreed, zone=False) == ", starts 21 Sep 2023 11:00"
    assert span_text(in_force().model_copy(update={"since": None}), zone=False) == (
        " since before the first report until 23 Sep 2023 11:00")
    quiet = in_force(until=None)
    assert phase_text(quiet, T0 + 12 * DAY) == "in force (no report for 12 days)"
    assert cause_text("violated after the end") == "fighting after the end"
    assert cause_text("scheduled end") == "scheduled end"  # not a phrase: as it is
    assert accusation("Armenia", "Azerbaijan", "shelling", "Tartar", killed=2, wounded=1) == (
        "Armenia accuses Azerbaijan · shelling · Tartar · killed 2, wounded 1")
    assert accusation("Armenia", "", place="Tartar") == "Accusation by Armenia · Tartar"
    assert accusation("", "", "shelling") == "shelling"


def test_every_phrase_and_time_goes_through_the_words_given() -> None:
    words = Marked()
    state = in_force()
    assert phase_word("violated", words) == "«in force, violated»"
    assert phase_word("unheard-of", words) == "unheard-of"
    assert span_text(state, words=words) == " «since 2023-09-20Z» «until 2023-09-23Z»"
    assert span_text(state, zone=False, words=words) == " «since 2023-09-20» «until 2023-09-23»"
    assert phase_text(in_force(until=None), T0 + 9 * DAY, words) == (
        "«9:«in force» (no report for 9 days)»")
    assert cause_text("call", words) == "«call for a truce»"
    assert accusation("A", "B", killed=1, words=words) == "«A accuses B» · «1:killed 1»"
    assert accusation("A", "", words=words) == "«Accusation by A»"
    ended = TruceState(region="r", phase="ended", transitions=[])
    assert span_text(ended, words=words) == ""  # no transition into it: no time to give
