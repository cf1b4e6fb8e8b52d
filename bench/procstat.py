"""CPU time of process trees, read from /proc (Linux), for the benchmarks that count what
our own processes used on a machine other work shares."""
from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")


def cpu_by_pid(roots) -> dict[int, float]:
    """CPU seconds used so far by each of `roots` and their descendants, by pid (empty
    where /proc is absent)."""
    if not PROC.is_dir():
        return {}
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.scandir(PROC):
        if not entry.name.isdigit():
            continue
        try:
            with open(entry.path + "/stat") as file:
                stat = file.read()
        except OSError:  # the process ended meanwhile
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        parents[int(entry.name)] = int(fields[1])
        used[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    wanted = set(roots)
    for pid in sorted(used):  # a child's pid is usually larger than its parent's
        if pid in wanted or parents.get(pid) in wanted:
            wanted.add(pid)
    return {pid: used[pid] for pid in wanted if pid in used}
