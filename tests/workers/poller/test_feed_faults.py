"""Feed faults from black-box testing (issue 11, items 1-3 and 5): each stays with its item."""

from __future__ import annotations

import io
import logging
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

import feedparser
import pytest
from redis.asyncio import Redis

from core.keys import ARTICLES
from core.status_page import render_status
from testkit.feeds import FeedServer
from tests.workers.poller.helpers import feed_for, make_poller, queued_articles, tuning
from workers.poller import cycle as cycle_module
from workers.poller import fastparse, normalise
from workers.poller import parse as parse_module
from workers.poller.parse import MAX_ENTRIES, FeedInfo, parse_feed
from workers.poller.prepare import first_entries, prepare_body
from workers.poller.state import load_state

FETCHED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def rss(items: str, head: str = "") -> bytes:
    """Return an RSS 2.0 document around raw ``items`` markup."""
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Faults</title><link>https://news.example.org/</link>{head}{items}"
        "</channel></rss>"
    ).encode()


def item(title: str, link: str = "", guid: str = "", extra: str = "") -> str:
    """Return one <item> (link and guid only when given)."""
    parts = [f"<title>{title}</title>"]
    if link:
        parts.append(f"<link>{link}</link>")
    if guid:
        parts.append(f'<guid isPermaLink="false">{guid}</guid>')
    return "<item>" + "".join(parts) + extra + "</item>"


# -- item 1: a bad item stays a bad item; a failing poll counts against its feed ----------------


async def test_unparsable_links_cost_only_their_own_url(redis: Redis) -> None:
    bad = ["http://xn--/a", "http://[::1/b", "http://[fe80::1%25eth0]/c"]
    items = [item("Good one", "https://news.example.org/1")]
    items += [item(f"Bad {i}", link, f"urn:bad:{i}") for i, link in enumerate(bad)]
    items += [item("Good two", "https://news.example.org/2")]
    async with FeedServer() as server:
        server.dynamic["f"] = rss("".join(items))
        feed = feed_for("links", server.url("/dyn/f"))
        async with make_poller(redis, [feed]) as poller:
            report = await poller.poll(feed)
    assert (report.outcome, report.queued, report.skipped) == ("new", 5, 0)
    urls = {a.title: a.url for a in await queued_articles(redis)}
    assert urls == {"Good one": "https://news.example.org/1", "Bad 0": "", "Bad 1": "",
                    "Bad 2": "", "Good two": "https://news.example.org/2"}
    assert (await load_state(redis, "links")).error_streak == 0


async def test_an_entry_that_fails_is_counted_logged_once_and_the_rest_kept(
    redis: Redis, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real = normalise.sane_published

    def fragile(parsed: Any, raw: str | None, fetched: datetime) -> datetime:
        if raw == "boom":
            raise RuntimeError("an entry-specific bug")
        return real(parsed, raw, fetched)

    monkeypatch.setattr(parse_module, "sane_published", fragile)
    boom = "<pubDate>boom</pubDate>"
    items = [item("Fine one", "https://n.example/1"), item("Broken", "https://n.example/2", "",
             boom), item("Broken too", "https://n.example/3", "", boom),
             item("Fine two", "https://n.example/4")]
    async with FeedServer() as server:
        server.dynamic["f"] = rss("".join(items))
        feed = feed_for("fragile", server.url("/dyn/f"))
        with caplog.at_level(logging.WARNING, logger="workers.poller"):
            async with make_poller(redis, [feed]) as poller:
                report = await poller.poll(feed)
    assert (report.outcome, report.queued, report.skipped) == ("new", 2, 2)
    assert {a.title for a in await queued_articles(redis)} == {"Fine one", "Fine two"}
    records = [r for r in caplog.records if "left out" in r.msg]
    assert len(records) == 1  # once per poll, not per entry
    assert records[0].args and "%d" in records[0].msg  # lazy arguments, not an f-string
    assert "an entry-specific bug" in records[0].getMessage()


async def test_a_poll_that_crashes_counts_deactivates_and_shows_on_status(
    redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("something this feed provokes")

    monkeypatch.setattr(cycle_module, "process_body", crash)
    async with FeedServer() as server:
        server.dynamic["f"] = rss(item("Any", "https://n.example/1"))
        feed = feed_for("crashy", server.url("/dyn/f"))
        settings = tuning(deactivate_after=3)
        async with make_poller(redis, [feed], settings=settings) as poller:
            streaks = []
            for _ in range(3):
                report = await poller.poll(feed)
                assert (report.outcome, report.error_kind) == ("error", "crash")
                streaks.append((await load_state(redis, "crashy")).error_streak)
    assert streaks == [1, 2, 3]
    state = await load_state(redis, "crashy")
    assert state.deactivated == 1 and "something this feed provokes" in state.last_error
    page = await render_status(redis, {})
    row = page.split("<td>crashy</td>", 1)[1].split("</tr>", 1)[0]
    assert "deactivated" in row and "something this feed provokes" in row


async def test_a_fetch_that_crashes_counts_against_a_feed_polled_from_memory(
    redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with FeedServer() as server:
        server.dynamic["f"] = rss(item("Any", "https://n.example/1"))
        feed = feed_for("crashy", server.url("/dyn/f"))
        async with make_poller(redis, [feed]) as poller:
            assert [(await poller.poll(feed)).outcome for _ in range(2)] == ["new", "not_modified"]

            async def crash(*args: object, **kwargs: object) -> None:
                raise RuntimeError("something this feed provokes")

            monkeypatch.setattr(poller.fetcher, "fetch", crash)
            reports = [await poller.poll(feed) for _ in range(2)]
    assert [(r.outcome, r.error_kind) for r in reports] == [("error", "crash")] * 2
    assert (await load_state(redis, "crashy")).error_streak == 2


# -- item 2: only http(s) URLs become article URLs -----------------------------------------------


async def test_only_http_urls_become_article_urls(redis: Redis) -> None:
    atom = (
        b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        b"<title>Atom</title><id>urn:f</id><updated>2024-01-01T00:00:00Z</updated>"
        b"<entry><title>Second link</title><id>urn:e:1</id>"
        b'<link rel="alternate" href="javascript:alert(1)"/>'
        b'<link rel="enclosure" href="https://cdn.example/a.mp3"/>'
        b'<link rel="alternate" type="text/html" href="https://news.example.org/alt"/></entry>'
        b"<entry><title>Enclosure only</title><id>urn:e:2</id>"
        b'<link rel="alternate" href="data:text/html,hi"/>'
        b'<link rel="enclosure" href="https://cdn.example/b.mp3"/></entry>'
        b"</feed>"
    )
    items = [
        item("Script", "javascript:alert(document.cookie)", "urn:uuid:1"),
        item("Data", "data:text/html;base64,PHNjcmlwdD4=", "https://news.example.org/by-guid"),
        item("VB", "vbscript:msgbox(1)", "vbscript:msgbox(2)"),
        item("File", "file:///etc/passwd", "tag:example.org,2024:5"),
        item("Relative", "/story/6", "urn:uuid:6"),
    ]
    async with FeedServer() as server:
        server.dynamic["rss"] = rss("".join(items))
        server.dynamic["atom"] = atom
        feeds = [feed_for("rss", server.url("/dyn/rss")), feed_for("atom", server.url("/dyn/atom"))]
        async with make_poller(redis, feeds) as poller:
            for feed in feeds:
                assert (await poller.poll(feed)).outcome == "new"
    urls = {a.title: a.url for a in await queued_articles(redis)}
    assert urls == {
        "Script": "", "Data": "https://news.example.org/by-guid", "VB": "", "File": "",
        "Relative": "https://news.example.org/story/6",
        "Second link": "https://news.example.org/alt", "Enclosure only": "",
    }


# -- item 3: parse work is bounded by the entry cap, before feedparser --------------------------


def huge_rss(n: int) -> bytes:
    """Return an RSS document of ``n`` short entries (~60 bytes each)."""
    items = b"".join(b"<item><title>E%d</title><link>https://h.example/%d</link></item>" % (i, i)
                     for i in range(n))
    return (b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            b"<title>Huge</title><link>https://h.example/</link>" + items +
            b"</channel></rss>")


async def test_a_100k_entry_feed_is_cut_to_the_cap_before_feedparser(
    redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bytes] = []
    real: Callable[..., Any] = feedparser.parse

    def spy(stream: io.BytesIO, **kwargs: Any) -> Any:
        seen.append(stream.getvalue())
        return real(stream, **kwargs)

    monkeypatch.setattr(feedparser, "parse", spy)
    real_fast = fastparse.fast_parse

    def fast_spy(body: bytes, headers: Any) -> Any:  # the lxml fast path reads it first
        seen.append(body)
        return real_fast(body, headers)

    monkeypatch.setattr(parse_module, "fast_parse", fast_spy)
    body = huge_rss(100_000)
    assert len(body) < 8 * 1024 * 1024  # within the body cap: only the entry cap bounds it
    async with FeedServer() as server:
        server.dynamic["huge"] = body
        feed = feed_for("huge", server.url("/dyn/huge"))
        async with make_poller(redis, [feed]) as poller:
            report = await poller.poll(feed)
    assert (report.outcome, report.parsed, report.queued) == ("new", MAX_ENTRIES, MAX_ENTRIES)
    assert len(seen) == 1
    fed = seen[0]
    assert fed.count(b"<item>") == MAX_ENTRIES
    assert len(fed) < len(body) // 150  # ~33 KB of ~6.6 MB
    assert fed.endswith(b"</channel></rss>")
    assert await redis.xlen(ARTICLES) == MAX_ENTRIES
    print(f"feedparser saw {len(fed):,} of {len(body):,} bytes")


@pytest.mark.parametrize("kind", ["rss", "atom", "rdf", "utf-16"])
def test_cut_documents_stay_well_formed(kind: str) -> None:
    n = MAX_ENTRIES + 50
    if kind == "atom":
        body = ('<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>'
                + "".join(f"<entry><title>E{i}</title><id>urn:{i}</id></entry>" for i in range(n))
                + "</feed>").encode()
    elif kind == "rdf":
        body = ('<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax'
                '-ns#" xmlns="http://purl.org/rss/1.0/"><channel rdf:about="x"><title>R</title>'
                "<items><rdf:Seq/></items></channel><!-- <item> in a comment -->"
                + "".join(f'<item rdf:about="https://r.example/{i}"><title>E{i}</title>'
                          f"<link>https://r.example/{i}</link></item>" for i in range(n))
                + "</rdf:RDF>").encode()
    else:
        body = huge_rss(n)
    headers: dict[str, str] = {}
    if kind == "utf-16":
        body = body.decode().replace('encoding="utf-8"', 'encoding="utf-16"').encode("utf-16")
    prepared = prepare_body(body, headers, MAX_ENTRIES)
    assert prepared.truncated
    if kind != "utf-16":
        ET.fromstring(prepared.body)  # well-formed: feedparser's strict parser takes it
    out = parse_feed(body, headers, FeedInfo("f", "F"), "https://x.example/", FETCHED)
    assert out.error is None and out.bozo is None, out.error or out.bozo
    assert len(out.articles) == MAX_ENTRIES and out.truncated
    assert out.articles[-1].title == f"E{MAX_ENTRIES - 1}"
    assert first_entries(prepared.body, MAX_ENTRIES) is None  # nothing left to cut


# -- item 5: the smaller faults -------------------------------------------------------------------


async def test_stray_byte_keeps_utf8_and_surrogate_ref_keeps_the_other_items(
    redis: Redis,
) -> None:
    stray = rss(item("Перемир’я тримається", "https://u.example/1")
                + item("Обстріл \xff тут", "https://u.example/2")
                + item("Київ", "https://u.example/3")).replace("\xff".encode(), b"\xff")
    assert b"\xff" in stray and b"\xc3\xbf" not in stray
    surrogate = rss(item("Lone &#xD800; ref", "https://s.example/1")
                    + item("Decimal &#56320; ref", "https://s.example/2")
                    + item("Beyond &#x110000; ref", "https://s.example/3")
                    + item("Fine", "https://s.example/4"))
    async with FeedServer() as server:
        server.dynamic["stray"] = stray
        server.dynamic["surrogate"] = surrogate
        feeds = [feed_for("stray", server.url("/dyn/stray")),
                 feed_for("surrogate", server.url("/dyn/surrogate"))]
        async with make_poller(redis, feeds) as poller:
            reports = [await poller.poll(f) for f in feeds]
    assert [(r.outcome, r.queued) for r in reports] == [("new", 3), ("new", 4)]
    titles = {a.url: a.title for a in await queued_articles(redis)}
    assert titles["https://u.example/1"] == "Перемир’я тримається"
    assert titles["https://u.example/2"] == "Обстріл \ufffd тут"
    assert titles["https://u.example/3"] == "Київ"
    assert titles["https://s.example/1"] == "Lone \ufffd ref"
    assert titles["https://s.example/2"] == "Decimal \ufffd ref"
    assert titles["https://s.example/4"] == "Fine"


def test_mislabelled_latin1_is_still_left_to_feedparsers_fallback() -> None:
    body = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>L</title>'
            "<item><title>Cessez-le-feu rompu à l'aube, dit l'armée</title>"
            "<link>https://l.example/1</link></item></channel></rss>").encode("windows-1252")
    out = parse_feed(body, {}, FeedInfo("f", "F"), "https://l.example/", FETCHED)
    assert out.articles[0].title == "Cessez-le-feu rompu à l'aube, dit l'armée"


async def test_overlong_link_is_dropped_not_queued(redis: Redis) -> None:
    huge = "https://big.example/" + "a" * (7 * 1000 * 1000)
    long_guid = "https://big.example/" + "g" * 5000  # overlong too, if not 7 MB
    body = rss(item("Huge link", huge, "urn:big:1") + item("Huge guid", "", long_guid)
               + item("Normal", "https://big.example/ok"))
    async with FeedServer() as server:
        server.dynamic["big"] = body
        feed = feed_for("big", server.url("/dyn/big"))
        async with make_poller(redis, [feed]) as poller:
            report = await poller.poll(feed)
    assert (report.outcome, report.queued) == ("new", 3)
    urls = {a.title: a.url for a in await queued_articles(redis)}
    assert urls == {"Huge link": "", "Huge guid": "", "Normal": "https://big.example/ok"}
    entries = cast(list[tuple[str, dict[str, str]]], await redis.xrange(ARTICLES))
    assert max(len(fields["data"]) for _, fields in entries) < 4096


async def test_live_blog_posts_with_own_guids_stay_apart(redis: Redis) -> None:
    page = "https://live.example/ceasefire-live"
    body = rss(
        item("08:00 Shelling resumes", f"{page}#post-1", "live-post-1")
        + item("08:05 Army denies", f"{page}#post-2", "live-post-2")
        + item("08:10 Talks", f"{page}?utm_source=rss#post-3", f"{page}#post-3")
        # The same page under noise fragments, with the page as its guid: one article.
        + item("Ceasefire live", f"{page}#comments", page)
        + item("Ceasefire live (again)", f"{page}#ref=rss", "urn:p:9")
    )
    async with FeedServer() as server:
        server.dynamic["live"] = body
        feed = feed_for("live", server.url("/dyn/live"))
        async with make_poller(redis, [feed]) as poller:
            report = await poller.poll(feed)
    assert report.parsed == 5 and report.queued == 4
    urls = sorted(a.url for a in await queued_articles(redis))
    assert urls == [page, f"{page}#post-1", f"{page}#post-2", f"{page}#post-3"]


def test_ill_formed_comments_leave_no_debris_in_titles() -> None:
    titles = [
        "<!-->Truce holds", "<!--->Truce holds", "<!-- note --!>Truce holds",
        "<![CDATA[x]]><!-- a -- b -->Truce holds", "Truce holds<!-- never closed",
        "&lt;!-- escaped --&gt;Truce holds",
    ]
    items = "".join(item(f"<![CDATA[{t}]]>" if "CDATA" not in t else t.replace(
        "<![CDATA[x]]>", ""), f"https://c.example/{i}") for i, t in enumerate(titles))
    out = parse_feed(rss(items), {}, FeedInfo("f", "F"), "https://c.example/", FETCHED)
    assert [a.title for a in out.articles] == ["Truce holds"] * len(titles)


def test_url_and_byte_helpers_on_their_edges() -> None:
    from workers.poller.normalise import MAX_URL_CHARS, canonical_url, item_fragment
    from workers.poller.prepare import neutralise_charrefs, repair_utf8

    for bad in ("http://xn--/a", "http://[::1/b", "http://[fe80::1%25eth0]/c", "http://:80/",
                "javascript:alert(1)", " data:text/html,x", "vbscript:x", "file:///etc/passwd",
                "mailto:a@b.example", "//", ""):
        assert canonical_url(bad, "https://base.example/") in ("", "https://base.example/"), bad
    edge = "https://e.example/" + "a" * (MAX_URL_CHARS - len("https://e.example/"))
    assert canonical_url(edge) == edge and canonical_url(edge + "a") == ""
    assert canonical_url("https://e.example/p?utm_source=x#post-1", keep_fragment=True) == (
        "https://e.example/p#post-1")
    assert item_fragment("https://e.example/live#post-1", "post-1") == "post-1"
    assert item_fragment("https://e.example/live#post-1", "") == ""  # no guid: no evidence
    assert item_fragment("https://e.example/live#post-1", "https://e.example/live") == ""
    assert item_fragment("https://e.example/live#xtor=RSS-1", "g") == ""
    assert item_fragment("https://e.example/live#more-123", "g") == ""

    fixed, count = neutralise_charrefs(b"a&#xD800;b&#xdfff;c&#55296;d&#x10FFFF;e&#x0000110000;"
                                       b"f&#99999999999999999999;g&#8217;")
    assert count == 5
    assert fixed == (b"a&#xFFFD;b&#xFFFD;c&#xFFFD;d&#x10FFFF;e&#xFFFD;f&#xFFFD;g&#8217;")
    latin = b'<?xml version="1.0" encoding="iso-8859-1"?><rss>\xe9\xff</rss>'
    assert repair_utf8(latin, {}) == (latin, 0)  # declared otherwise: not ours to touch
    assert repair_utf8(b"<rss>\xd0\x9a\xd0\xb8\xff</rss>", {"content-type": "text/xml"}) == (
        "<rss>Ки\ufffd</rss>".encode(), 1)


def test_a_raw_control_byte_no_longer_costs_the_strict_parse() -> None:
    """A stray BEL in one description made the feed ill-formed XML: blanked, it parses strictly."""
    from workers.poller.prepare import blank_controls

    body = rss(item("Shelling\x07 resumes", "https://c.example/1", extra="<description>a\x01b"
                    "\x1b$B</description>") + item("Truce holds", "https://c.example/2"))
    out = parse_feed(body, {}, FeedInfo("f", "F"), "https://c.example/", FETCHED)
    assert out.bozo is None and out.fast  # well-formed now: the lxml path took it
    assert [a.title for a in out.articles] == ["Shelling resumes", "Truce holds"]
    assert out.articles[0].summary == "a b $B"
    assert blank_controls(b"a\tb\nc\rd\x00e\x1ff\x1bg") == (b"a\tb\nc\rd e f g", 3)
    # ESC starts ISO-2022's shift sequences: kept where the document declares one.
    assert blank_controls(b"\x1b$B0\x07", "iso-2022-jp") == (b"\x1b$B0 ", 1)
    clean = b"<rss>clean</rss>"
    assert blank_controls(clean)[0] is clean  # the usual case copies nothing
