"""CONFIG_DIR overlays the packaged config per file; FEEDS_FILE, run --feeds, run --help."""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from redis.asyncio import Redis

from core.config_files import (
    ConfigError,
    config_file,
    default_config_dir,
    effective_config_dir,
    real_config_paths,
)
from core.redis_conn import RedisProcess, free_port
from core.settings import load_settings
from core.settings_help import environment_variables
from testkit.feeds import FeedItem, FeedServer
from testkit.pipeline import readyz
from testkit.waiting import wait_until
from tests.core.cli_process import cli_env, cli_process, run_cli
from tests.core.test_settings import documented_settings


def feeds_yaml(path: Path, *feeds: tuple[str, str]) -> Path:
    """Write a feeds list of (id, url) to ``path`` and return it."""
    path.write_text(yaml.safe_dump({"feeds": [
        {"id": fid, "url": url, "name": fid.title()} for fid, url in feeds]}))
    return path


def test_a_file_in_config_dir_wins_and_a_missing_one_comes_from_the_package(
    tmp_path: Path,
) -> None:
    (tmp_path / "regions.yaml").write_text("regions: []\n")
    assert config_file(tmp_path, "regions.yaml") == tmp_path / "regions.yaml"
    assert config_file(tmp_path, "lexicons/en.yaml") == default_config_dir() / "lexicons/en.yaml"
    own = feeds_yaml(tmp_path / "mine.yaml", ("a", "https://example.org/a.xml"))
    assert config_file(tmp_path, "feeds.yaml", own) == own
    assert config_file(tmp_path, "regions.yaml", own) == tmp_path / "regions.yaml"


def test_overlay_folder_takes_feeds_file_and_keeps_the_rest(tmp_path: Path) -> None:
    own = feeds_yaml(tmp_path / "mine.yaml", ("a", "https://example.org/a.xml"))
    conf = tmp_path / "conf"
    (conf / "lexicons").mkdir(parents=True)
    # A file the package does not have (a language of one's own) is part of the overlay too.
    (conf / "lexicons" / "xx.yaml").write_text("# mine\n")
    (conf / "feeds.yaml").write_text("feeds: []\n")  # FEEDS_FILE wins over it
    with effective_config_dir(conf, own) as folder:
        assert (folder / "feeds.yaml").read_text() == own.read_text()
        assert (folder / "lexicons" / "xx.yaml").read_text() == "# mine\n"
        assert (folder / "lexicons" / "en.yaml").read_text() == (
            default_config_dir() / "lexicons" / "en.yaml").read_text()
        assert real_config_paths(f"{folder / 'feeds.yaml'}: bad") == f"{own.resolve()}: bad"
    assert not folder.exists()
    # The packaged folder with a feeds file of one's own: only feeds.yaml changes.
    with effective_config_dir(default_config_dir(), own) as folder:
        assert (folder / "feeds.yaml").resolve() == own.resolve()
        assert (folder / "regions.yaml").resolve() == (
            default_config_dir() / "regions.yaml").resolve()


def test_missing_feeds_file_or_config_dir_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml: file not found \(FEEDS_FILE\)"), \
            effective_config_dir(default_config_dir(), tmp_path / "nope.yaml"):
        pass
    with pytest.raises(ConfigError, match=r"absent: no such folder \(CONFIG_DIR\)"), \
            effective_config_dir(tmp_path / "absent"):
        pass


def test_feeds_file_is_a_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEEDS_FILE", str(tmp_path / "mine.yaml"))
    assert load_settings().feeds_file == tmp_path / "mine.yaml"


def test_run_help_lists_every_environment_variable() -> None:
    listed = dict(environment_variables())
    assert sorted(listed) == sorted(env for env, _, _ in documented_settings())
    result = run_cli(["run", "--help"], cli_env(Path("/nonexistent")))
    assert result.returncode == 0, result.stderr
    assert "--feeds FILE" in result.stdout
    # Click may wrap a long name onto a line of its own; every one appears, at a line start.
    shown = {line.split()[0] for line in result.stdout.splitlines()
             if line.startswith("  ") and line.split()}
    for env in listed:
        assert env in shown, f"run --help lacks {env}"
    assert "LOG_LEVEL" in result.stdout and "one of DEBUG, INFO" in result.stdout


def test_run_with_a_missing_feeds_file_is_one_line_naming_it(tmp_path: Path) -> None:
    result = run_cli(["run", "--roles", "poller", "--feeds", str(tmp_path / "nope.yaml")],
                     cli_env(tmp_path))
    assert result.returncode == 2
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert lines[-1] == (f"ceasefire-watch: configuration error: {tmp_path / 'nope.yaml'}: "
                         "file not found (FEEDS_FILE)")


def test_run_with_a_bad_feeds_file_names_that_file(tmp_path: Path) -> None:
    bad = feeds_yaml(tmp_path / "bad.yaml", ("bad", "ftp://example.org/rss"))
    result = run_cli(["run", "--roles", "poller"], cli_env(tmp_path, FEEDS_FILE=str(bad)))
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ceasefire-watch: configuration error: ")
    # The user's file, not its link in the temporary overlay folder.
    assert f"{bad.resolve()}: invalid value for 'feeds.0.url'" in last, last


async def test_run_feeds_polls_that_list_and_readyz_counts_it(
    redis: Redis, redis_server: RedisProcess, tmp_path: Path
) -> None:
    async with FeedServer() as server:
        server.add("mine", FeedItem("m1", "Talks resume", "Nothing to report.",
                                    "https://example.org/m1", datetime.now(UTC)))
        own = feeds_yaml(tmp_path / "mine.yaml", ("mine", server.feed_url("mine")))
        port = free_port()
        env = cli_env(tmp_path, REDIS_URL=redis_server.url, HEALTH_PORT=str(port))
        log = tmp_path / "run.log"
        async with cli_process(["run", "--roles", "poller,health", "--feeds", str(own)],
                               env, log) as proc:
            assert await wait_until(lambda: server.requests > 0, timeout=90), \
                log.read_text()[-3000:]

            async def counted() -> bool:
                return (await readyz(port))[1].get("summary") == "0 of 1 feeds failing"

            # One feed, not the 64 packaged ones: the list given replaced feeds.yaml.
            assert await wait_until(counted, timeout=30), (await readyz(port), log.read_text())
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(proc.wait, 60) == 0
    assert "feeds from" in log.read_text() and "(FEEDS_FILE)" in log.read_text()



def test_settings_name_the_feeds_list_in_use(tmp_path: Path) -> None:
    assert load_settings(config_dir=tmp_path).feeds_path() == default_config_dir() / "feeds.yaml"
    (tmp_path / "feeds.yaml").write_text("feeds: []\n")
    assert load_settings(config_dir=tmp_path).feeds_path() == tmp_path / "feeds.yaml"
    own = tmp_path / "mine.yaml"
    assert load_settings(config_dir=tmp_path, feeds_file=own).feeds_path() == own
