"""The stream registry is what the README documents, and every name stays under its rules."""

from __future__ import annotations

import re
from pathlib import Path

from core import keys

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_streams_table_matches_the_registry() -> None:
    text = README.read_text(encoding="utf-8")
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `([^`]+)` \|.*$", text, re.M)}
    for spec in keys.STREAMS:
        row = rows.get(spec.name)
        assert row is not None, f"README lists no row for stream {spec.name}"
        assert f"`{spec.model.__name__}`" in row, row
        assert f"`{spec.group}` ({spec.role})" in row, row
        assert f"`{spec.dead}`" in row, row


def test_every_key_but_the_streams_is_under_the_one_prefix() -> None:
    made = [
        keys.HEARTBEATS, keys.REPLICA_PROBE, keys.SCHEMA, keys.SCHEMA_LOCK,
        keys.consumer_lease("h", "poller", 0), keys.RUNTIME_FEEDS, keys.FEEDS_VERSION,
        keys.feed_state("f"), keys.SEEN_PREFIX, keys.LEASE_PREFIX, keys.STORY_PREFIX,
        keys.classified("a"), keys.SUBS, keys.SUBS_ACTIVE, keys.SUBS_DEACTIVATED,
        keys.DIGEST_CHATS, keys.region_subscribers("r"), keys.LATEST, keys.story_items("s"),
        keys.story_messages("s"), keys.sent("a"), keys.fanned("a"), keys.digest_queue(1),
        keys.digest_last(1), keys.daily_counts("r"), keys.console_story("s"),
        keys.console_printed("a"), keys.notice_sent("1-0"), keys.FLOOD_NS,
        keys.TRUCE_REGIONS, keys.TRUCE_BUILT, keys.TRUCE_LIVE, keys.TRUCE_VERSION,
        keys.truce_reports("r"), keys.truce_state("r"),
        keys.ARCHIVE_INDEX, keys.ARCHIVE_BACKFILLED, keys.archive_story("s"),
        keys.escalation_stories("r"), keys.escalation_story("s"), keys.escalation_last("r"),
        keys.escalation_notice("e"),
        keys.FEEDBACK_INDEX, keys.FEEDBACK_TALLY, keys.feedback_votes("s"),
        keys.feedback_item("s"), keys.feedback_ref("d"),
        keys.WEBSUB_FEEDS, keys.websub_subscription("f"), keys.websub_lock("f"),
    ]
    assert all(k.startswith(keys.PREFIX) for k in made), [k for k in made if
                                                          not k.startswith(keys.PREFIX)]
    streams = {s.name for s in keys.STREAMS}
    assert not any(s.startswith(keys.PREFIX) for s in streams)
    assert len(made) == len(set(made))
