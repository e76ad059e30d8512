"""The lxml fast path gives exactly the feedparser path's outcome, or declines to feedparser."""

from __future__ import annotations

import gzip
import random
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest

from testkit.feedgen import Generator
from testkit.feeds import FeedItem, content_type_for, rss
from workers.poller.fastparse import decline_reason, fast_parse
from workers.poller.items import new_items_document, split_items
from workers.poller.parse import MAX_ENTRIES, FeedInfo, ParseOutcome, parse_feed
from workers.poller.prepare import cap_entries

FETCHED = datetime(2026, 12, 1, tzinfo=UTC)  # later than every date in the files
INFO = FeedInfo("f1", "Feed One")
URL = "https://feeds.example/rss"


def _both(body: bytes, headers: Mapping[str, str]) -> tuple[ParseOutcome, ParseOutcome]:
    """Return (fast path, feedparser) outcomes of ``body``, after checking they agree."""
    fast = parse_feed(body, headers, INFO, URL, FETCHED)
    slow = parse_feed(body, headers, INFO, URL, FETCHED, fast=False)
    assert not slow.fast
    assert fast.articles == slow.articles
    for name in ("version", "bozo", "error_kind", "error", "ttl_s", "entry_times", "title",
                 "truncated", "skipped"):
        assert getattr(fast, name) == getattr(slow, name), name
    return fast, slow


def _feed_files(shared: Path) -> list[Path]:
    folder = shared / "feeds"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found: the test needs the shared feed files")
    return sorted(p for p in folder.iterdir() if p.name != "README.md")


def test_every_shared_feed_parses_the_same_either_way(shared_dir: Path) -> None:
    taken: list[str] = []
    files = _feed_files(shared_dir)
    for path in files:
        raw = path.read_bytes()
        body = gzip.decompress(raw) if path.suffix == ".gz" else raw
        for headers in ({"Content-Type": content_type_for(path.name, body)}, {}):
            fast, _ = _both(body, headers)
            if fast.fast:
                taken.append(path.name)
        # What the poller parses when some items are new: the head, those items, the tail.
        blocks = split_items(cap_entries(body, MAX_ENTRIES) or body)
        if blocks is not None and len(blocks.hashes) > 1:
            document = new_items_document(body, blocks, set(blocks.hashes[::2]))
            assert document is not None
            _both(document, {"Content-Type": content_type_for(path.name, body)})
    names = sorted(set(taken))
    print(f"\nfast path taken by {len(names)} of {len(files)} shared feeds: {names}")
    # The well-formed news captures are what the fast path is for (see the README notes).
    for name in ("news_bbc_home_2019-05-08.xml", "news_cnn_world_2020-01-01.xml",
                 "news_guardian_uk_2019-05-08.xml", "news_nyt_world_2020-01-01.xml",
                 "tech_heise_de.atom", "science_rss1.0_rdf.rss"):
        if (shared_dir / "feeds" / name).exists():
            assert name in names, decline_reason((shared_dir / "feeds" / name).read_bytes(), {})


def test_generated_feeds_take_the_fast_path_with_the_same_articles() -> None:
    gen = Generator(feeds=3, zones=2, rng=random.Random(15))
    items = [gen.next()[1] for _ in range(60)]
    odd = FeedItem("g&1", "Tom & Jerry <b>bold</b> \u0093quoted\u0094", "caf\u00c3\u00a9 &amp; co",
                   "/relative/path?a=1&b=2#frag", FETCHED, "fr")
    body = rss("Bench & co", "https://bench.example/", [*items, odd])
    fast, _ = _both(body, {"Content-Type": "application/rss+xml"})
    assert fast.fast
    assert len(fast.articles) == 61


_QUIRKS = {
    # First non-empty title wins; a media:title does not block a later title.
    "titles": """<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"
        xmlns:media="http://search.yahoo.com/mrss/"><channel><title></title>
        <dc:title>Feed</dc:title><link>https://a.example/</link>
        <item><title></title><dc:title>Second</dc:title><link>https://a.example/1</link></item>
        <item><media:title>M</media:title><title>T</title><link>https://a.example/2</link>
        </item><item><title>First</title><dc:title>Not</dc:title><guid>https://a.example/3</guid>
        <media:content url="https://a.example/i.jpg"><media:title>x</media:title></media:content>
        </item></channel></rss>""",
    # Description vs content:encoded in both orders; two descriptions (the second is content).
    "summaries": """<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
        xmlns:media="http://search.yahoo.com/mrss/"><channel><title>F</title>
        <item><title>a</title><content:encoded><![CDATA[<p>Body a</p>]]></content:encoded>
        <description>Sum a</description><guid isPermaLink="false">ga</guid></item>
        <item><title>b</title><description></description>
        <content:encoded>&lt;p&gt;Body b&lt;/p&gt;</content:encoded><link>https://a.example/b</link>
        </item><item><title>c</title><description>one</description><description>two
        </description><link>https://a.example/c</link></item>
        <item><title>d</title><description>dd</description><media:group><media:description>m
        </media:description></media:group><link>https://a.example/d</link></item>
        </channel></rss>""",
    # Guids as links, ids, links with entities, dates twice, languages, ttl and sy.
    "links_dates": """<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"
        xmlns:sy="http://purl.org/rss/1.0/modules/syndication/" xml:lang="de">
        <channel><title>F</title><link>https://a.example/?a=1&amp;b=2</link><ttl>30</ttl>
        <sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency>
        <language>en-GB</language><dc:language>fr</dc:language>
        <item><title>x</title><guid>https://a.example/g?x=1&amp;amp;y=2</guid>
        <link>https://a.example/l?x=1&amp;amp;y=2&amp;z;</link>
        <pubDate>Tue, 10 Jun 2003 04:00:00 GMT</pubDate><pubDate>bogus</pubDate>
        <dc:date>2003-06-11T04:00:00+02:00</dc:date><dc:language>es</dc:language></item>
        <item><title>y</title><guid isPermaLink="False">not-a-link</guid>
        <pubDate>mer, 16 nov 2022 10:00:00 +0100</pubDate></item>
        <item><title>z</title><guid>/relative</guid><enclosure url="https://a.example/e.mp3"
        type="audio/mpeg"/><source url="https://b.example/">B</source></item>
        </channel></rss>""",
    "atom": """<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="it"><title type="html">
        A &amp;lt;b&amp;gt;</title><id>tag:a.example,2024:feed</id>
        <link rel="self" href="https://a.example/atom"/><link href="https://a.example/"/>
        <entry><title>e1</title><id>tag:a.example,2024:1</id>
        <link rel="alternate" type="text/html" href="https://a.example/1"/>
        <link rel="related" href="https://a.example/r"/><updated>2024-01-02T03:04:05Z</updated>
        <summary type="text">S &lt;i&gt;</summary><content type="html">&lt;p&gt;C&lt;/p&gt;
        </content></entry><entry><title>e2</title><id>https://a.example/2</id>
        <published>2024-01-01T00:00:00-05:00</published><content>plain</content></entry>
        </feed>""",
    # Another known namespace under "cc" is harmless while cc's own is not used.
    "rebound_unused": """<rss version="2.0" xmlns:cc="http://purl.org/dc/elements/1.1/">
        <channel><title>F</title><item><title>t</title><cc:title>x</cc:title>
        <link>https://a.example/</link></item></channel></rss>""",
    # Nested descriptions: content while the entry has a summary and no content, else ignored.
    "nested_texts": """<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"
        xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>F</title>
        <item><title>a</title><media:group><media:description>m1</media:description>
        </media:group><description>d1</description><link>https://a.example/1</link></item>
        <item><title>b</title><content:encoded>c2</content:encoded><media:group>
        <media:description>m2</media:description></media:group><description></description>
        <link>https://a.example/2</link></item><item><title>c</title><description></description>
        <media:group><media:description>m3</media:description></media:group>
        <link>https://a.example/3</link></item></channel></rss>""",
    "rdf": """<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
        xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
        <channel rdf:about="https://a.example/"><title>R</title><link>https://a.example/</link>
        </channel><image rdf:about="https://a.example/i.png"><title>I</title><url>u</url></image>
        <item rdf:about="https://a.example/1"><title>one</title><dc:date>2020-02-02</dc:date>
        </item><item rdf:about="urn:x:2"><title>two</title><description>d</description></item>
        </rdf:RDF>""",
}
_DECLINED = {
    "xhtml": """<feed xmlns="http://www.w3.org/2005/Atom"><title>F</title><entry><title>t
        </title><id>tag:1</id><content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">
        <p>x</p></div></content></entry></feed>""",
    "base": """<rss version="2.0" xml:base="https://b.example/x/"><channel><title>F</title>
        <item><title>t</title><link>rel</link></item></channel></rss>""",
    # Attribute names are case-blind to feedparser: BASE is a base too.
    "base_upper_case": """<rss version="2.0"><channel BASE="https://b.example/x/"><title>F
        </title><item><title>t</title><link>rel</link></item></channel></rss>""",
    "markup_in_title": """<rss version="2.0"><channel><title>F</title><item>
        <title>a <b>bold</b> move</title><link>https://a.example/</link></item></channel></rss>""",
    "base64": """<feed xmlns="http://www.w3.org/2005/Atom"><title>F</title><entry><title>t
        </title><id>tag:1</id><content type="text" mode="base64">aGVsbG8=</content></entry>
        </feed>""",
    "entities": """<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY n "news">]><rss version="2.0">
        <channel><title>&n;</title><item><title>&n;</title><link>https://a.example/</link>
        </item></channel></rss>""",
    # feedparser names content's elements "content:", which this document gives to dc.
    "rebound_prefix": """<rss version="2.0" xmlns:content="http://purl.org/dc/elements/1.1/"
        xmlns:c="http://purl.org/rss/1.0/modules/content/"><channel><title>F</title>
        <item><title>t</title><content:title>x</content:title><c:encoded>body</c:encoded>
        <link>https://a.example/</link></item></channel></rss>""",
}


@pytest.mark.parametrize("name", sorted(_QUIRKS))
def test_feedparser_quirks_are_mirrored(name: str) -> None:
    fast, _ = _both(_QUIRKS[name].encode(), {"Content-Type": "application/xml"})
    assert fast.fast, decline_reason(_QUIRKS[name].encode(), {})


@pytest.mark.parametrize("name", sorted(_DECLINED))
def test_what_the_fast_path_does_not_mirror_goes_to_feedparser(name: str) -> None:
    body = _DECLINED[name].encode()
    assert decline_reason(body, {})
    fast, _ = _both(body, {"Content-Type": "application/xml"})
    assert not fast.fast


def test_headers_that_change_feedparser_s_reading_are_honoured() -> None:
    body = _QUIRKS["links_dates"].encode()
    # Content-Location is a base for relative links: declined, feedparser resolves them.
    assert fast_parse(body, {"content-location": "https://c.example/"}) is None
    _both(body, {"Content-Location": "https://c.example/feed"})
    # A charset the bytes contradict, and Content-Language, are read as feedparser does.
    latin = "<rss version='2.0'><channel><title>Caf\u00e9</title><item><title>\u00e9t\u00e9"
    latin += "</title><link>https://a.example/</link></item></channel></rss>"
    for headers in ({"Content-Type": "text/xml; charset=utf-8"},
                    {"Content-Type": "text/xml; charset=iso-8859-1", "Content-Language": "pt"},
                    {"Content-Type": "text/html"}):
        _both(latin.encode("iso-8859-1"), headers)


_LAUGHS = b"""<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">
<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
]><rss version="2.0"><channel><title>&e;</title><item><title>&e;</title>
<link>https://a.example/</link></item></channel></rss>"""
_EXTERNAL = b"""<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">
<!ENTITY y SYSTEM "http://127.0.0.1:1/x">]><rss version="2.0"><channel><title>&x;</title>
<item><title>&y;</title><link>https://a.example/</link></item></channel></rss>"""


@pytest.mark.parametrize("body", [
    _LAUGHS, _EXTERNAL,
    b"<?xml version='1.0'?><rss><channel><title>" + bytes(2 * 1024 * 1024),  # the gzip bomb
    b"<rss><channel><title>" + b"x" * (3 * 1024 * 1024),  # the 50 MB body, as cut
    b"<rss version='2.0'><channel><title>t</title><item><title>" + b"y" * (11 * 1024 * 1024)
    + b"</title><link>https://a.example/</link></item></channel></rss>",  # a huge text node
], ids=["billion-laughs", "external-entities", "bomb", "big", "huge-text"])
def test_hostile_bodies_are_declined_and_parse_as_before(body: bytes) -> None:
    assert fast_parse(body, {"content-type": "application/rss+xml"}) is None
    fast, _ = _both(body, {"Content-Type": "application/rss+xml"})
    assert "/etc/passwd" not in repr(fast.articles) and "root:" not in repr(fast.articles)


_ITEM = "<item><title>{}</title><link>https://a.example/</link></item>"
_EDGES = {
    "latin1": ('<?xml version="1.0" encoding="iso-8859-1"?><rss version="2.0"><channel>'
               "<title>F\xe9</title>" + _ITEM.format("\x93t\x94 \xe9") + "</channel></rss>"
               ).encode("latin-1"),
    "cp1252": ('<?xml version="1.0" encoding="windows-1252"?><rss version="2.0"><channel>'
               "<title>F</title>" + _ITEM.format("\u201ct\u201d \u20ac") + "</channel></rss>"
               ).encode("cp1252"),
    "bom_crlf_nel": ("\ufeff<rss version='2.0'><channel><title>F</title>"
                     + _ITEM.format("a\r\nb\rc\x85d\u2028") + "</channel></rss>").encode(),
    "uppercase": (b'<RSS version="2.0"><Channel><Title>F</Title><Item><TITLE>t</TITLE>'
                  b"<Link>https://a.example/</Link><PubDate>Tue, 10 Jun 2003 04:00:00 GMT"
                  b"</PubDate></Item></Channel></RSS>"),
    "attribute_spaces": (b'<feed xmlns="http://www.w3.org/2005/Atom"><title>F</title><entry>'
                         b'<title>t</title><id>i</id><link href=" https://a.example/\n x "'
                         b' rel="ALTERNATE"/></entry></feed>'),
    "pi_in_title": ("<rss version='2.0'><channel><title>F</title>"
                    + _ITEM.format("a<?pi x?>b") + "</channel></rss>").encode(),
    "empty_prefixed_namespace": ("<rss version='2.0' xmlns:foo=''><channel><title>F</title>"
                                 + _ITEM.format("t") + "</channel></rss>").encode(),
    "non_characters": ("<rss version='2.0'><channel><title>F</title>"
                       + _ITEM.format("t\ufffe") + "</channel></rss>").encode(),
}


@pytest.mark.parametrize("name", sorted(_EDGES))
def test_encodings_and_xml_edges_read_the_same(name: str) -> None:
    for headers in ({"Content-Type": "application/rss+xml"}, {"Content-Type": "text/xml"}, {}):
        _both(_EDGES[name], headers)
