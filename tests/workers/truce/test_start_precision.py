"""A start named by its day only is marked so; an hour written later in the text completes it.

Published: Wednesday 6 March 2024, 09:00 UTC; Khartoum is UTC+2 (tests/workers/truce/helpers.py).
"""

from __future__ import annotations

from tests.workers.truce.conftest import Extract
from tests.workers.truce.helpers import utc

SUDAN = ("sudan",)


def test_a_day_without_its_hour_is_marked_as_such(extract: Extract) -> None:
    ev = extract("Sudan's rivals agree to a seven-day ceasefire starting Monday", regions=SUDAN)
    assert ev.kind == "agreed"
    assert ev.starts == utc(2024, 3, 10, 22) and ev.starts_day_only  # Monday 00:00 local


def test_an_hour_in_a_later_sentence_completes_the_day(extract: Extract) -> None:
    ev = extract(
        "Sudan ceasefire to take effect",
        "The week-long ceasefire is due to come into effect on Monday evening. Mediators said "
        "it would come into force at 9.45pm.",
        regions=SUDAN,
    )
    assert ev.starts == utc(2024, 3, 11, 19, 45) and not ev.starts_day_only


def test_a_suffix_written_onto_the_minutes_is_read(extract: Extract) -> None:
    # The hour in UTC (Khartoum is UTC+2): 21:45, 12:30 and 00:15 local.
    for text, hour, minute in (("9.45pm", 19, 45), ("12.30pm", 10, 30), ("12.15am", 22, 15)):
        ev = extract(f"The truce takes effect at {text} on Monday", regions=SUDAN)
        assert ev.starts is not None and not ev.starts_day_only, text
        assert (ev.starts.hour, ev.starts.minute) == (hour, minute), text
