"""Plain text of simple markup read by the fast path is exactly what html.parser gives."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest

from workers.poller import plain_text as pt


def _parser_only(value: str, limit: int, monkeypatch: pytest.MonkeyPatch) -> str:
    """plain_text with the fast path off: html.parser reads every fragment."""
    with monkeypatch.context() as patch:
        patch.setattr(pt, "_simple_text", lambda markup, limit: None)
        return pt.plain_text(value, limit)


# Pieces of markup, simple and not, that real summaries are made of.
_PIECES = [
    "<p>", "</p>", "<br>", "<br/>", "<BR />", '<a href="x">', "<a href='y>z'>", "</a>", "<b>",
    "</b>", "<div class=x>", "</div>", '<img src="a.jpg" alt="a > b">', "&amp;", "&lt;", "&gt;",
    "&#39;", "&#x27;", "&nbsp;", "&amp;amp;", "&", "&am", "&#", "<", ">", '"', "'", " ", "\n",
    "\t", "text", "Ünïcödé", "e\u0301", "<!-- c -->", "<script>", "</script>", "<span>",
    "</span>", "<o:p>", "</ o>", "<p", '<a href="x', "<li>", "<ul>", "<table><tr><td>",
    "<strong>", "x" * 50, "<em >", "</em >", "< p>", "<p/>", "<hr/>", "<font color=red>",
    '<time datetime="2020">', "<!DOCTYPE html>", "<![CDATA[x]]>", "<?php ?>", "\x00", "\r\n",
    "<textarea>", "<title>", "</title>", '<a title="<b>">', "&copy;", "&notit;", "&#128512;",
    "&#0;", "\u200b", "\xa0",
]


def _fragments(seed: int, count: int) -> Iterator[tuple[str, int]]:
    rnd = random.Random(seed)
    for _ in range(count):
        pieces = rnd.choices(_PIECES, k=rnd.randint(1, 40))
        yield "".join(pieces), rnd.choice([20, 50, 300])


def test_random_fragments_read_the_same_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = 0
    for markup, limit in _fragments(seed=20261205, count=4000):
        fast += "<" in markup and pt._simple_text(markup, limit) is not None
        assert pt.plain_text(markup, limit) == _parser_only(markup, limit, monkeypatch), markup
    assert fast > 100  # the fast path was taken, not only the fallback


def test_long_simple_markup_stops_at_the_cap_and_reads_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    paragraph = "<p>Shelling &amp; strikes resumed near the <b>line</b> on Tuesday.</p>\n"
    long = paragraph * 2000 + "<script>never reached</script>"
    assert pt._simple_text(long, 300) is not None  # the head was enough: the tail is not read
    assert pt.plain_text(long, 300) == _parser_only(long, 300, monkeypatch)
    assert pt.plain_text(long, 300).startswith("Shelling & strikes resumed near the line")


def test_the_summaries_of_every_shared_feed_read_the_same_both_ways(
    shared_dir: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = [p for p in sorted((shared_dir / "feeds").iterdir()) if p.suffix != ".md"]
    if not files:
        pytest.skip("../shared/feeds is empty")
    values = []
    for path in files:
        parsed = feedparser.parse(path.read_bytes(), sanitize_html=False,
                                  resolve_relative_uris=False)
        for entry in parsed.entries:
            values += [entry.get("title") or "", entry.get("summary") or ""]
            values += [c.get("value") or "" for c in entry.get("content") or []]
    marked_up = [v for v in values if "<" in v]
    assert marked_up
    for value in marked_up:
        for limit in (300, 1500):
            assert pt.plain_text(value, limit) == _parser_only(value, limit, monkeypatch)
