"""Every real feed file in ../shared/feeds, served over HTTP: parsed right, or failing alone."""

from __future__ import annotations

import asyncio
import gzip
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urljoin

import pytest
from redis.asyncio import Redis
from yarl import URL

from core.keys import ARTICLES
from core.models import Article
from testkit.feeds import FeedServer
from tests.workers.poller.helpers import feed_for, limits, make_poller, queued_articles
from tests.workers.poller.oracle import expected_items
from workers.classifier.scripts import script_of
from workers.poller.fetch import Fetcher
from workers.poller.normalise import EARLIEST, TITLE_MAX
from workers.poller.parse import FeedInfo, ParseOutcome, parse_feed


def _feed_files(shared: Path) -> list[Path]:
    files = sorted(p for p in (shared / "feeds").iterdir() if p.name != "README.md")
    if not files:
        pytest.skip("../shared/feeds is empty")
    return files


def _plain_bytes(path: Path) -> bytes:
    raw = path.read_bytes()
    return gzip.decompress(raw) if path.suffix == ".gz" else raw


def _wellformed(body: bytes) -> bool:
    try:
        ET.fromstring(body)
    except ET.ParseError:
        return False
    return True


async def _fetch_and_parse(server: FeedServer, files: list[Path]) -> dict[str, ParseOutcome]:
    out: dict[str, ParseOutcome] = {}
    fetched = datetime.now(UTC)
    async with Fetcher(limits(fetch_timeout_s=10)) as fetcher:
        for path in files:
            res = await fetcher.fetch(server.url(f"/f/{path.name}"), trusted=True)
            assert res.status == 200
            info = FeedInfo(path.stem[:60], path.name)
            out[path.name] = await asyncio.to_thread(
                parse_feed, res.body, res.headers, info, res.url, fetched
            )
    return out


async def test_every_shared_feed_parses_right_or_fails_clearly(shared_dir: Path) -> None:
    files = _feed_files(shared_dir)
    async with FeedServer(shared_dir / "feeds") as server:
        outcomes = await _fetch_and_parse(server, files)
    now = datetime.now(UTC)
    checked_news = 0
    for path in files:
        outcome = outcomes[path.name]
        body = _plain_bytes(path)
        if not _wellformed(body):
            # Broken: whatever can be recovered, or one clear error for this feed.
            # (ElementTree cannot read UTF-32; feedparser can, and finds a valid empty feed.)
            assert outcome.articles or outcome.error_kind in ("parse", "not_a_feed") or (
                outcome.bozo is None and outcome.version), path.name
            if outcome.error_kind:
                assert outcome.error and len(outcome.error) > 10
            continue
        assert outcome.error_kind is None or not expected_items(body), (path.name, outcome.error)
        if not path.name.startswith("news_"):
            continue
        expected = expected_items(body)
        got = outcome.articles
        assert len(got) == len(expected), (path.name, len(got), len(expected))
        checked_news += 1
        for want, art in zip(expected, got, strict=True):
            assert art.title == want.title[:TITLE_MAX] or art.title.rstrip("…") in want.title, (
                path.name, art.title, want.title)
            link = URL(urljoin(server.url("/"), want.link.strip()))
            ours = URL(art.url)
            assert ours.path == link.path, (path.name, art.url, want.link)
            if URL(want.link.strip()).is_absolute():  # relative: we join the site's link
                assert ours.host == (link.host or "").lower(), (path.name, art.url, want.link)
            if want.date is not None and EARLIEST <= want.date <= now:
                assert art.published == want.date, (path.name, art.published, want.date)
            assert art.published.tzinfo is not None
            assert art.published <= now + timedelta(minutes=10)
    assert checked_news >= 20


async def test_charsets_are_decoded_right(shared_dir: Path) -> None:
    names = ["news_oren_ru_windows-1251_2014-01-23.xml", "news_oren_ru_windows-1251.xml.gz",
             "news_jn_pt_iso-8859-1_2018-01-03.rss",
             "news_uol_noticias_no-xml-decl_latin1_2018-09.rss", "odd_utf-16le-bom.xml"]
    files = [shared_dir / "feeds" / n for n in names]
    if not all(f.exists() for f in files):
        pytest.skip("expected charset test files not in ../shared/feeds")
    async with FeedServer(shared_dir / "feeds") as server:
        out = await _fetch_and_parse(server, files)

    def titles(name: str) -> list[str]:
        return [a.title for a in out[name].articles]

    for name in names[:2]:
        assert titles(name)[0].startswith("В Бузулуке главные стройплощадки – детсад")
        assert out[name].title.startswith("Новости Оренбурга")
        # No declared language (the classifier decides it): the decoded text reads Cyrillic.
        assert all(script_of(a.title) == "cyrillic" for a in out[name].articles)
    assert "Mãe de utente é a nova presidente da Raríssimas" in titles(names[2])
    assert titles(names[3])[0] == (
        "Ibope: Bolsonaro perde de Haddad, Ciro e Alckmin em simulações de 2º turno")
    # Localised RFC 822 date ("Seg, 24 Set 2018 19:42:40 -0300") read, not replaced.
    assert out[names[3]].articles[0].published == datetime(2018, 9, 24, 22, 42, 40, tzinfo=UTC)
    assert out[names[4]].error_kind is None and out[names[4]].version == "rss"


async def test_poller_over_all_feeds_then_304(shared_dir: Path, redis: Redis) -> None:
    files = _feed_files(shared_dir)
    async with FeedServer(shared_dir / "feeds") as server:
        feeds = [feed_for(p.name, server.url(f"/f/{p.name}")) for p in files]
        async with make_poller(redis, feeds) as poller:
            first = await asyncio.gather(*(poller.poll(f) for f in feeds))
            queued = await queued_articles(redis)
            second = await asyncio.gather(*(poller.poll(f) for f in feeds))
            third = await asyncio.gather(*(poller.poll(f) for f in feeds))
        assert await redis.xlen(ARTICLES) == len(queued)
    by_name = dict(zip((p.name for p in files), first, strict=True))
    errors = {n: r.error_kind for n, r in by_name.items() if r.outcome == "error"}
    # Only broken files fail, each with its own clear kind; every news feed succeeds.
    assert all(not n.startswith("news_") or "INVALID" in n for n in errors), errors
    assert set(errors.values()) <= {"parse", "not_a_feed"}
    assert len(errors) <= 8
    assert sum(r.queued for r in first) == len(queued) > 900
    assert len({a.id for a in queued}) == len(queued)  # each id queued once
    assert all(isinstance(a, Article) and a.title and a.url for a in queued)
    # The gzip copy of the oren feed carries the same stories: deduped, not queued twice.
    assert by_name["news_oren_ru_windows-1251.xml.gz"].parsed == 10
    oren = [a for a in queued if "oren.ru" in a.url]
    assert len(oren) == 10
    # Second poll: ETag unchanged -> 304 and nothing queued. A feed that shared stories with
    # another feed polled at the same moment saw them claimed but unconfirmed, so it kept no
    # validators and fetches in full once more (finding nothing new); by the third poll,
    # every feed that succeeded gets a 304.
    names = [p.name for p in files]
    for name, again, last in zip(names, second, third, strict=True):
        if by_name[name].outcome == "error":
            continue
        assert again.queued == 0 and again.outcome in ("not_modified", "unchanged"), name
        if by_name[name].unconfirmed == 0:
            assert again.outcome == "not_modified", (name, again)
        assert last.outcome == "not_modified", (name, last)
