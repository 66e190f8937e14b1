"""Per-process resources read from Linux's /proc, for the load benchmark: a process and its
descendants, resident memory, open files, open sockets. psutil would do the same but is not a
dependency of the project (nor installed in its environment); these four numbers do not need it.

Connections are counted as the process's file descriptors that are sockets: TCP connections to
clients, to Postgres and to the Chroma server, plus listening and unix sockets — a number that
must stay flat at steady load, which is what the soak checks."""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")
PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20


def _parent_of(pid: int) -> int | None:
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (2nd field) is in parentheses and may hold spaces: split after it.
    return int(stat.rsplit(")", 1)[1].split()[1])


def tree(pid: int) -> list[int]:
    """`pid` and all its descendants alive now."""
    parents = {int(p.name): _parent_of(int(p.name)) for p in PROC.iterdir() if p.name.isdigit()}
    found, frontier = [pid], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def rss_mb(pid: int) -> float:
    return int((PROC / str(pid) / "statm").read_text().split()[1]) * PAGE_MB


def open_files(pid: int) -> int:
    return len(os.listdir(PROC / str(pid) / "fd"))


def sockets(pid: int) -> int:
    count = 0
    for fd in os.listdir(PROC / str(pid) / "fd"):
        try:
            count += os.readlink(PROC / str(pid) / "fd" / fd).startswith("socket:")
        except OSError:  # closed between listing and reading
            pass
    return count


def command(pid: int) -> str:
    return (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
