"""Scale-out: three classifier processes on one stream: each article once, none lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from redis.asyncio import Redis

from core.keys import ALERTS, ARTICLES
from core.models import Alert, decode
from core.redis_conn import RedisProcess
from core.streams import publish, read_range, stream_stats
from testkit.messages import article
from testkit.waiting import wait_until

CLI = [sys.executable, "-c", "from core.cli import main; main()"]


def start_role(role: str, url: str, tmp: Path, n: int) -> tuple[subprocess.Popen[bytes], Path]:
    """Start ``ceasefire-watch run --roles ROLE`` as a child; return it and its log file."""
    log_path = tmp / f"{role}-{n}.log"
    env = {
        **os.environ, "REDIS_URL": url, "DATA_DIR": str(tmp / f"data-{n}"),
        "LOG_FORMAT": "json", "LOG_LEVEL": "INFO", "TELEGRAM_BOT_TOKEN": "",
    }
    with log_path.open("wb") as log:
        proc = subprocess.Popen([*CLI, "run", "--roles", role], env=env, stderr=log)
    return proc, log_path


async def test_three_classifiers_classify_each_article_once(
    redis: Redis, redis_server: RedisProcess, tmp_path: Path
) -> None:
    total = 300
    procs = [start_role("classifier", redis_server.url, tmp_path, n) for n in range(3)]
    try:

        async def all_up() -> bool:
            beats = await redis.hkeys("cw:heartbeats")
            return sum(1 for b in beats if str(b).startswith("classifier/")) == 3

        assert await wait_until(all_up, timeout=60), "classifier processes did not start"
        for i in range(total):
            base = article(i)
            await publish(redis, ARTICLES, base.model_copy(update={
                "title": f"Shelling hits Donetsk suburb {i} despite ceasefire",
                "summary": "Officials said artillery struck homes hours after the truce began.",
                "lang": "en",
            }))

        async def drained() -> bool:
            stats = await stream_stats(redis, ARTICLES, "classifiers")
            return stats.lag == 0 and stats.pending == 0

        assert await wait_until(drained, timeout=60)
    finally:
        for proc, _ in procs:
            proc.send_signal(signal.SIGTERM)
        codes = [proc.wait(30) for proc, _ in procs]
    assert codes == [0, 0, 0]
    alerts = [decode(fields, Alert) for _, fields in await read_range(redis, ALERTS)]
    assert sorted(a.id for a in alerts) == sorted(f"a{i}" for i in range(total))
    assert {a.label for a in alerts} == {"violation"}
    shares = []
    for _, log_path in procs:
        lines = [json.loads(ln) for ln in log_path.read_text().splitlines() if ln.startswith("{")]
        shares.append(sum(1 for rec in lines if str(rec.get("event", "")).startswith("article ")))
    # Exactly once between them, nothing lost. How the work splits is up to the scheduler: a
    # process that starts late on a busy machine may find the stream already drained.
    assert sum(shares) == total, shares
