"""Running ``ceasefire-watch`` as a child process in tests (not a test module)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from testkit.pipeline import REPO

CLI = [sys.executable, "-c", "from core.cli import main; main()"]


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Environment for a child: our DATA_DIR, no Redis URL or bot token unless given."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("REDIS_", "TELEGRAM_", "CONFIG_DIR", "HEALTH_"))}
    env.update({"DATA_DIR": str(tmp_path / "data"), "LOG_FORMAT": "console",
                "LOG_LEVEL": "INFO"})
    env.update(extra)
    return env


def run_cli(
    args: list[str], env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the CLI to completion; return its result (stdout and stderr as text)."""
    return subprocess.run([*CLI, *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


@contextlib.asynccontextmanager
async def cli_process(args: list[str], env: dict[str, str], log: Path
                      ) -> AsyncIterator[subprocess.Popen[bytes]]:
    """Start the CLI in the background (output appended to ``log``); SIGKILL it if still running."""
    with log.open("ab") as out:
        proc = subprocess.Popen([*CLI, *args], cwd=REPO, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        await asyncio.to_thread(proc.wait, 30)


def redis_servers_in(folder: Path) -> list[int]:
    """Pids of every redis-server running in ``folder`` (its --dir), on this machine."""
    want = os.path.realpath(folder)
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if b"redis-server" in cmdline and os.path.realpath(cwd) == want:
            pids.append(int(entry.name))
    return pids
