"""Item blocks: found exactly where feedparser finds entries, or not at all (then parse all)."""

from __future__ import annotations

import gzip
import io
from datetime import UTC, datetime
from pathlib import Path

import feedparser

from tests.workers.poller.helpers import rss_with
from workers.poller.items import new_items_document, split_items
from workers.poller.parse import FeedInfo, parse_feed


def test_blocks_match_feedparser_entries_on_every_shared_file(shared_dir: Path) -> None:
    split = 0
    for path in sorted((shared_dir / "feeds").iterdir()):
        if path.suffix == ".md":
            continue
        body = path.read_bytes()
        if path.suffix == ".gz":
            body = gzip.decompress(body)
        blocks = split_items(body)
        if blocks is None:
            continue  # fine: the poller parses the whole body
        entries = feedparser.parse(io.BytesIO(body), sanitize_html=False).entries
        assert len(blocks.hashes) == len(entries), path.name
        split += 1
    assert split >= 40


def test_new_items_document_holds_head_new_items_and_tail() -> None:
    old = rss_with([("1", "One"), ("2", "Two")])
    new = rss_with([("3", "Three"), ("1", "One"), ("2", "Two")])
    known = set(split_items(old).hashes)  # type: ignore[union-attr]
    blocks = split_items(new)
    assert blocks is not None and len(blocks.hashes) == 3
    doc = new_items_document(new, blocks, known)
    assert doc is not None and doc.count(b"<item>") == 1
    out = parse_feed(doc, {}, FeedInfo("f", "F"), "http://x/", datetime.now(UTC))
    assert [a.title for a in out.articles] == ["Three"] and out.title == "Test feed"
    assert new_items_document(old, split_items(old), known) is None  # type: ignore[arg-type]


def test_doubtful_bodies_are_not_split() -> None:
    nested = b"<rss><channel><item><title>a</title><item>b</item></item></channel></rss>"
    unclosed = b"<rss><channel><item><title>a</title></channel></rss>"
    utf16 = "<rss><channel><item><title>a</title></item></channel></rss>".encode("utf-16")
    for body in (nested, unclosed, utf16, b"<html><body>no feed</body></html>"):
        assert split_items(body) is None
    assert split_items(b"<rss><channel><items/><item><title>x</title></item></channel></rss>")
