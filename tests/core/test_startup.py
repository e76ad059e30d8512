"""Start-up that can never succeed: one line and exit 1. A signal during start-up: a drain."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from redis.asyncio import Redis

from core.config_files import default_config_dir, effective_config_dir, missing_config_files
from core.lifecycle import EarlySignals, FatalError, RoleContext, run_roles
from core.redis_conn import RedisProcess, StartupError, free_port, make_client
from core.settings import Settings
from testkit.waiting import wait_until
from tests.core.cli_process import cli_env, cli_process, run_cli

PASSWORD = "s3cret-Pa55word"


def one_line_error(out: subprocess.CompletedProcess[str]) -> str:
    """Assert exit 1 with no traceback; return the last line of stderr (the error)."""
    assert out.returncode == 1, out.stderr[-3000:]
    assert "Traceback" not in out.stderr, out.stderr[-3000:]
    return out.stderr.strip().splitlines()[-1]


@pytest.fixture
def locked_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    """A private server that requires a password."""
    server = RedisProcess(tmp_path / "locked", appendonly=False)
    server.start()

    async def lock() -> None:
        client = make_client(server.url)
        await client.config_set("requirepass", PASSWORD)
        await client.aclose()

    asyncio.run(lock())
    yield server
    server.stop()


def test_redis_silent_at_start_exits_one_after_the_bounded_wait(tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    env = cli_env(tmp_path, REDIS_URL=url, REDIS_START_WAIT_S="1")
    line = one_line_error(run_cli(["run", "--roles", "health"], env))
    assert line.startswith(f"ceasefire-watch: Redis at {url} unreachable for 1s at start-up")


@pytest.mark.parametrize("userinfo", [":wrong-Pa55word@", ""])
def test_refused_credentials_exit_at_once(
    tmp_path: Path, locked_redis: RedisProcess, userinfo: str
) -> None:
    url = locked_redis.url.replace("//", f"//{userinfo}")
    # An hour's start-up wait: only failing at once lets this finish within run_cli's timeout.
    env = cli_env(tmp_path, REDIS_URL=url, REDIS_START_WAIT_S="3600")
    out = run_cli(["run", "--roles", "health"], env)
    line = one_line_error(out)
    assert "refused the credentials" in line
    assert "wrong-Pa55word" not in out.stderr


def test_the_right_password_starts(tmp_path: Path, locked_redis: RedisProcess) -> None:
    url = locked_redis.url.replace("//", f"//:{PASSWORD}@")
    out = run_cli(["feeds", "list"], cli_env(tmp_path, REDIS_URL=url))
    assert out.returncode == 0, out.stderr[-2000:]
    assert PASSWORD not in out.stderr + out.stdout


@pytest.mark.parametrize("url", ["localhost:6379", "redis://:pw@127.0.0.1:notaport/0",
                                 "redis://127.0.0.1:6379/zero"])
def test_malformed_redis_url_is_one_line(tmp_path: Path, url: str) -> None:
    out = run_cli(["run", "--roles", "health"], cli_env(tmp_path, REDIS_URL=url))
    line = one_line_error(out)
    assert line.startswith("ceasefire-watch: REDIS_URL ") and "is not valid" in line
    assert ":pw@" not in out.stderr
    listed = run_cli(["feeds", "list"], cli_env(tmp_path, REDIS_URL=url))
    assert listed.returncode == 1 and "Traceback" not in listed.stderr
    assert "is not valid" in listed.stderr.strip().splitlines()[-1]


async def test_role_that_can_never_run_stops_the_process(
    redis: Redis, redis_server: RedisProcess, tmp_path: Path
) -> None:
    stopped: list[str] = []
    idle_up = asyncio.Event()
    tries: list[int] = []

    async def broken(ctx: RoleContext) -> None:
        tries.append(1)
        await idle_up.wait()
        raise FatalError("the Bot API rejected TELEGRAM_BOT_TOKEN")

    async def idle(ctx: RoleContext) -> None:
        idle_up.set()
        await ctx.stop.wait()
        stopped.append(ctx.name)

    settings = Settings(redis_url=redis_server.url, data_dir=tmp_path, health_port=free_port())
    with pytest.raises(StartupError, match="role broken cannot run: the Bot API rejected"):
        await asyncio.wait_for(run_roles(settings, [("broken", broken), ("idle", idle)],
                                         install_signals=False), 60)
    assert stopped == ["idle"]  # the other role drained
    assert tries == [1]  # and the broken one was not restarted in a loop


async def test_sigterm_before_the_loop_listens_drains_and_exits_zero(
    redis: Redis, redis_server: RedisProcess, tmp_path: Path
) -> None:
    ran: list[str] = []

    async def role(ctx: RoleContext) -> None:
        ran.append(ctx.name)
        await ctx.stop.wait()

    early = EarlySignals().install()
    try:
        signal.raise_signal(signal.SIGTERM)  # lands "during imports": recorded, not fatal
        assert early.received == signal.SIGTERM
        settings = Settings(redis_url=redis_server.url, data_dir=tmp_path)
        assert await asyncio.wait_for(run_roles(settings, [("r", role)], early=early), 60) == 0
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    assert ran == []


def test_config_dir_with_only_feeds_falls_back_per_file(tmp_path: Path) -> None:
    own = tmp_path / "conf"
    own.mkdir()
    (own / "feeds.yaml").write_text(yaml.safe_dump({"feeds": []}))
    missing = missing_config_files(own)
    assert "feeds.yaml" not in missing
    assert {"regions.yaml", "lexicons/en.yaml", "classifier_params.yaml"} <= set(missing)
    with effective_config_dir(own) as folder:
        assert (folder / "feeds.yaml").resolve() == (own / "feeds.yaml").resolve()
        assert (folder / "lexicons" / "en.yaml").read_text() == (
            default_config_dir() / "lexicons" / "en.yaml").read_text()
    assert not folder.exists()
    with effective_config_dir(default_config_dir()) as folder:
        assert folder == default_config_dir()


async def test_run_with_only_feeds_yaml_in_config_dir_classifies(
    redis: Redis, redis_server: RedisProcess, tmp_path: Path
) -> None:
    own = tmp_path / "conf"
    own.mkdir()
    (own / "feeds.yaml").write_text(yaml.safe_dump({"feeds": []}))
    env = cli_env(tmp_path, REDIS_URL=redis_server.url, CONFIG_DIR=str(own))
    log = tmp_path / "run.log"
    async with cli_process(["run", "--roles", "classifier"], env, log) as proc:

        async def up() -> bool:
            beats = await redis.hkeys("cw:heartbeats")
            return any(str(b).startswith("classifier/") for b in beats)

        assert await wait_until(up, timeout=90), log.read_text()[-3000:]
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(proc.wait, 60) == 0
    text = log.read_text()
    assert "packaged defaults for classifier_params.yaml, lexicons/ (10 files)" not in text or \
        "from" in text
    assert "packaged defaults for" in text and "lexicons/" in text




def _crash_looping(log: Path) -> bool:
    return "crashed; restarting" in log.read_text()


async def _exits_or_crash_loops(args: list[str], env: dict[str, str], log: Path) -> int | None:
    """Run the CLI until it exits (its code) or logs a role crash-restart (None)."""
    async with cli_process(args, env, log) as proc:

        async def settled() -> bool:
            return proc.poll() is not None or _crash_looping(log)

        assert await wait_until(settled, timeout=90)
        return proc.poll()


async def test_rejected_bot_token_is_one_line_and_exit_one(
    redis: Redis, redis_server: RedisProcess, tmp_path: Path
) -> None:
    from testkit.botapi.emulator import BotAPIEmulator

    async with BotAPIEmulator("111:right-token-right-token-right-token") as emulator:
        env = cli_env(tmp_path, REDIS_URL=redis_server.url, TELEGRAM_API_URL=emulator.url,
                      TELEGRAM_BOT_TOKEN="222:wrong-token-wrong-token-wrong-token")
        log = tmp_path / "run.log"
        code = await _exits_or_crash_loops(["run", "--roles", "notifier,bot"], env, log)
    text = log.read_text()
    assert code == 1, text[-3000:]
    assert "Traceback" not in text and "wrong-token" not in text
    assert "rejected TELEGRAM_BOT_TOKEN" in text.strip().splitlines()[-1]


async def test_too_short_webhook_secret_is_one_line_and_exits(
    redis: Redis, redis_server: RedisProcess, tmp_path: Path
) -> None:
    from testkit.botapi.emulator import BotAPIEmulator

    token = "111:right-token-right-token-right-token"
    async with BotAPIEmulator(token) as emulator:
        env = cli_env(tmp_path, REDIS_URL=redis_server.url, TELEGRAM_BOT_TOKEN=token,
                      TELEGRAM_API_URL=emulator.url, TELEGRAM_WEBHOOK_URL="https://example.org/h",
                      TELEGRAM_WEBHOOK_SECRET="short")
        log = tmp_path / "run.log"
        code = await _exits_or_crash_loops(["run", "--roles", "bot"], env, log)
    text = log.read_text()
    assert code in (1, 2), text[-3000:]
    assert "Traceback" not in text
    assert "secret" in text.strip().splitlines()[-1]
