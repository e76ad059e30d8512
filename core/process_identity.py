"""Who a process is, precisely enough for another process on the same host to tell it has died."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def start_time(pid: int) -> str:
    """Return the start time of ``pid`` in clock ticks since boot ("" if no such process).

    A pid can be reused; the pair (pid, start time) cannot, within one boot.
    """
    stat = _read(f"/proc/{pid}/stat")
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else ""


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


@dataclass(frozen=True)
class ProcessId:
    """Host, kernel boot, pid namespace, pid and start time of one process."""

    host: str
    boot: str
    pidns: str
    pid: int
    started: str

    @classmethod
    def current(cls) -> ProcessId:
        """Return the identity of this process."""
        pid = os.getpid()
        return cls(socket.gethostname(), _read("/proc/sys/kernel/random/boot_id"),
                   _pid_namespace(), pid, start_time(pid))

    def encode(self) -> str:
        """Return the identity as one string (no field holds a '|')."""
        return f"{self.host}|{self.boot}|{self.pidns}|{self.pid}|{self.started}"

    @classmethod
    def decode(cls, text: str) -> ProcessId | None:
        """Parse :meth:`encode`'s output (extra trailing fields are ignored); None if malformed."""
        parts = text.split("|")
        if len(parts) < 5 or not parts[3].isdigit():
            return None
        return cls(parts[0], parts[1], parts[2], int(parts[3]), parts[4])

    def is_dead(self) -> bool:
        """True only when this process provably no longer runs.

        That takes the same host, kernel boot and pid namespace as ours (so its pid means the
        same thing here) and its pid gone or reused; anything less is treated as alive.
        """
        me = ProcessId.current()
        if not (self.boot and self.pidns and self.started):
            return False
        if (self.host, self.boot, self.pidns) != (me.host, me.boot, me.pidns):
            return False
        return start_time(self.pid) != self.started
