"""CPU time the bench's processes spend, read from /proc/<pid>/stat: a figure a loaded
machine moves far less than rates and latencies (another process's load delays each
process's work more than it adds to it), so a change's cost shows in it from run to run."""

from __future__ import annotations

import os
from pathlib import Path

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User and system time of the process so far (its threads included)."""
    # Fields after the command name, which may hold spaces: utime and stime are 14th and 15th.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_SECOND


def pid_of(*markers: str) -> int:
    """The one running process whose command line holds every marker."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # ended meanwhile
        if all(marker in command for marker in markers):
            found.append(int(entry.name))
    if len(found) != 1:
        raise RuntimeError(f"{len(found)} processes match {markers}")
    return found[0]


def temporal_server_pid(address: str) -> int:
    """The Temporal dev server listening at `address` (host:port), started by bench/stack.py."""
    return pid_of("temporal server start-dev", f"--port {address.rsplit(':', 1)[1]} ")


class CpuMeter:
    """CPU milliseconds each named process spends between `start` and `per`, per unit of work."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self._at_start: dict[str, float] = {}

    def start(self) -> None:
        self._at_start = {name: cpu_seconds(pid) for name, pid in self.pids.items()}

    def per(self, count: int) -> dict[str, float]:
        return {name: (cpu_seconds(pid) - self._at_start[name]) * 1000 / count
                for name, pid in self.pids.items()}
