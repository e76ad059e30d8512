"""``feeds`` commands: list health from Redis, OPML import/export, check, config errors."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.feeds import FeedConfig, load_feeds
from core.keys import RUNTIME_FEEDS
from core.redis_conn import RedisProcess, make_client
from testkit.feeds import FeedServer
from tests.workers.poller.helpers import rss_with, tuning
from workers.poller.cli import check_feeds, feeds_group
from workers.poller.opml import read_opml, write_opml
from workers.poller.state import FeedState, save_state

FEEDS_YAML = """\
feeds:
  - {id: alpha, url: "https://alpha.example.org/rss", name: Alpha News, language: en,
     region_hints: [ukraine]}
  - {id: beta, url: "https://beta.example.org/atom", name: Beta, interval: 300}
"""


@pytest.fixture
def env(tmp_path: Path, redis_server: RedisProcess, monkeypatch: pytest.MonkeyPatch
        ) -> Iterator[Path]:
    """A config dir with feeds.yaml, and REDIS_URL at the test redis (flushed)."""
    (tmp_path / "feeds.yaml").write_text(FEEDS_YAML, encoding="utf-8")
    monkeypatch.setenv("CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("REDIS_URL", redis_server.url)

    async def flush() -> None:
        client = make_client(redis_server.url)
        await client.flushdb()
        await client.aclose()

    asyncio.run(flush())
    yield tmp_path


def test_list_shows_health_per_feed(env: Path, redis_server: RedisProcess) -> None:
    async def seed() -> None:
        client = make_client(redis_server.url)
        await save_state(client, "alpha", FeedState(
            last_success=1.0, polls_total=3, error_streak=2, errors_total=5,
            last_error_kind="timeout", last_error="no complete response within 30 s",
            last_error_at=2.0, next_poll=4e9))
        await client.aclose()

    asyncio.run(seed())
    result = CliRunner().invoke(feeds_group, ["list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["ID", "STATE", "LAST", "SUCCESS", "LAST", "ERROR", "ERRORS",
                                "NEXT", "POLL", "WEBSUB"]
    alpha = next(line for line in lines if line.startswith("alpha"))
    assert "failing" in alpha and "timeout: no complete response" in alpha and "2/5" in alpha
    beta = next(line for line in lines if line.startswith("beta"))
    assert "never polled" in beta and beta.endswith(" none")  # no WebSub subscription


def test_export_then_import_round_trips(env: Path, redis_server: RedisProcess,
                                        tmp_path: Path) -> None:
    runner = CliRunner()
    exported = runner.invoke(feeds_group, ["export"])
    assert exported.exit_code == 0, exported.output
    assert exported.output.count("<outline") == 2 and 'xmlUrl="https://alpha.example.org/rss"' \
        in exported.output
    opml = tmp_path / "feeds.opml"
    opml.write_text(exported.output, encoding="utf-8")
    feeds = read_opml(opml)
    assert [(f.name, f.url, f.language, f.region_hints) for f in feeds] == [
        ("Alpha News", "https://alpha.example.org/rss", "en", ("ukraine",)),
        ("Beta", "https://beta.example.org/atom", "", ())]
    printed = runner.invoke(feeds_group, ["import", str(opml), "--print"])
    assert printed.exit_code == 0 and "alpha-news" in printed.output
    # Importing into Redis goes through the URL guard: an internal URL is refused.
    (tmp_path / "bad.opml").write_text(write_opml([
        FeedConfig(id="local", url="http://127.0.0.1:8080/feed", name="Local"),
        FeedConfig(id="meta", url="http://169.254.169.254/", name="Meta"),
    ]), encoding="utf-8")
    result = runner.invoke(feeds_group, ["import", str(tmp_path / "bad.opml")])
    assert result.exit_code == 0, result.output
    assert "imported 0 of 2" in result.output and "loopback" in result.output

    async def stored() -> int:
        client = make_client(redis_server.url)
        n = int(await client.hlen(RUNTIME_FEEDS))
        await client.aclose()
        return n

    assert asyncio.run(stored()) == 0


def test_bad_feeds_file_names_key_and_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    (tmp_path / "feeds.yaml").write_text(
        "feeds:\n  - {id: ok, url: 'ftp://x.org/feed', name: X}\n", encoding="utf-8")
    monkeypatch.setenv("CONFIG_DIR", str(tmp_path))
    result = CliRunner().invoke(feeds_group, ["export"])
    assert result.exit_code != 0
    assert "feeds.yaml" in result.output and "feeds.0.url" in result.output
    assert "ftp://x.org/feed" in result.output


def test_shipped_feeds_file_is_valid_and_multilingual() -> None:
    path = Path(__file__).resolve().parents[3] / "config" / "feeds.yaml"
    feeds = load_feeds(path)
    langs = {f.language for f in feeds}
    assert {"en", "ru", "uk", "ar", "fr", "es", "pl", "tr"} <= langs
    assert len(feeds) >= 40 and all(f.url.startswith("https://") for f in feeds)


async def test_check_fetches_each_feed_once_and_tabulates() -> None:
    async with FeedServer() as server:
        server.dynamic["ok"] = rss_with([("1", "One"), ("2", "Two")])
        feeds = [FeedConfig(id="good", url=server.url("/dyn/ok"), name="Good"),
                 FeedConfig(id="page", url=server.url("/html"), name="Page"),
                 FeedConfig(id="gone", url=server.url("/status/410"), name="Gone")]
        rows = await check_feeds(feeds, tuning(fetch_timeout_s=5))
    table = {r[0]: r for r in rows[1:]}
    assert table["good"][1:4] == ["ok", "200", "2"]
    assert table["page"][1] == "not_a_feed"
    assert table["gone"][1:3] == ["http_status", "410"]
    assert sum(server.hits.values()) == 3
