"""CPU time and peak RSS of live processes, read from /proc (Linux), for the benchmarks."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU seconds of one process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid: int | str = "self") -> float:
    """Peak resident set size (VmHWM) of one process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def private_mib(pid: int | str = "self") -> float:
    """Memory only this process holds (Private_Clean + Private_Dirty), in MiB, now.

    What a forked worker adds: its RSS counts the pages it shares with its parent too.
    """
    total = 0
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                total += int(line.split()[1])
    return total / 1024


def descendants(pid: int) -> list[int]:
    """``pid`` and every live process below it (parse workers, the forkserver)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                todo.extend(int(c) for c in task.read_text().split())
    return out
