"""Failover: the Redis primary SIGKILLed under load; every role follows the promoted replica.

A primary, a replica and three sentinels (quorum 2) on 127.0.0.1; the service as four
processes given only ``REDIS_SENTINELS``; reports keep arriving while the primary is killed
(testkit/failover.py). Every role must carry on against the new primary without a
restart, no report may be lost, and no chat may get one violation more than twice (ideally
once). The figures are printed; ``python -m bench.failover`` compares runs with WAIT off.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from testkit.failover import PROCESSES, ROLES, run_failover
from testkit.sentinels import SentinelCluster


@pytest.mark.timeout(900)  # start-up, failover and drain each wait up to minutes
async def test_primary_killed_under_load_every_role_follows(
    sentinel_cluster: SentinelCluster, tmp_path: Path
) -> None:
    report = await run_failover(sentinel_cluster, tmp_path)
    print("\n" + "\n".join(report.lines()))
    figures = report.figures
    assert not report.exited, f"a process died instead of following: {report.exited}"
    assert set(report.follow) >= set(ROLES), f"roles not seen on the new primary: {report.follow}"
    assert report.bot_ok, "the bot did not apply /subscribe on the new primary"
    assert report.ready_again, "/readyz did not become ready again after the failover"
    assert report.done, f"not drained or not delivered: {figures.line()}"
    assert figures.articles_lost == 0, figures.line()
    assert figures.messages_lost == 0, figures.line()
    # A send whose marker died with the primary may repeat once, never more.
    assert figures.max_per_link <= 2, figures.line()
    assert report.codes == dict.fromkeys(PROCESSES, 0), report.codes
